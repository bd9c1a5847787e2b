"""Atomic file writes: a temporary file beside the target, renamed over it when complete, so an
error or Ctrl-C never leaves a half-written file. The lowest layer: every writer uses it."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_target(path: str | Path, suffix: str = ".part"):
    """Yield a temporary path beside ``path``: when the block succeeds it replaces ``path`` (with
    the usual file mode); on any error or Ctrl-C it is removed, leaving nothing half-written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)  # folders are made when the first file is written
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=str(path.parent))
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write(path: Path, data: bytes) -> None:
    with atomic_target(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
