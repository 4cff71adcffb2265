"""Test hook for the action server: hang right after a shop change was committed.

Only for tests/survival/test_side_effects.py, which puts this directory first on the action
server's PYTHONPATH (Python imports `sitecustomize` at start-up) with
DXE_TEST_HANG_AFTER=<a dianxiaoer.store.repository function> and DXE_TEST_HANG_MARKER=<file>.
The function runs (and commits); then the marker file gets its result and the server
stops answering, so the test can kill it after the commit and before Rasa got the events.
The command line stays scripts/stack.py's actions_command.
"""

import os

_target = os.environ.get("DXE_TEST_HANG_AFTER")
_marker = os.environ.get("DXE_TEST_HANG_MARKER")

if _target and _marker:
    import functools
    import json
    import time

    from dianxiaoer.store import repository

    _original = getattr(repository, _target)

    @functools.wraps(_original)
    def _committed_then_hang(*args, **kwargs):
        result = _original(*args, **kwargs)
        with open(_marker, "w", encoding="utf-8") as out:
            json.dump({"function": _target, "result": result}, out, ensure_ascii=False)
        time.sleep(3600)  # killed by the test long before
        return result

    setattr(repository, _target, _committed_then_hang)
