"""Settings: the defaults, a deployment's TOML merged over them, and secrets from the environment.

Every test passes its own environment mapping, so nothing from the real environment leaks in.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import time
from pathlib import Path

import pytest

from helpline import settings as settings_module
from helpline.settings import DEMO_AUTH_TOKEN, ConfigError, Settings, merge
from tests.constants import PARENT

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
NINE_TO_FIVE = ((time(9, 0), time(17, 0)),)
NINE_TO_HALF_FOUR = ((time(9, 0), time(16, 30)),)
ALL_DAY = ((time(0, 0), time(23, 59)),)

# A whole, valid [offices] table; the bad-config cases below each spoil one part of it.
OFFICES = """
[offices.herefordshire]
name = "Herefordshire"
numbers = ["+441432000000"]
fallback = ["worcestershire"]

[offices.herefordshire.hours]
mon = ["09:00-17:00"]

[offices.worcestershire]
name = "Worcestershire"
numbers = ["+441905000000"]
fallback = ["herefordshire"]

[offices.worcestershire.hours]
mon = ["09:00-17:00"]
"""


def load(**env: str) -> Settings:
    return settings_module.load(env)


def with_config(tmp_path: Path, text: str, **env: str) -> Settings:
    """Settings with `text` as the HELPLINE_CONFIG file."""
    path = tmp_path / "helpline.toml"
    path.write_text(text, encoding="utf-8")
    return load(HELPLINE_CONFIG=str(path), **env)


# The defaults.


def test_defaults_have_both_county_offices_each_the_others_fallback() -> None:
    settings = load()

    assert list(settings.offices) == ["herefordshire", "worcestershire"]
    hereford, worcs = settings.offices["herefordshire"], settings.offices["worcestershire"]
    assert (hereford.name, worcs.name) == ("Herefordshire", "Worcestershire")
    assert hereford.fallback == ("worcestershire",)
    assert worcs.fallback == ("herefordshire",)
    assert hereford.numbers and worcs.numbers
    assert set(hereford.numbers).isdisjoint(worcs.numbers)
    assert settings.first_office is hereford


@pytest.mark.parametrize("key", ["herefordshire", "worcestershire"])
def test_default_hours_are_monday_to_friday_and_closed_at_the_weekend(key: str) -> None:
    hours = load().offices[key].hours

    assert {day: hours[day] for day in (MON, TUE, WED, THU)} == dict.fromkeys(
        (MON, TUE, WED, THU), NINE_TO_FIVE
    )
    assert hours[FRI] == NINE_TO_HALF_FOUR
    assert SAT not in hours and SUN not in hours


def test_defaults_use_london_time_and_englands_bank_holidays() -> None:
    settings = load()

    assert str(settings.timezone) == "Europe/London"
    assert settings.bank_holidays == "england"
    assert settings.callbacks.promise_working_days == 2
    assert settings.demo is False


def test_demo_opens_both_offices_all_day_every_day_with_no_bank_holidays() -> None:
    settings = load(HELPLINE_DEMO="1")

    assert settings.demo is True
    assert settings.bank_holidays == "none"
    assert list(settings.offices) == ["herefordshire", "worcestershire"]
    for office in settings.offices.values():
        assert dict(office.hours) == dict.fromkeys(range(7), ALL_DAY)


# HELPLINE_CONFIG merged over the defaults.


def test_a_config_changing_one_callback_setting_keeps_the_others_and_the_offices(
    tmp_path: Path,
) -> None:
    defaults = load()

    settings = with_config(tmp_path, "[callbacks]\npromise_working_days = 5\n")

    assert settings.callbacks == replace(defaults.callbacks, promise_working_days=5)
    assert settings.offices == defaults.offices
    assert settings.routing == defaults.routing
    assert settings.answer_machine == defaults.answer_machine


def test_a_nested_table_merges_key_by_key(tmp_path: Path) -> None:
    defaults = load()

    settings = with_config(
        tmp_path,
        '[service]\nname = "Test SENDIASS"\n\n[answer_machine]\nprivacy_notice = "Short."\n',
    )

    assert settings.service_name == "Test SENDIASS"
    assert settings.timezone == defaults.timezone
    assert settings.bank_holidays == defaults.bank_holidays
    assert settings.answer_machine.privacy_notice == "Short."
    assert settings.answer_machine.signposting == defaults.answer_machine.signposting
    assert settings.answer_machine.signposting  # the national helpline is still read out
    assert (
        settings.answer_machine.max_message_seconds == defaults.answer_machine.max_message_seconds
    )


def test_an_offices_table_replaces_the_default_offices_as_a_whole(tmp_path: Path) -> None:
    default_worcs_number = load().offices["worcestershire"].numbers[0]

    settings = with_config(
        tmp_path,
        """
        [offices.herefordshire]
        name = "Herefordshire"
        numbers = ["+441432000000"]

        [offices.herefordshire.hours]
        mon = ["09:00-17:00"]
        fri = ["13:30-16:30", "09:00-12:30"]
        """,
    )

    assert list(settings.offices) == ["herefordshire"]  # an office left out does not exist
    hereford = settings.offices["herefordshire"]
    assert hereford.numbers == ("+441432000000",)
    assert hereford.fallback == ()
    # a day left out is closed; several ranges a day are kept, in time order
    assert dict(hereford.hours) == {
        MON: NINE_TO_FIVE,
        FRI: ((time(9, 0), time(12, 30)), (time(13, 30), time(16, 30))),
    }
    assert settings.office_for_number(default_worcs_number) is None


def test_a_config_without_offices_over_the_demo_keeps_the_demo_offices(tmp_path: Path) -> None:
    settings = with_config(tmp_path, "[routing]\nring_seconds = 15\n", HELPLINE_DEMO="1")

    assert settings.routing.ring_seconds == 15
    assert dict(settings.offices["worcestershire"].hours) == dict.fromkeys(range(7), ALL_DAY)


def test_a_config_changing_one_database_wait_keeps_the_others(tmp_path: Path) -> None:
    defaults = load().database

    settings = with_config(tmp_path, "[database.web]\nlock_timeout_ms = 500\n")

    assert settings.database == replace(defaults, web=replace(defaults.web, lock_timeout_ms=500))
    assert defaults.web.statement_timeout_ms < defaults.background.statement_timeout_ms


def test_merge_leaves_its_inputs_unchanged() -> None:
    base = {"callbacks": {"max_attempts": 3, "warn_before_hours": 4}, "offices": {"a": {}}}
    over = {"callbacks": {"max_attempts": 5}, "offices": {"b": {}}}
    base_before, over_before = copy.deepcopy(base), copy.deepcopy(over)

    merged = merge(base, over)

    assert merged == {
        "callbacks": {"max_attempts": 5, "warn_before_hours": 4},
        "offices": {"b": {}},
    }
    assert (base, over) == (base_before, over_before)


# Bad configurations: a ConfigError naming the place.


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            'mon = ["09:00-17:00"]\n\n[offices.worcestershire]',
            'mon = ["9-5"]\n\n[offices.worcestershire]',
            ["offices.herefordshire.hours.mon", "'9-5'"],
            id="time range 9-5",
        ),
        pytest.param(
            'mon = ["09:00-17:00"]\n\n[offices.worcestershire]',
            'mon = ["17:00-09:00"]\n\n[offices.worcestershire]',
            ["offices.herefordshire.hours.mon", "'17:00-09:00'", "ends before it starts"],
            id="end before start",
        ),
        pytest.param(
            'mon = ["09:00-17:00"]\n\n[offices.worcestershire]',
            'monday = ["09:00-17:00"]\n\n[offices.worcestershire]',
            ["offices.herefordshire.hours", "'monday'"],
            id="unknown day",
        ),
        pytest.param(
            'fallback = ["worcestershire"]',
            'fallback = ["shropshire"]',
            ["offices.herefordshire.fallback", "'shropshire'"],
            id="fallback to an unknown office",
        ),
        pytest.param(
            '["+441432000000"]',
            '["01432 000000"]',
            ["offices.herefordshire.numbers", "'01432 000000'", "E.164"],
            id="number not in E.164",
        ),
    ],
)
def test_a_bad_office_is_refused_naming_the_place(
    tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    assert OFFICES.count(old) == 1
    with pytest.raises(ConfigError) as caught:
        with_config(tmp_path, OFFICES.replace(old, new))
    for fragment in expected:
        assert fragment in str(caught.value)


def test_the_valid_offices_template_loads(tmp_path: Path) -> None:
    """The template the bad-office cases spoil is itself fine, so each case tests one fault."""
    settings = with_config(tmp_path, OFFICES)
    assert settings.office_for_number("+441905000000") is settings.offices["worcestershire"]


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        pytest.param("[routing]\nring_secs = 30\n", ["[routing]", "ring_secs"], id="routing"),
        pytest.param(
            "[callbacks]\npromise_days = 3\n", ["[callbacks]", "promise_days"], id="callbacks"
        ),
        pytest.param(
            '[service]\ntimezone = "Europe/Hereford"\n',
            ["service.timezone", "Europe/Hereford"],
            id="unknown timezone",
        ),
        pytest.param(
            '[service]\nbank_holidays = "scotland"\n', ["service.bank_holidays"], id="holidays"
        ),
        pytest.param("[offices]\n", ["offices", "at least one"], id="no offices"),
        pytest.param(
            "[answer_machine]\nmax_mesage_seconds = 60\n",
            ["answer_machine", "max_mesage_seconds"],
            id="unknown answer_machine setting",
        ),
        pytest.param(
            '[[answer_machine.signposting]]\nname = "Someone"\n',
            ["signposting", "number"],
            id="signpost without a number",
        ),
        pytest.param(
            '[callbacks]\npromise_working_days = "two"\n',
            ["callbacks", "promise_working_days"],
            id="wrong type",
        ),
        pytest.param(
            '[service]\ntimezone = ""\n',
            ["service.timezone"],
            id="empty timezone",
        ),
        pytest.param(
            "[database.web]\nstatement_timeout = 5\n",
            ["[database.web]", "statement_timeout"],
            id="unknown database wait",
        ),
        pytest.param(
            '[database]\nconnect_timeout_seconds = "2"\n',
            ["[database].connect_timeout_seconds"],
            id="database wait not a number",
        ),
        pytest.param(
            "[database]\npool_size = 0\n",
            ["[database].pool_size", "1 or more"],
            id="a pool with no limit",
        ),
        pytest.param(
            "[retention]\nnumbers_days = 30\n",
            ["[retention]", "numbers_days"],
            id="unknown retention setting",
        ),
        pytest.param(
            "[retention]\nrecording_days = -1\n",
            ["[retention].recording_days"],
            id="negative retention",
        ),
        pytest.param(
            "[retention]\njob_run_days = 0\n",
            ["[retention].job_run_days", "1 or more"],
            id="no job runs kept",
        ),
        pytest.param(
            '[retention]\njob_run_days = "90"\n',
            ["[retention].job_run_days"],
            id="job run retention not a number",
        ),
    ],
)
def test_a_bad_setting_is_refused_naming_the_place(
    tmp_path: Path, toml: str, expected: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        with_config(tmp_path, toml)
    for fragment in expected:
        assert fragment in str(caught.value)


def test_a_missing_config_file_is_refused_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"

    with pytest.raises(ConfigError) as caught:
        load(HELPLINE_CONFIG=str(missing))

    assert str(missing) in str(caught.value)
    assert "no such" in str(caught.value)


def test_a_config_that_is_not_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[callbacks\npromise_working_days = 5\n", encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load(HELPLINE_CONFIG=str(path))

    assert str(path) in str(caught.value)
    assert "line 1" in str(caught.value)


# The environment.


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://helpline.example.test/", "https://helpline.example.test"),
        ("https://helpline.example.test", "https://helpline.example.test"),
        ("https://example.test/helpline/", "https://example.test/helpline"),
        ("", None),
    ],
)
def test_public_base_url_loses_its_trailing_slash(given: str, expected: str | None) -> None:
    assert load(PUBLIC_BASE_URL=given).public_base_url == expected


def test_without_public_base_url_it_is_none() -> None:
    assert load().public_base_url is None


@pytest.mark.parametrize("env", [{}, {"TWILIO_AUTH_TOKEN": ""}, {"HELPLINE_DEMO": ""}])
def test_without_an_auth_token_there_is_none_outside_the_demo(env: dict[str, str]) -> None:
    settings = load(**env)

    assert settings.twilio_auth_token is None
    assert settings.twilio_configured is False


def test_the_demo_without_an_auth_token_uses_the_published_demo_token() -> None:
    assert load(HELPLINE_DEMO="1").twilio_auth_token == DEMO_AUTH_TOKEN
    assert load(HELPLINE_DEMO="1", TWILIO_AUTH_TOKEN="").twilio_auth_token == DEMO_AUTH_TOKEN


def test_a_given_auth_token_is_used_demo_or_not() -> None:
    assert load(TWILIO_AUTH_TOKEN="t0k3n").twilio_auth_token == "t0k3n"
    assert load(TWILIO_AUTH_TOKEN="t0k3n", HELPLINE_DEMO="1").twilio_auth_token == "t0k3n"


def test_the_demo_never_places_real_calls_even_with_credentials() -> None:
    live = load(TWILIO_ACCOUNT_SID="AC123", TWILIO_AUTH_TOKEN="t0k3n")
    demo = load(TWILIO_ACCOUNT_SID="AC123", TWILIO_AUTH_TOKEN="t0k3n", HELPLINE_DEMO="1")

    assert live.twilio_configured is True
    assert demo.twilio_configured is False


def test_database_url_comes_from_the_environment() -> None:
    url = "postgresql+psycopg://user@db.example.test/helpline"
    assert load(DATABASE_URL=url).database_url == url
    assert load().database_url.startswith("sqlite:///")


# Finding an office by the number dialled.


def test_office_for_number_finds_the_office_listing_the_number() -> None:
    settings = load()
    hereford, worcs = settings.offices["herefordshire"], settings.offices["worcestershire"]

    assert settings.office_for_number(hereford.numbers[0]) is hereford
    assert settings.office_for_number(worcs.numbers[0]) is worcs


@pytest.mark.parametrize("number", [PARENT, "", "herefordshire"])
def test_office_for_number_is_none_for_a_number_no_office_lists(number: str) -> None:
    assert load().office_for_number(number) is None


# Secrets never show when settings are printed (a failing test puts them in CI logs).


def test_printing_the_settings_shows_no_secret_but_says_which_are_set() -> None:
    settings = load(
        DATABASE_URL="postgresql+psycopg://helpline:db-pass-w0rd@db.example.test:5432/helpline",
        TWILIO_ACCOUNT_SID="AC123",
        TWILIO_AUTH_TOKEN="twilio-t0ken",
        TWILIO_WEBHOOK_SHARED_KEY="shared-k3y",
        SECRET_KEY="sess10n-secret",
    )

    for shown in (repr(settings), str(settings), f"{settings}", repr([settings])):
        for secret in ("db-pass-w0rd", "twilio-t0ken", "shared-k3y", "sess10n-secret"):
            assert secret not in shown
        assert "db.example.test" in shown  # where the database is, still said
        assert "twilio_auth_token='<hidden>'" in shown
    assert "twilio_auth_token=None" in repr(load())
    # The values themselves are untouched.
    assert settings.twilio_auth_token == "twilio-t0ken"
    assert settings.database_url.endswith("helpline:db-pass-w0rd@db.example.test:5432/helpline")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:p%40ss@h:5432/d", "postgresql://u:***@h:5432/d"),
        (
            "postgresql://h/d?user=u&password=s3cret&sslmode=require",
            "postgresql://h/d?user=u&password=***&sslmode=require",
        ),
        ("postgresql://u@h/d", "postgresql://u@h/d"),
        ("sqlite:///instance/helpline.sqlite3", "sqlite:///instance/helpline.sqlite3"),
    ],
)
def test_a_printed_database_url_keeps_its_place_but_not_its_password(url: str, shown: str) -> None:
    assert f"database_url={shown!r}" in repr(load(DATABASE_URL=url))


def test_sign_in_through_a_provider_needs_its_address_and_client_id(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[oidc\]: enabled needs metadata_url"):
        with_config(tmp_path, '[oidc]\nenabled = true\nclient_id = "x"\n')

    assert not load().oidc.enabled


def test_the_number_of_trusted_proxies_is_a_setting(tmp_path: Path) -> None:
    assert load().web.trusted_proxies == 0
    assert with_config(tmp_path, "[web]\ntrusted_proxies = 1\n").web.trusted_proxies == 1
    with pytest.raises(ConfigError, match="trusted_proxies"):
        with_config(tmp_path, '[web]\ntrusted_proxies = "one"\n')


# Retention and the pseudonym key.


def test_retention_has_its_defaults_and_a_deployment_may_change_them(tmp_path: Path) -> None:
    defaults = load()
    assert (defaults.retention.recording_days, defaults.retention.number_days) == (180, 365)
    assert defaults.retention.unfiled_recording_days == 7
    changed = with_config(tmp_path, "[retention]\nnumber_days = 730\n")
    assert (changed.retention.number_days, changed.retention.recording_days) == (730, 180)
    assert (defaults.retention.job_run_days, changed.retention.job_run_days) == (90, 90)


def test_the_pseudonym_key_comes_from_the_environment_and_is_never_shown() -> None:
    assert load().pseudonym_key is None
    assert load(HELPLINE_DEMO="1").pseudonym_key  # the demo's published key
    settings = load(PSEUDONYM_KEY="a-real-deployment-key-0123")
    assert settings.pseudonym_key == "a-real-deployment-key-0123"
    assert "a-real-deployment-key" not in repr(settings)
