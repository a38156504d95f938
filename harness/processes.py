"""Child processes that cannot outlive the harness.

``die_with_parent`` is a ``preexec_fn``: on Linux the kernel sends the child SIGKILL when the
process that started it dies, even by SIGKILL, so an interrupted matrix or test run leaves no
orphan cell, worker or browser behind. Elsewhere it does nothing (process groups still apply).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal

_PR_SET_PDEATHSIG = 1
# Resolved once, in the parent: a forked child of a threaded parent must not call dlopen/dlsym.
try:
    _PRCTL = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
except (OSError, AttributeError):  # not Linux
    _PRCTL = None


def _prctl_deathsig(sig: int) -> None:
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


def die_with_parent() -> None:
    """preexec_fn: a new session (so a kill reaches the child's own children) and SIGKILL when
    the parent dies."""
    os.setsid()
    _prctl_deathsig(signal.SIGKILL)


def exit_with_parent(sig: int = signal.SIGTERM) -> None:
    """For a process started by a tool we do not control (nox): ask the kernel to signal us
    when our parent dies."""
    _prctl_deathsig(sig)
