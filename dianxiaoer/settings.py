"""Runtime settings from environment variables, with defaults for one machine."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The project root (the directory holding domain.yml).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Paths and ports the project uses; see README "Configuration"."""

    rasa_port: int
    actions_port: int
    policy_file: Path
    vocabulary_file: Path
    tracker_db: Path
    unanswered_log: Path
    followup_delay_seconds: float | None
    followup_grace_seconds: float | None
    followup_sweep_seconds: float | None
    #: UNANSWERED_MAX_BYTES [5 MB]: the unanswered log rotates past it; UNANSWERED_KEEP [5] files
    unanswered_max_bytes: int
    unanswered_keep: int


#: DXE_MODE: "demo" (the default; `make run` says so loudly) or "production".
DEMO, PRODUCTION = "demo", "production"


def mode() -> str:
    """The deployment mode from DXE_MODE; anything else than demo/production is an error.

    Production refuses the public demo secrets (`dianxiaoer.auth.production_problems`)
    and does not offer the demo customer login.
    """
    value = (os.environ.get("DXE_MODE") or DEMO).strip().lower()
    if value not in (DEMO, PRODUCTION):
        raise ValueError(f"DXE_MODE must be '{DEMO}' or '{PRODUCTION}', not {value!r}")
    return value


def is_production() -> bool:
    """True when DXE_MODE=production."""
    return mode() == PRODUCTION


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    path = Path(value) if value else default
    return path if path.is_absolute() else PROJECT_ROOT / path


def _seconds(name: str) -> float | None:
    value = os.environ.get(name)
    return float(value) if value else None


def get_settings() -> Settings:
    """Read the settings now (cheap; not cached, so tests can change the environment)."""
    return Settings(
        rasa_port=int(os.environ.get("RASA_PORT", "5005")),
        actions_port=int(os.environ.get("ACTIONS_PORT", "5055")),
        policy_file=_path("SHOP_POLICY_FILE", PROJECT_ROOT / "config" / "policy.yml"),
        vocabulary_file=_path(
            "SHOP_VOCABULARY_FILE", PROJECT_ROOT / "knowledge" / "vocabulary.yml"
        ),
        tracker_db=_path("TRACKER_DB", PROJECT_ROOT / ".rasa" / "tracker.db"),
        unanswered_log=_path("UNANSWERED_LOG", PROJECT_ROOT / ".rasa" / "unanswered.jsonl"),
        # overrides followup.delay_minutes of the policy (tests use a few seconds)
        followup_delay_seconds=_seconds("FOLLOWUP_DELAY_SECONDS"),
        # override followup.recovery_grace_seconds and followup.sweep_seconds (tests)
        followup_grace_seconds=_seconds("FOLLOWUP_RECOVERY_GRACE_SECONDS"),
        followup_sweep_seconds=_seconds("FOLLOWUP_SWEEP_SECONDS"),
        unanswered_max_bytes=int(os.environ.get("UNANSWERED_MAX_BYTES") or 5_000_000),
        unanswered_keep=int(os.environ.get("UNANSWERED_KEEP") or 5),
    )
