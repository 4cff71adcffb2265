"""Questions the knowledge base could not answer, kept for the shop to add entries."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path

from dianxiaoer.service_hours import SHANGHAI
from dianxiaoer.settings import get_settings

_lock = threading.Lock()


def record_unanswered(
    text: str,
    sender_id: str,
    intent: str | None,
    candidates: list[tuple[str, float]],
    path: Path | None = None,
) -> dict:
    """Append one unanswered question as a JSON line (UNANSWERED_LOG); returns the record."""
    path = path or get_settings().unanswered_log
    record = {
        "time": datetime.now(SHANGHAI).isoformat(timespec="seconds"),
        "sender_id": sender_id,
        "text": text,
        "intent": intent,
        "candidates": [{"id": i, "score": round(s, 2)} for i, s in candidates],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _lock, path.open("a", encoding="utf-8") as fh:
        fh.write(line)
    return record


def read_unanswered(path: Path | None = None) -> list[dict]:
    """All recorded unanswered questions, oldest first (malformed lines skipped)."""
    path = path or get_settings().unanswered_log
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
