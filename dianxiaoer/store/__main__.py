"""`python -m dianxiaoer.store COMMAND`: prepare, reset-demo, import-catalogue, import-orders.

`make store`, `make demo-data`, `make import-catalogue FILE=…`, `make import-orders FILE=…`.

prepare     migrate the store; in demo mode load the demo data if it has no orders yet
reset-demo  delete every row and load the demo data again (times relative to now) — only
            when the store holds nothing but demo data (`dianxiaoer.store.demo.survey`)
            and DXE_MODE is not production; otherwise it lists what is not demo data and
            exits with 2. --force deletes anyway, printing per table what it deletes.
import-catalogue FILE
            products from a .csv or .xlsx file (docs/import.md); new and changed product
            names go to the imported vocabulary (SHOP_IMPORTED_VOCABULARY_FILE)
import-orders FILE
            orders with customers, items, payments, shipments and scans from a .jsonl file
            Imports check the whole file first and write nothing if any row is bad: every
            problem is printed as file:line: reason and the exit code is 1. Re-importing
            updates by id.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from dianxiaoer.core.settings import is_production, mode
from dianxiaoer.store.db import database_url, session_scope, upgrade
from dianxiaoer.store.demo import TableSurvey, clear_store, load_demo_data, survey

#: Exit code of a refused reset-demo.
REFUSED = 2
#: Exit code of an import that found problems (nothing was written).
INVALID = 1


def _safe_url() -> str:
    url = database_url()
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL SQLAlchemy parses: show where, never who
        return url.split("@")[-1]


def _table_lines(tables: list[TableSurvey], only_foreign: bool = False) -> list[str]:
    width = max((len(t.table) for t in tables), default=0)
    lines = []
    for t in tables:
        if only_foreign and not t.not_demo:
            continue
        line = f"    {t.table:<{width}}  {t.rows:>9,} row" + ("" if t.rows == 1 else "s")
        if t.not_demo:
            more = ", …" if t.not_demo > len(t.examples) else ""
            line += f", {t.not_demo:,} not demo data (e.g. {', '.join(t.examples)}{more})"
        lines.append(line)
    return lines


def _refusal(reason: str, tables: list[TableSurvey]) -> int:
    lines = [f"error: reset-demo refused: {reason}", *_table_lines(tables, only_foreign=True)]
    lines += [
        "    Nothing was deleted. To delete every row of this store anyway: make demo-data "
        "FORCE=1 (python -m dianxiaoer.store reset-demo --force).",
    ]
    print("\n".join(lines), file=sys.stderr)
    return REFUSED


def reset_demo(force: bool = False) -> int:
    """Delete the store's rows and load the demo data; 2 if refused (see module docstring)."""
    where = _safe_url()
    if is_production() and not force:
        return _refusal(
            f"DXE_MODE=production, and reset-demo deletes every row of the shop store at {where}.",
            [],
        )
    with session_scope() as session:
        before = survey(session)
    foreign = sum(t.not_demo for t in before)
    if foreign and not force:
        return _refusal(
            f"the shop store at {where} holds {foreign:,} rows that are not demo data:", before
        )
    upgrade()
    with session_scope() as session:
        # again inside the deleting transaction: a writer may have added rows meanwhile
        tables = survey(session)
        foreign = sum(t.not_demo for t in tables)
        if foreign and not force:
            session.rollback()
            return _refusal(
                f"the shop store at {where} holds {foreign:,} rows that are not demo data:",
                tables,
            )
        if tables:
            heading = (
                f"==> reset-demo --force: deleting every row of the shop store at {where} "
                f"({foreign:,} not demo data):"
                if force
                else f"==> deleting the demo data in the shop store at {where}:"
            )
            print("\n".join([heading, *_table_lines(tables)]))
        clear_store(session)
        load_demo_data(session)
    print(f"==> shop store ready at {where} (demo data loaded)")
    return 0


def prepare() -> int:
    """Migrate the store; in demo mode load the demo data if it has no orders yet.

    A production store gets the shop's own data, never the demo customers and orders
    (whose phone tails and tokens are in the README).
    """
    upgrade()
    if is_production():
        print(f"==> shop store ready at {_safe_url()} (production: no demo data loaded)")
        return 0
    with session_scope() as session:
        loaded = load_demo_data(session)
    print(f"==> shop store ready at {_safe_url()}" + (" (demo data loaded)" if loaded else ""))
    return 0


def run_import(kind: str, file: str, vocabulary: str | None = None) -> int:
    """Import `file` (kind "catalogue" or "orders"); 1 with every problem listed if bad."""
    # imported here: `prepare` and `reset-demo` need neither openpyxl nor the importers
    from dianxiaoer.store.importing.catalogue import import_catalogue
    from dianxiaoer.store.importing.common import ImportFailed
    from dianxiaoer.store.importing.orders import import_orders
    from dianxiaoer.store.importing.sources import UnreadableFile

    path = Path(file)
    try:
        if kind == "catalogue":
            summary = import_catalogue(
                path, vocabulary_file=Path(vocabulary) if vocabulary else None
            )
        else:
            summary = import_orders(path)
    except UnreadableFile as error:
        print(f"error: {error}; nothing imported", file=sys.stderr)
        return INVALID
    except ImportFailed as failed:
        count = len(failed.errors)
        lines = [f"error: {path}: {count} problem{'' if count == 1 else 's'}, nothing imported:"]
        lines += [f"    {error}" for error in failed.errors]
        print("\n".join(lines), file=sys.stderr)
        return INVALID
    print(
        "\n".join([f"==> imported {path} into the shop store at {_safe_url()}:", *summary.lines()])
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run `prepare` (default), `reset-demo [--force]`, `import-catalogue` or `import-orders`."""
    parser = argparse.ArgumentParser(
        prog="python -m dianxiaoer.store",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("prepare", help="migrate; load the demo data into an empty demo store")
    reset = commands.add_parser("reset-demo", help="delete the demo data and load it again")
    reset.add_argument(
        "--force",
        action="store_true",
        help="delete whatever the store holds, listing it per table",
    )
    catalogue = commands.add_parser("import-catalogue", help="import products (.csv/.xlsx)")
    catalogue.add_argument("file", help="the product list (docs/import.md)")
    catalogue.add_argument(
        "--vocabulary",
        metavar="PATH",
        help="imported vocabulary file to update (default: SHOP_IMPORTED_VOCABULARY_FILE)",
    )
    orders = commands.add_parser("import-orders", help="import orders (.jsonl)")
    orders.add_argument("file", help="the orders, one JSON object per line (docs/import.md)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        mode()
    except ValueError as error:  # DXE_MODE neither demo nor production
        print(f"error: {error}", file=sys.stderr)
        return REFUSED
    if args.command == "reset-demo":
        return reset_demo(force=args.force)
    if args.command == "import-catalogue":
        return run_import("catalogue", args.file, args.vocabulary)
    if args.command == "import-orders":
        return run_import("orders", args.file)
    return prepare()


if __name__ == "__main__":
    raise SystemExit(main())
