"""The harness's error hierarchy: one class per kind of fault, each with its own exit code.

Every error carries a one-line message that names the file, cell, key or process at fault;
command-line entry points print that line (no traceback) and exit with the class's code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Type


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


def read_json(path: Path, label: str, missing_hint: str, error: Type[HarnessError]) -> Any:
    """Parse a JSON file the harness depends on; a missing or unparsable one is ``error`` with
    one line: ``<label>: missing; <missing_hint>`` or ``<label>: not valid JSON (...)``."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise error(f"{label}: missing; {missing_hint}") from None
    except json.JSONDecodeError as exc:
        raise error(f"{label}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
