"""A deployment's own configuration, as a council's IT team would set it up: a TOML file kept
in the repository and named by HELPLINE_CONFIG relative to the app's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline import settings as settings_module
from helpline.settings import ConfigError

DEPLOYMENT = """
[offices.herefordshire]
name = "Herefordshire"
numbers = ["+441432000001"]
fallback = ["worcestershire"]

[offices.herefordshire.hours]
mon = ["09:00-17:00"]

[offices.worcestershire]
name = "Worcestershire"
numbers = ["+441905000001"]
fallback = ["herefordshire"]

[offices.worcestershire.hours]
mon = ["09:00-17:00"]
"""


def test_helpline_config_relative_to_the_apps_folder_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Procfile platform starts every process in the app's folder.
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "helpline.toml").write_text(DEPLOYMENT, encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    settings = settings_module.load({"HELPLINE_CONFIG": "deploy/helpline.toml"})

    assert settings.offices["herefordshire"].numbers == ("+441432000001",)
    assert settings.offices["worcestershire"].numbers == ("+441905000001",)


def test_a_missing_relative_config_names_the_folder_it_was_looked_for_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    with pytest.raises(ConfigError) as caught:
        settings_module.load({"HELPLINE_CONFIG": "deploy/helpline.toml"})

    assert "deploy/helpline.toml: no such configuration file" in str(caught.value)
    assert str(tmp_path / "deploy" / "helpline.toml") in str(caught.value)


def readme_example() -> str:
    """The complete deployment file the README gives."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("# deploy/helpline.toml")
    return readme[start : readme.index("```", start)]


def test_the_readmes_example_file_is_refused_until_its_placeholder_numbers_are_replaced(
    tmp_path: Path,
) -> None:
    path = tmp_path / "helpline.toml"
    path.write_text(readme_example(), encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        settings_module.load({"HELPLINE_CONFIG": str(path)})

    assert "+44-HEREFORDSHIRE-NUMBER" in str(caught.value)
    assert "E.164" in str(caught.value)


def test_the_readmes_example_file_with_real_numbers_gives_both_offices_all_their_hours(
    tmp_path: Path,
) -> None:
    text = readme_example()
    text = text.replace("+44-HEREFORDSHIRE-NUMBER", "+441432000001")
    text = text.replace("+44-WORCESTERSHIRE-NUMBER", "+441905000001")
    path = tmp_path / "helpline.toml"
    path.write_text(text, encoding="utf-8")

    settings = settings_module.load({"HELPLINE_CONFIG": str(path)})
    defaults = settings_module.load({})

    assert list(settings.offices) == ["herefordshire", "worcestershire"]
    for key, number in (("herefordshire", "+441432000001"), ("worcestershire", "+441905000001")):
        assert settings.offices[key].numbers == (number,)
        assert settings.offices[key].hours == defaults.offices[key].hours
        assert settings.offices[key].fallback == defaults.offices[key].fallback
