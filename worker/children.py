"""Child processes (ComfyUI, the preview engine) that die with the process that started them, however it ends.

A SIGTERM or Ctrl-C reaches the parent's cleanup code, which stops its children; `kill -9` does not, so on
Linux each child also asks the kernel (prctl PR_SET_PDEATHSIG) for SIGTERM when its parent dies. The signal
follows the *thread* that started the child, so children are started from the main thread.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` for subprocess.Popen, or None where the kernel offers no such thing."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()

    def preexec() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            return
        if os.getppid() != parent:          # the parent died before the request took effect
            os._exit(1)

    return preexec
