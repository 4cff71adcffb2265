"""Reading one row of an import file: typed fields, every problem recorded with its line.

A `Row` never raises on bad data: each accessor records what is wrong (`file:line:
reason`) in the shared `Problems` and returns a placeholder, so one pass over a file
reports every bad row and field instead of stopping at the first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from dianxiaoer.core.service_hours import SHANGHAI

#: Largest amount a Numeric(10, 2) column holds.
MAX_MONEY = Decimal("99999999.99")
#: Full-width punctuation typed with a Chinese input method, read as its ASCII twin.
FULL_WIDTH = str.maketrans({"：": ":", "；": ";", "＝": "=", "，": ",", "－": "-", "　": " "})
TIME_FORMATS = "YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS] or ISO 8601 with an offset such as +08:00"


@dataclass
class Problems:
    """Every error found in one file, as `file:line: reason` lines."""

    source: str
    errors: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        """Record a problem at `line` (1-based; 0 for the file as a whole)."""
        where = f"{self.source}:{line}" if line else self.source
        self.errors.append(f"{where}: {message}")
        self.lines.append(line)

    def in_order(self) -> list[str]:
        """The problems by line (file-wide first), each line's in the order found.

        Checks against the store run after the file's own, so without sorting a row's
        problems would be listed in two places.
        """
        order = sorted(range(len(self.errors)), key=lambda n: self.lines[n])
        return [self.errors[n] for n in order]


def shown(value: Any) -> str:
    """A value quoted for an error message, cut short when long."""
    text = str(value)
    return f'"{text[:40]}…"' if len(text) > 40 else f'"{text}"'


class Row:
    """The fields of one record (a CSV/XLSX row, a JSON object) at a line of its file.

    `where` prefixes field names in messages for nested objects (`items[2].`).
    """

    def __init__(
        self, problems: Problems, line: int, values: Mapping[str, Any], where: str = ""
    ) -> None:
        """Wrap `values` read from `line`."""
        self.problems = problems
        self.line = line
        self.values = values
        self.where = where
        self.ok = True

    def fail(self, message: str) -> None:
        """Record a problem of this row."""
        self.ok = False
        self.problems.add(self.line, message)

    def raw(self, key: str) -> Any:
        """The value of `key`, None when missing or blank."""
        value = self.values.get(key)
        if isinstance(value, str):
            value = value.strip()
        return None if value in (None, "") else value

    def missing(self, key: str) -> None:
        """Record that a required field is empty."""
        self.fail(f"{self.where}{key} is required")

    def text(self, key: str, limit: int, required: bool = False) -> str:
        """A string of at most `limit` characters ("" when optional and missing)."""
        value = self.raw(key)
        if value is None:
            if required:
                self.missing(key)
            return ""
        if isinstance(value, (dict, list, bool)):
            self.fail(f"{self.where}{key} {shown(value)} is not text")
            return ""
        text = _plain(value)
        if len(text) > limit:
            self.fail(f"{self.where}{key} {shown(text)} is longer than {limit} characters")
        return text

    def money(self, key: str, required: bool = True) -> Decimal | None:
        """A non-negative amount with at most two decimals."""
        value = self.raw(key)
        if value is None:
            if required:
                self.missing(key)
            return None
        amount = _decimal(value)
        if amount is None:
            self.fail(f"{self.where}{key} {shown(value)} is not a number")
        elif amount < 0:
            self.fail(f"{self.where}{key} {shown(value)} is negative")
        elif amount != amount.quantize(Decimal("0.01")):
            self.fail(f"{self.where}{key} {shown(value)} has more than two decimals")
        elif amount > MAX_MONEY:
            self.fail(f"{self.where}{key} {shown(value)} is too large")
        else:
            return amount.quantize(Decimal("0.01"))
        return None

    def integer(self, key: str, default: int = 0, minimum: int = 0) -> int:
        """A whole number of at least `minimum` (`default` when missing)."""
        value = self.raw(key)
        if value is None:
            return default
        number = whole_number(value)
        if number is None:
            self.fail(f"{self.where}{key} {shown(value)} is not a whole number")
            return default
        if number < minimum:
            self.fail(f"{self.where}{key} {shown(value)} is less than {minimum}")
        return number

    def moment(self, key: str, required: bool = False) -> datetime | None:
        """An aware time; a value without an offset is Asia/Shanghai time."""
        value = self.raw(key)
        if value is None:
            if required:
                self.missing(key)
            return None
        moment = parse_time(value)
        if moment is None:
            self.fail(f"{self.where}{key} {shown(value)} is not a date/time ({TIME_FORMATS})")
        return moment

    def boolean(self, key: str) -> bool:
        """true/false (JSON booleans, or true/false/yes/no/1/0/是/否 as text)."""
        value = self.raw(key)
        if value is None or isinstance(value, bool):
            return bool(value)
        text = str(value).strip().lower()
        if text in ("true", "yes", "1", "是", "y"):
            return True
        if text not in ("false", "no", "0", "否", "n"):
            self.fail(f"{self.where}{key} {shown(value)} is not true or false")
        return False


def _plain(value: Any) -> str:
    # XLSX cells hold numbers: an id typed as 1001 arrives as the int 1001 (or 1001.0)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)  # 39.9, not Decimal(39.9)'s binary expansion
    try:
        amount = Decimal(str(value).strip().translate(FULL_WIDTH).lstrip("¥￥"))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def whole_number(value: Any) -> int | None:
    """`value` as an int if it is one (3, "3", 3.0), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    text = str(value).strip()
    return int(text) if text.lstrip("-").isdigit() else None


def parse_time(value: Any) -> datetime | None:
    """A datetime, date or text as an aware datetime (naive = Asia/Shanghai), else None."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        text = str(value).strip().replace("/", "-")
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment
