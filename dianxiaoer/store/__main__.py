"""`python -m dianxiaoer.store prepare|reset-demo` (run by `make store` / `make demo-data`)."""

from __future__ import annotations

import sys

from dianxiaoer.store.db import database_url, session_scope, upgrade
from dianxiaoer.store.demo import clear_store, load_demo_data


def _safe_url() -> str:
    url = database_url()
    return url.split("@")[-1] if "@" in url else url


def main(argv: list[str] | None = None) -> int:
    """Migrate the store; load (or reload) the demo data."""
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "prepare"
    if command not in {"prepare", "reset-demo"}:
        print("usage: python -m dianxiaoer.store prepare|reset-demo", file=sys.stderr)
        return 2
    upgrade()
    with session_scope() as session:
        if command == "reset-demo":
            clear_store(session)
        loaded = load_demo_data(session)
    print(f"==> shop store ready at {_safe_url()}" + (" (demo data loaded)" if loaded else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
