"""Questions the knowledge base could not answer, kept for the shop to add entries.

Written by the action server (`actions/knowledge.py`) as JSON lines in `UNANSWERED_LOG`
[.rasa/unanswered.jsonl]. The text is masked before it is written
(`dianxiaoer.core.privacy`: phone numbers, addresses, names, order numbers, …), so
no personal data is kept at rest, and the file is created readable by its owner only.

The log rotates by size: when a line would take the file past `UNANSWERED_MAX_BYTES`
[5 MB], it becomes `unanswered.jsonl.1` (the older ones `.2`, `.3`, …) and the line starts
a new file; at most `UNANSWERED_KEEP` [5] rotated files are kept. Writers in several
processes (action-server workers, replicas on one disk) take a file lock
(`unanswered.jsonl.lock`) around rotate-and-append, so no line is lost or split.
`read_unanswered` reads the rotated files and the current one, oldest first.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from dianxiaoer.core.privacy import mask
from dianxiaoer.core.service_hours import SHANGHAI
from dianxiaoer.core.settings import get_settings

try:  # POSIX; elsewhere only the threads of one process are serialized
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]  # a module or None: checked before use

_lock = threading.Lock()


def _rotated(path: Path, index: int) -> Path:
    return path.with_name(f"{path.name}.{index}")


def rotated_files(path: Path) -> list[Path]:
    """The rotated files of `path` that exist, oldest first (…, .2, .1)."""
    pattern = re.compile(re.escape(path.name) + r"\.(\d+)$")
    found = []
    if path.parent.is_dir():
        for candidate in path.parent.iterdir():
            match = pattern.match(candidate.name)
            if match:
                found.append((int(match.group(1)), candidate))
    return [p for _, p in sorted(found, reverse=True)]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold the thread lock and, on POSIX, an exclusive lock on `<path>.lock`."""
    with _lock:
        if fcntl is None:
            yield
            return
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _rotate(path: Path, keep: int) -> None:
    """Shift path -> path.1 -> path.2 …; what would become path.<keep+1> is removed."""
    for old in rotated_files(path):
        index = int(old.name.rsplit(".", 1)[1])
        if index >= keep:
            old.unlink(missing_ok=True)
    for index in range(keep - 1, 0, -1):
        source = _rotated(path, index)
        if source.exists():
            source.replace(_rotated(path, index + 1))
    if keep > 0:
        path.replace(_rotated(path, 1))
    else:
        path.unlink(missing_ok=True)


def append_line(path: Path, line: str, max_bytes: int, keep: int) -> None:
    """Append one line to `path`, rotating first if it would grow past `max_bytes`.

    The line is always written (a line longer than `max_bytes` gets a file of its own);
    at most `keep` rotated files remain besides `path`.
    """
    data = line.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size and max_bytes > 0 and size + len(data) > max_bytes:
            _rotate(path, keep)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
        finally:
            os.close(fd)


def record_unanswered(
    text: str,
    sender_id: str,
    intent: str | None,
    candidates: list[tuple[str, float]],
    path: Path | None = None,
) -> dict:
    """Append one unanswered question, masked, as a JSON line; returns the record.

    `path` defaults to UNANSWERED_LOG; rotation follows UNANSWERED_MAX_BYTES and
    UNANSWERED_KEEP.
    """
    settings = get_settings()
    path = path or settings.unanswered_log
    record = {
        "time": datetime.now(SHANGHAI).isoformat(timespec="seconds"),
        "sender_id": sender_id,
        "text": mask(text),
        "intent": intent,
        "candidates": [{"id": i, "score": round(s, 2)} for i, s in candidates],
    }
    line = json.dumps(record, ensure_ascii=False) + "\n"
    append_line(path, line, settings.unanswered_max_bytes, settings.unanswered_keep)
    return record


def read_unanswered(path: Path | None = None) -> list[dict]:
    """All recorded unanswered questions, oldest first, rotated files included.

    Malformed lines are skipped. Lines written before masking existed are masked here, so
    whoever reads the log never sees them raw.
    """
    path = path or get_settings().unanswered_log
    records = []
    for file in [*rotated_files(path), path]:
        try:
            content = file.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue  # rotated away between listing and reading
        for line in content.splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                if isinstance(record.get("text"), str):
                    record["text"] = mask(record["text"])
                records.append(record)
    return records
