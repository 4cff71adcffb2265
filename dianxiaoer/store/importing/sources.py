"""Reading import files into numbered records: CSV and XLSX tables, JSON Lines.

Line numbers are those a shop sees in its editor: the header is line 1 of a CSV file or
row 1 of the sheet, and a JSON Lines record is its line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dianxiaoer.store.importing.fields import Problems

Record = tuple[int, dict[str, Any]]


class UnreadableFile(Exception):
    """The file cannot be read at all (missing, wrong type, not UTF-8/GB18030, bad XLSX)."""


def read_table(path: Path, problems: Problems) -> tuple[list[str], list[Record]]:
    """Header names (lower case) and the non-blank rows of a .csv or .xlsx file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = list(_csv_rows(path))
    elif suffix == ".xlsx":
        rows = list(_xlsx_rows(path))
    else:
        raise UnreadableFile(f"{path}: not a .csv or .xlsx file")
    if not rows:
        raise UnreadableFile(f"{path}: the file is empty (a header row is required)")
    (_, header), body = rows[0], rows[1:]
    names = [str(cell if cell is not None else "").strip().lower() for cell in header]
    records = []
    for line, cells in body:
        if all(cell is None or str(cell).strip() == "" for cell in cells):
            continue  # blank lines between products are harmless
        if len(cells) > len(names) and any(str(c or "").strip() for c in cells[len(names) :]):
            problems.add(line, f"{len(cells)} cells but the header has {len(names)} columns")
        # a short row leaves its last columns blank
        records.append((line, dict(zip(names, cells, strict=False))))
    return names, records


def _decode(path: Path) -> str:
    data = _bytes(path)
    # Excel on a Chinese Windows saves "CSV" in GB18030 (GBK); everything else is UTF-8
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(f"{path}: neither UTF-8 nor GB18030 text")


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise UnreadableFile(f"{path}: {error.strerror or error}") from error


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    reader = csv.reader(io.StringIO(_decode(path), newline=""))
    line = 1
    try:
        for cells in reader:
            yield line, list(cells)
            line = reader.line_num + 1  # a quoted cell may span lines
    except csv.Error as error:
        raise UnreadableFile(f"{path}:{reader.line_num}: {error}") from error


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    # only XLSX imports need it; openpyxl ships no type information
    from openpyxl import load_workbook  # type: ignore[import-untyped]
    from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

    try:
        book = load_workbook(io.BytesIO(_bytes(path)), read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as error:
        raise UnreadableFile(f"{path}: not a readable .xlsx workbook ({error})") from error
    try:
        sheet = book.worksheets[0]  # the first sheet; others may hold notes
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        book.close()


def read_json_lines(path: Path, problems: Problems) -> list[Record]:
    """The JSON objects of a .jsonl file with their line numbers; bad lines are reported."""
    records = []
    for line, text in enumerate(_decode(path).splitlines(), start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            problems.add(line, f"not valid JSON ({error.msg} at column {error.colno})")
            continue
        if not isinstance(value, dict):
            problems.add(line, "not a JSON object ({...}, one order per line)")
            continue
        records.append((line, value))
    if not records and not problems.errors:
        raise UnreadableFile(f"{path}: the file holds no orders")
    return records
