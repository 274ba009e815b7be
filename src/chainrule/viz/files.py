"""Writing pictures atomically: to a temporary name beside the target, then renamed.

A reader of the folder sees the old file or the new one, never half of one; a failure
removes the temporary file and leaves the target as it was.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_path(folder / "a.txt") as temporary:
...     _ = temporary.write_text("done")
>>> (folder / "a.txt").read_text(), [p.name for p in folder.iterdir()]
('done', ['a.txt'])
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

__all__ = ["atomic_path"]


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` (same suffix, so writers pick the right
    format); on success rename it to ``path``, on failure delete it."""
    path = Path(path)
    # a fresh name, not a file made by tempfile.mkstemp: that one would keep mode 0600
    # instead of the user's umask
    temporary = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:12]}.tmp{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
