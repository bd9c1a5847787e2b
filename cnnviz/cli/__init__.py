"""The ``cnnviz`` command line: thin typer commands over the library, one module per command family.

Nothing here imports TensorFlow at module level, so ``cnnviz --help`` and ``--version`` are fast.
"""

from __future__ import annotations

# registration order is the order of `cnnviz --help`
from . import models  # noqa: F401,I001
from . import filters, fool, maps, edges, atlas, demo  # noqa: F401,E402,I001
from .app import app


def main() -> None:
    """The console entry: the command runs in a guarded child process (a native crash in a backend
    becomes one line, :mod:`cnnviz.cli.guard`), or here when already guarded."""
    import sys

    from .guard import guarded, run_guarded

    if guarded():
        app()
        return
    sys.exit(run_guarded([sys.executable, "-m", "cnnviz", *sys.argv[1:]]))


__all__ = ["app", "main"]
