"""The project's tracker store: Rasa's SQL tracker store plus the runtime speed-ups.

Set in endpoints.yml (`tracker_store: type: dianxiaoer.tracker_store.ProjectSQLTrackerStore`).
The table layout and the stored events are exactly Rasa's `SQLTrackerStore` (the analytics
read them); loading this class installs `dianxiaoer.runtime`, the per-turn speed-ups found
by profiling (docs/performance.md), in the Rasa server process.
"""

from __future__ import annotations

from rasa.core.tracker_store import SQLTrackerStore

from dianxiaoer import runtime

runtime.install()


class ProjectSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQLTrackerStore; importing it installs the runtime speed-ups."""


__all__ = ["ProjectSQLTrackerStore"]
