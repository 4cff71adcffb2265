"""What every import shares: the outcome, the failure carrying every problem, headers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dianxiaoer.store.importing.fields import Problems


class ImportFailed(Exception):
    """The file has problems; nothing was written. `errors` are `file:line: reason` lines."""

    def __init__(self, errors: list[str]) -> None:
        """Keep every problem found."""
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors


@dataclass
class Counts:
    """Rows inserted and updated of one kind of record."""

    inserted: int = 0
    updated: int = 0


@dataclass
class ImportSummary:
    """What an import wrote: counts per kind ("products", "orders", …) and notes."""

    counts: dict[str, Counts] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def count(self, kind: str, inserted: bool) -> None:
        """Count one record of `kind` as inserted (True) or updated (False)."""
        counts = self.counts.setdefault(kind, Counts())
        if inserted:
            counts.inserted += 1
        else:
            counts.updated += 1

    def lines(self) -> list[str]:
        """The summary as printed: one line per kind, then the notes."""
        return [
            f"    {kind}: {c.inserted} inserted, {c.updated} updated"
            for kind, c in self.counts.items()
        ] + [f"    note: {note}" for note in self.notes]


def canonical_header(
    names: list[str], aliases: Mapping[str, str], required: tuple[str, ...], problems: Problems
) -> list[str]:
    """Header names mapped to canonical column names; unknown, repeated, missing reported.

    `aliases` maps every accepted spelling (lower case, e.g. "price", "价格") to its
    column. Problems are reported at line 1, the header.
    """
    columns: list[str] = []
    seen: set[str] = set()
    for name in names:
        column = aliases.get(name.replace(" ", "_"), aliases.get(name, ""))
        if not name:
            columns.append("")  # an unnamed column must be empty (sources checks the cells)
            continue
        if not column:
            known = ", ".join(dict.fromkeys(aliases.values()))
            problems.add(1, f'unknown column "{name}" (known columns: {known})')
        elif column in seen:
            problems.add(1, f'column "{column}" appears twice')
        seen.add(column)
        columns.append(column)
    for column in required:
        if column not in seen:
            problems.add(1, f'required column "{column}" is missing')
    return columns
