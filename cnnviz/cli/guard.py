"""A crash in a backend's native code (a segfault, an abort) must not reach the user bare: the command
runs in a child process, and a child killed by a signal becomes one ``error:`` line and exit status 4.

TensorFlow 2.21's oneDNN has crashed this way in eager convolution gradients on CPUs with AVX-512/AMX;
cnnviz compiles its gradients (which avoids that one), and this guard covers whatever else may crash.
The child inherits the terminal (progress bars, colours); Ctrl-C reaches it directly and its 130 is kept.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

CHILD = "CNNVIZ_GUARDED"  # set in the child, so it runs the command itself
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130


def crash_line(sig: int) -> str:
    """The one line for a child killed by ``sig``."""
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    return (f"error: the Keras backend crashed ({name}) in native code, not in cnnviz's checks; a known cause is "
            f"TensorFlow's oneDNN on CPUs with AVX-512/AMX: rerun with TF_ENABLE_ONEDNN_OPTS=0 (or --backend jax), "
            f"and report it with the command")


def run_guarded(argv: list[str]) -> int:
    """Run ``argv`` (a Python command line) as a guarded child; its exit status, or 4 after one line
    if a signal killed it (130 for SIGINT)."""
    env = dict(os.environ, **{CHILD: "1"})
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # the child gets Ctrl-C from the terminal
    try:
        code = subprocess.call(argv, env=env)
    finally:
        signal.signal(signal.SIGINT, previous)
    if code >= 0:
        return code
    if -code == signal.SIGINT:
        return EXIT_INTERRUPTED
    sys.stdout.flush()
    print(crash_line(-code), file=sys.stderr)
    return EXIT_INTERNAL


def guarded() -> bool:
    """True in the child (or when guarding is off: CNNVIZ_GUARDED=0 runs in this process)."""
    return CHILD in os.environ or os.name != "posix"
