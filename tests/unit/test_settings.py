"""One settings object: every environment variable read in one place, documented."""

from __future__ import annotations

import re

from dianxiaoer.core import settings as settings_module
from dianxiaoer.core.settings import ENV_VARS, PROJECT_ROOT, get_settings, read_settings

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def test_every_variable_is_in_the_readme_configuration_table():
    table = README[README.index("## Configuration") : README.index("## Measured figures")]
    missing = [name for name in ENV_VARS if f"`{name}`" not in table]
    assert missing == []


def test_read_once_per_environment(monkeypatch):
    monkeypatch.setenv("RASA_PORT", "6005")
    first = get_settings()
    assert get_settings() is first and first.rasa_port == 6005
    monkeypatch.setenv("RASA_PORT", "6006")
    assert get_settings() is not first and get_settings().rasa_port == 6006


def test_defaults_and_relative_paths():
    s = read_settings({})
    assert (s.rasa_port, s.actions_port, s.web_port) == (5005, 5055, 8080)
    assert s.rasa_url == "http://127.0.0.1:5005" and s.mode == "demo"
    assert s.agents_file == PROJECT_ROOT / "config" / "agents.yml"
    assert read_settings({"SHOP_DB": "x/shop.db"}).shop_db == PROJECT_ROOT / "x" / "shop.db"
    url = "postgresql://u@h/rasa"
    assert read_settings({"TRACKER_DB": url}).tracker_url == url


def test_nothing_else_reads_the_environment():
    # the startup check inspects a given environment; roster reads per-person tokens
    allowed = {f"dianxiaoer/core/{name}.py" for name in ("settings", "startup_check", "roster")}
    readers = []
    for folder in ("dianxiaoer", "actions", "webapp"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            relative = path.relative_to(PROJECT_ROOT).as_posix()
            if re.search(r"os\.environ|os\.getenv", text) and relative not in allowed:
                readers.append(relative)
    assert readers == []
    assert settings_module.Settings.__doc__
