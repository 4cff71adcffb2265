"""Runtime settings: every environment variable the project reads, in one object.

`get_settings()` reads the environment once and returns the same frozen `Settings` while
the environment is unchanged (tests that change a variable get a fresh object, nothing to
reset). Each field names its variable and default; the README's configuration table lists
the same. Paths are defined here once; relative values are relative to the project root.

Per-person secrets are read by name where they are needed: `AGENT_TOKEN_<ID>` and
`TRAINEE_TOKEN_<ID>` (dianxiaoer.core.roster). Build and test knobs that only the Makefile
reads (`MODEL_DIR`, `NLU_GATE`, `PYTHON`…) are documented in the Makefile.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The project root (the directory holding domain.yml).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT_ROOT / "config"
STATE_DIR = PROJECT_ROOT / ".rasa"

#: DXE_MODE: "demo" (the default; `make run` says so loudly) or "production".
DEMO, PRODUCTION = "demo", "production"

#: Every variable `get_settings` reads (its cache key).
ENV_VARS = (
    "DXE_MODE",
    "RASA_PORT",
    "RASA_HOST",
    "RASA_URL",
    "PUBLIC_RASA_URL",
    "RASA_API_TOKEN",
    "ACTIONS_PORT",
    "ACTIONS_HOST",
    "ACTIONS_TOKEN",
    "WEB_PORT",
    "WEB_HOST",
    "SHOP_POLICY_FILE",
    "SHOP_VOCABULARY_FILE",
    "SHOP_IMPORTED_VOCABULARY_FILE",
    "AGENTS_FILE",
    "TRAINEES_FILE",
    "SHOP_TOKEN_SECRET",
    "DATABASE_URL",
    "SHOP_DB",
    "TRACKER_DB",
    "TRACKER_DIALECT",
    "TRACKER_URL",
    "TRACKER_CACHE_SIZE",
    "UNANSWERED_LOG",
    "UNANSWERED_MAX_BYTES",
    "UNANSWERED_KEEP",
    "FOLLOWUP_DELAY_SECONDS",
    "FOLLOWUP_RECOVERY_GRACE_SECONDS",
    "FOLLOWUP_SWEEP_SECONDS",
    "ANALYTICS_CACHE_SECONDS",
    "SEEDS_DIR",
    "ORDER_SOURCE",
    "ORDER_API_URL",
    "ORDER_API_TOKEN",
    "ORDER_API_TIMEOUT_SECONDS",
    "ADMIN_AUDIT_LOG",
    "SHOP_FAQ_OVERRIDES",
    "SHOP_POLICY_OVERRIDES",
    "FAQ_TRAINED_FINGERPRINT",
)


@dataclass(frozen=True)
class Settings:
    """What the processes read from the environment; see README "Configuration"."""

    #: DXE_MODE [demo]: demo or production (production refuses demo secrets)
    mode: str
    #: RASA_PORT [5005], RASA_HOST [127.0.0.1]
    rasa_port: int
    rasa_host: str
    #: RASA_URL [http://127.0.0.1:$RASA_PORT]: where the web app reaches Rasa
    rasa_url: str
    #: PUBLIC_RASA_URL [unset: the page's host, RASA_PORT]: socket.io address for browsers
    public_rasa_url: str | None
    #: RASA_API_TOKEN [unset]: Rasa's HTTP API token, sent by the web app
    rasa_api_token: str
    #: ACTIONS_PORT [5055], ACTIONS_HOST [127.0.0.1]
    actions_port: int
    actions_host: str
    #: ACTIONS_TOKEN [unset: the action server refuses to start]: X-Actions-Token secret
    actions_token: str
    #: WEB_PORT [8080], WEB_HOST [127.0.0.1]
    web_port: int
    web_host: str
    #: SHOP_POLICY_FILE [config/policy.yml]
    policy_file: Path
    #: SHOP_VOCABULARY_FILE [knowledge/vocabulary.yml]
    vocabulary_file: Path
    #: SHOP_IMPORTED_VOCABULARY_FILE [knowledge/vocabulary_imported.yml]: the product names
    #: `import-catalogue` writes, merged with the vocabulary file (dianxiaoer.store.importing)
    imported_vocabulary_file: Path
    #: AGENTS_FILE [config/agents.yml], TRAINEES_FILE [config/trainees.yml]
    agents_file: Path
    trainees_file: Path
    #: SHOP_TOKEN_SECRET [unset: the demo secret in demo mode, refused in production]
    shop_token_secret: str | None
    #: DATABASE_URL [unset: SQLite at SHOP_DB]: the shop store
    database_url: str | None
    #: SHOP_DB [.rasa/shop.db]
    shop_db: Path
    #: TRACKER_DB [.rasa/tracker.db], TRACKER_DIALECT [sqlite], TRACKER_URL [unset]
    tracker_db: Path
    tracker_dialect: str
    tracker_url: str | None
    #: TRACKER_CACHE_SIZE [1000]: conversations the Rasa process keeps in memory
    tracker_cache_size: int
    #: UNANSWERED_LOG [.rasa/unanswered.jsonl]; rotates past UNANSWERED_MAX_BYTES [5 MB],
    #: keeping UNANSWERED_KEEP [5] files
    unanswered_log: Path
    unanswered_max_bytes: int
    unanswered_keep: int
    #: FOLLOWUP_DELAY_SECONDS overrides followup.delay_minutes of the policy (tests)
    followup_delay_seconds: float | None
    #: FOLLOWUP_RECOVERY_GRACE_SECONDS, FOLLOWUP_SWEEP_SECONDS override the policy's
    #: followup.recovery_grace_seconds and followup.sweep_seconds (tests)
    followup_grace_seconds: float | None
    followup_sweep_seconds: float | None
    #: ANALYTICS_CACHE_SECONDS [60]: how long the analytics page reuses its figures
    analytics_cache_seconds: float
    #: SEEDS_DIR [../shared/seeds]: the source documents `make kb-report` checks coverage of
    seeds_dir: Path
    #: ORDER_SOURCE [store]: where orders are read: `store` (the shop store) or `http` (the
    #: shop's own order system behind the contract in docs/order-api.md)
    order_source: str
    #: ORDER_API_URL [unset], ORDER_API_TOKEN [unset]: the order API for ORDER_SOURCE=http
    order_api_url: str | None
    order_api_token: str
    #: ORDER_API_TIMEOUT_SECONDS [3]: per request to the order API
    order_api_timeout_seconds: float
    #: ADMIN_AUDIT_LOG [.rasa/admin_audit.jsonl]: who changed which FAQ entry or policy value
    admin_audit_log: Path
    #: SHOP_FAQ_OVERRIDES [knowledge/faq_shop.yml]: FAQ entries added or edited on the admin
    #: page (faq.yml's schema; an entry with a shipped id replaces it), merged on load
    shop_faq_overrides: Path
    #: SHOP_POLICY_OVERRIDES [config/policy_shop.yml]: policy values changed on the admin
    #: page (only those), merged over SHOP_POLICY_FILE on load
    shop_policy_overrides: Path
    #: FAQ_TRAINED_FINGERPRINT [models/dianxiaoer.faq.json]: the FAQ questions the intent
    #: model was trained on (written by scripts/train.sh), for "需要重新训练" on the admin page
    faq_trained_fingerprint: Path


def _path(env, name: str, default: Path) -> Path:
    value = env.get(name)
    path = Path(value) if value else default
    return path if path.is_absolute() else PROJECT_ROOT / path


def _seconds(env, name: str) -> float | None:
    value = env.get(name)
    return float(value) if value else None


def _mode(env) -> str:
    value = (env.get("DXE_MODE") or DEMO).strip().lower()
    if value not in (DEMO, PRODUCTION):
        raise ValueError(f"DXE_MODE must be '{DEMO}' or '{PRODUCTION}', not {value!r}")
    return value


def read_settings(env=None) -> Settings:
    """Settings from `env` (default: the process environment), uncached."""
    env = os.environ if env is None else env
    rasa_port = int(env.get("RASA_PORT") or 5005)
    return Settings(
        mode=_mode(env),
        rasa_port=rasa_port,
        rasa_host=env.get("RASA_HOST") or "127.0.0.1",
        rasa_url=env.get("RASA_URL") or f"http://127.0.0.1:{rasa_port}",
        public_rasa_url=env.get("PUBLIC_RASA_URL") or None,
        rasa_api_token=env.get("RASA_API_TOKEN", ""),
        actions_port=int(env.get("ACTIONS_PORT") or 5055),
        actions_host=env.get("ACTIONS_HOST") or "127.0.0.1",
        actions_token=env.get("ACTIONS_TOKEN", ""),
        web_port=int(env.get("WEB_PORT") or 8080),
        web_host=env.get("WEB_HOST") or "127.0.0.1",
        policy_file=_path(env, "SHOP_POLICY_FILE", CONFIG_DIR / "policy.yml"),
        vocabulary_file=_path(
            env, "SHOP_VOCABULARY_FILE", PROJECT_ROOT / "knowledge" / "vocabulary.yml"
        ),
        imported_vocabulary_file=_path(
            env,
            "SHOP_IMPORTED_VOCABULARY_FILE",
            PROJECT_ROOT / "knowledge" / "vocabulary_imported.yml",
        ),
        agents_file=_path(env, "AGENTS_FILE", CONFIG_DIR / "agents.yml"),
        trainees_file=_path(env, "TRAINEES_FILE", CONFIG_DIR / "trainees.yml"),
        shop_token_secret=env.get("SHOP_TOKEN_SECRET") or None,
        database_url=env.get("DATABASE_URL") or None,
        shop_db=_path(env, "SHOP_DB", STATE_DIR / "shop.db"),
        tracker_db=_path(env, "TRACKER_DB", STATE_DIR / "tracker.db"),
        tracker_dialect=env.get("TRACKER_DIALECT") or "sqlite",
        # a TRACKER_DB that is itself a URL is used as the URL
        tracker_url=env.get("TRACKER_URL")
        or (env.get("TRACKER_DB") if "://" in env.get("TRACKER_DB", "") else None),
        tracker_cache_size=int(env.get("TRACKER_CACHE_SIZE") or 1000),
        unanswered_log=_path(env, "UNANSWERED_LOG", STATE_DIR / "unanswered.jsonl"),
        unanswered_max_bytes=int(env.get("UNANSWERED_MAX_BYTES") or 5_000_000),
        unanswered_keep=int(env.get("UNANSWERED_KEEP") or 5),
        followup_delay_seconds=_seconds(env, "FOLLOWUP_DELAY_SECONDS"),
        followup_grace_seconds=_seconds(env, "FOLLOWUP_RECOVERY_GRACE_SECONDS"),
        followup_sweep_seconds=_seconds(env, "FOLLOWUP_SWEEP_SECONDS"),
        analytics_cache_seconds=float(env.get("ANALYTICS_CACHE_SECONDS") or 60),
        seeds_dir=_path(env, "SEEDS_DIR", PROJECT_ROOT.parent / "shared" / "seeds"),
        order_source=_order_source(env),
        order_api_url=env.get("ORDER_API_URL") or None,
        order_api_token=env.get("ORDER_API_TOKEN", ""),
        order_api_timeout_seconds=float(env.get("ORDER_API_TIMEOUT_SECONDS") or 3),
        admin_audit_log=_path(env, "ADMIN_AUDIT_LOG", STATE_DIR / "admin_audit.jsonl"),
        shop_faq_overrides=_path(
            env, "SHOP_FAQ_OVERRIDES", PROJECT_ROOT / "knowledge" / "faq_shop.yml"
        ),
        shop_policy_overrides=_path(env, "SHOP_POLICY_OVERRIDES", CONFIG_DIR / "policy_shop.yml"),
        faq_trained_fingerprint=_path(
            env, "FAQ_TRAINED_FINGERPRINT", PROJECT_ROOT / "models" / "dianxiaoer.faq.json"
        ),
    )


def _order_source(env) -> str:
    value = (env.get("ORDER_SOURCE") or "store").strip().lower()
    if value not in ("store", "http"):
        raise ValueError(f"ORDER_SOURCE must be 'store' or 'http', not {value!r}")
    return value


_cached: tuple[tuple, Settings] | None = None


def get_settings() -> Settings:
    """The settings, read once per distinct environment (cheap to call anywhere)."""
    global _cached
    key = tuple(os.environ.get(name) for name in ENV_VARS)
    if _cached is None or _cached[0] != key:
        _cached = (key, read_settings())
    return _cached[1]


def mode() -> str:
    """The deployment mode from DXE_MODE; anything else than demo/production is an error.

    Production refuses the public demo secrets (`dianxiaoer.core.auth.production_problems`)
    and does not offer the demo customer login.
    """
    return _mode(os.environ)


def is_production() -> bool:
    """True when DXE_MODE=production."""
    return mode() == PRODUCTION
