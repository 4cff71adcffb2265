"""Fixtures for action tests."""

from __future__ import annotations

import pytest
import yaml

from dianxiaoer.core.settings import PROJECT_ROOT


@pytest.fixture(scope="session")
def domain() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
