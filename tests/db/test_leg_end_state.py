"""The one rule for the state an adviser's leg ends in, whoever ends it: the dial result or the
leg's own status (`calls.ringing.dial_ended`), the call's end (`calls.service.call_ended`), or the
settle-calls job (`calls.settle`)."""

from __future__ import annotations

import pytest

from calls.service import leg_end_state


@pytest.mark.parametrize(
    ("state", "how", "ends"),
    [
        # Accepted: a conversation, over; unless nobody can say how it ended.
        ("accepted", "no-answer", "completed"),
        ("accepted", "caller-gone", "completed"),
        ("accepted", "unknown", "unknown"),
        # Still ringing or screening: however it ended.
        ("ringing", "busy", "busy"),
        ("ringing", "no-answer", "no-answer"),
        ("screening", "caller-gone", "caller-gone"),
        ("screening", "unknown", "unknown"),
        # Already over: it keeps saying so.
        ("declined", "no-answer", "declined"),
        ("declined", "unknown", "declined"),
        ("cancelled", "caller-gone", "cancelled"),
        ("completed", "unknown", "completed"),
    ],
)
def test_the_state_a_leg_ends_in(state: str, how: str, ends: str) -> None:
    assert leg_end_state(state, how) == ends
