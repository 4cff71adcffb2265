"""Files the shop edits while the servers run: written whole, and stamped for readers.

A file is replaced whole or not at all, and its stamp tells a reader it changed. Used by
the admin page's override files, the imported vocabulary and the loaders that re-read
the policy and the knowledge base when those change.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` by `text` at once: the old file or the new one, never half of it.

    The text goes to a temporary file in the same folder, which is then renamed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def file_stamp(path: Path) -> tuple[int, int, int]:
    """What changes whenever the file is replaced: mtime, inode and size; zeros if absent.

    Files are renamed into place (`write_atomically`), so two writes within one mtime
    tick still differ by inode.
    """
    try:
        st = path.stat()
    except OSError:
        return (0, 0, 0)
    return (st.st_mtime_ns, st.st_ino, st.st_size)
