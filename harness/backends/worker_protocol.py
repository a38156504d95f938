"""A long-lived worker process spoken to in binary frames (the Python half of node/protocol.mjs).

Every read and write has a deadline: a worker that dies or hangs raises WorkerError with the
tail of its stderr, and the process is killed, so pytest never hangs and no orphan remains.
"""

from __future__ import annotations

import json
import os
import selectors
import struct
import subprocess
import threading
import time
from collections import deque
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..errors import WorkerError
from ..processes import die_with_parent

DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "int32": np.int32, "uint8": np.uint8}


def pack_tensors(tensors: Mapping[str, np.ndarray]) -> Tuple[List[Dict[str, Any]], List[bytes]]:
    specs: List[Dict[str, Any]] = []
    chunks: List[bytes] = []
    offset = 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array).tobytes()
        specs.append(
            {"name": name, "dtype": str(array.dtype), "shape": list(array.shape), "offset": offset, "nbytes": len(data)}
        )
        chunks.append(data)
        offset += len(data)
    return specs, chunks


def unpack_tensors(specs: Sequence[Mapping[str, Any]], payload: bytes) -> Dict[str, np.ndarray]:
    out = {}
    for spec in specs:
        raw = payload[spec["offset"] : spec["offset"] + spec["nbytes"]]
        out[spec["name"]] = np.frombuffer(raw, dtype=DTYPES[spec["dtype"]]).reshape(spec["shape"])
    return out


class WorkerProcess:
    """One child process; ``request`` sends a frame and waits for its answer."""

    def __init__(self, argv: Sequence[str], name: str, timeout: float, env: Optional[Dict[str, str]] = None) -> None:
        self.name = name
        self.timeout = timeout
        self.argv = list(argv)
        self._stderr: deque = deque(maxlen=200)
        self._next_id = 0
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            preexec_fn=die_with_parent,  # own process group; killed if the harness dies
        )
        os.set_blocking(self.proc.stdin.fileno(), False)
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()

    def _drain_stderr(self) -> None:
        for line in iter(self.proc.stderr.readline, b""):
            self._stderr.append(line.decode(errors="replace").rstrip())

    def stderr_tail(self, lines: int = 20) -> str:
        self._stderr_thread.join(timeout=0.5) if self.proc.poll() is not None else None
        return " | ".join(list(self._stderr)[-lines:]) or "(no stderr)"

    def _fail(self, what: str) -> WorkerError:
        try:
            code = self.proc.wait(timeout=0.5)  # a dying process: let it be reaped, so its code is known
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        state = f"exited with {code}" if code is not None else "killed by the harness"
        return WorkerError(f"{self.name} (pid {self.proc.pid}) {what}; {state}; stderr: {self.stderr_tail()}")

    def request(
        self, header: Dict[str, Any], chunks: Sequence[bytes] = (), timeout: Optional[float] = None
    ) -> Tuple[Dict[str, Any], bytes]:
        deadline = time.monotonic() + (timeout or self.timeout)
        self._next_id += 1
        header = {**header, "id": self._next_id, "payload_bytes": sum(len(c) for c in chunks)}
        head = json.dumps(header).encode()
        self._write(struct.pack("<I", len(head)) + head, deadline, header["op"])
        for chunk in chunks:
            self._write(chunk, deadline, header["op"])
        length = struct.unpack("<I", self._read(4, deadline, header["op"]))[0]
        answer = json.loads(self._read(length, deadline, header["op"]))
        payload = self._read(answer.get("payload_bytes", 0), deadline, header["op"])
        if answer.get("id") != header["id"]:
            raise self._fail(f"answered request {answer.get('id')} to request {header['id']}")
        if not answer.get("ok"):
            raise WorkerError(f"{self.name}: {header['op']} failed: {answer.get('error')}")
        return answer, payload

    def _write(self, data: bytes, deadline: float, op: str) -> None:
        view = memoryview(data)
        fd = self.proc.stdin.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_WRITE)
            while view:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise self._fail(f"did not accept the {op!r} request within {self.timeout:.0f} s")
                try:
                    n = os.write(fd, view)
                except BrokenPipeError:
                    raise self._fail(f"died before the {op!r} request was sent") from None
                view = view[n:]

    def _read(self, n: int, deadline: float, op: str) -> bytes:
        buf = bytearray()
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while len(buf) < n:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise self._fail(f"did not answer {op!r} within {self.timeout:.0f} s")
                chunk = os.read(fd, min(n - len(buf), 1 << 20))
                if not chunk:
                    time.sleep(0.05)  # let it exit so the code is known
                    raise self._fail(f"died while answering {op!r}")
                buf += chunk
        return bytes(buf)

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)

    def close(self) -> None:
        """Ask politely, then kill: the process is gone when this returns."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        for stream in (self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
