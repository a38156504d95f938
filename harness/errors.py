"""The harness's error hierarchy: one class per kind of fault, each with its own exit code.

Every error carries a one-line message that names the file, cell, key or process at fault;
command-line entry points print that line (no traceback) and exit with the class's code.
"""

from __future__ import annotations

import sys
from typing import Callable


class HarnessError(Exception):
    """Base class; ``exit_code`` is what a command exits with when this escapes."""

    exit_code = 1

    def one_line(self) -> str:
        return f"{type(self).__name__}: {' '.join(str(self).split())}"


class ConfigError(HarnessError):
    """matrix.toml, the lock file or a command-line option is wrong."""

    exit_code = 2


class ArtifactError(HarnessError):
    """A committed model or reference file is missing, truncated or altered."""

    exit_code = 3


class BackendUnavailable(HarnessError):
    """A backend cannot run here (Node, onnxruntime-node, a browser is missing)."""

    exit_code = 4


class WorkerError(HarnessError):
    """A worker process died, hung or answered nonsense."""

    exit_code = 5


class GenerationError(HarnessError):
    """Training or export produced something the project refuses to commit."""

    exit_code = 6


def run_cli(main: Callable[[], int]) -> None:
    """Run ``main``; a HarnessError becomes its one line on stderr and its exit code."""
    try:
        code = main()
    except HarnessError as exc:
        print(exc.one_line(), file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code)
