"""The TwiML Bins the README asks a council to install as each number's "Primary handler
fails": well-formed TwiML that apologises, takes a message, and thanks the caller."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from tests.factories import make_settings

ROOT = Path(__file__).resolve().parents[2]
FALLBACK = ROOT / "deploy/twilio-fallback.xml"
THANKS = ROOT / "deploy/twilio-thanks.xml"


def test_the_fallback_bin_apologises_and_records_a_message_then_goes_to_the_thanks_bin() -> None:
    root = ET.parse(FALLBACK).getroot()

    assert root.tag == "Response"
    assert [child.tag for child in root] == ["Say", "Say", "Record"]
    assert "leave a message" in (root[1].text or "")
    record = root[2]
    assert int(record.get("maxLength", "0")) >= 60
    assert record.get("action") == "URL-OF-THE-THANKS-BIN"  # the README says to replace it


def test_the_fallback_bin_says_what_the_answer_machine_says_by_default() -> None:
    # The bin is fixed text: it keeps in step with the default configuration, and the README
    # asks a council that changes its privacy notice or signposting to change the bin too.
    spoken = " ".join(say.text or "" for say in ET.parse(FALLBACK).getroot().iter("Say"))
    settings = make_settings()

    assert settings.answer_machine.privacy_notice in spoken
    for place in settings.answer_machine.signposting:
        assert place.name in spoken and place.number in spoken


def test_the_thanks_bin_thanks_the_caller_and_hangs_up() -> None:
    root = ET.parse(THANKS).getroot()

    assert root.tag == "Response"
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert "call you back" in (root[0].text or "")


def test_the_readme_names_both_bins() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    assert "deploy/twilio-fallback.xml" in readme and "deploy/twilio-thanks.xml" in readme
