"""The design's floors, as pyproject.toml gives them to import-linter (scripts/lint): every module
of helpline/ stands on exactly one floor, so none escapes the check that imports point down."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def floors() -> list[set[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [layers] = [
        c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    ]
    return [set(re.split(r"\s*[:|]\s*", layer)) for layer in layers]


def helpline_modules() -> set[str]:
    found = set()
    for path in (ROOT / "helpline").iterdir():
        if path.suffix == ".py" and path.stem != "__init__":
            found.add(f"helpline.{path.stem}")
        elif (path / "__init__.py").is_file():
            found.add(f"helpline.{path.name}")
    return found


def test_every_module_of_helpline_stands_on_exactly_one_floor() -> None:
    placed = [module for floor in floors() for module in floor]
    assert sorted(m for m in placed if m.startswith("helpline.")) == sorted(helpline_modules())


def test_the_floors_run_from_the_faces_through_the_domains_to_the_ground() -> None:
    layers = floors()
    assert "helpline.app" in layers[0] and "helpline.cli" in layers[0]
    assert layers[1:5] == [{"webhooks"}, {"callbacks", "accounts"}, {"calls"}, {"rota"}]
    assert {"helpline.settings", "helpline.db", "helpline.clock"} <= layers[5]
