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


def _load_prctl():
    # Resolved once in the parent: the child, between fork and exec, must not dlopen (another thread of the parent
    # may have held the loader's lock at fork time).
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_prctl = _load_prctl()


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` for subprocess.Popen, or None where the kernel offers no such thing."""
    if _prctl is None:
        return None
    parent = os.getpid()
    prctl = _prctl

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:          # the parent died before the request took effect
            os._exit(1)

    return preexec
