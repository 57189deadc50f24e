"""The [statistics] settings: T and the short-abandon threshold, with their defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline import settings as settings_module
from helpline.settings import ConfigError, Settings


def with_config(tmp_path: Path, toml: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(toml)
    return settings_module.load({"HELPLINE_CONFIG": str(path)})


def test_by_default_service_level_is_within_20_s_leaving_out_hang_ups_under_5_s() -> None:
    policy = settings_module.load({}).statistics

    assert (policy.answer_within_s, policy.short_abandon_s) == (20, 5)


def test_a_config_changing_t_keeps_the_short_abandon_threshold(tmp_path: Path) -> None:
    policy = with_config(tmp_path, "[statistics]\nanswer_within_s = 30\n").statistics

    assert (policy.answer_within_s, policy.short_abandon_s) == (30, 5)


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ("[statistics]\nanswer_within = 30\n", "answer_within"),
        ('[statistics]\nshort_abandon_s = "ten"\n', "[statistics].short_abandon_s"),
        ("[statistics]\nanswer_within_s = -1\n", "[statistics].answer_within_s"),
    ],
)
def test_a_bad_statistics_setting_is_refused_naming_it(
    tmp_path: Path, toml: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        with_config(tmp_path, toml)
    assert fragment in str(caught.value)
