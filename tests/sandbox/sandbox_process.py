"""A sandbox in a child process, for tests that watch what the server process itself does (its
memory, its stderr) while hostile clients talk to it.

Example::

    with SandboxProcess(max_body_bytes=1 << 20) as proc:
        proc.port, proc.secret          # talk to it over loopback
        proc.peak_rss_growth()           # bytes above the RSS at start (Linux /proc)
    proc.stderr                          # everything the server printed
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HELPERS = Path(__file__).resolve().parent
ROOT = HELPERS.parents[1]

_SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
import transport_helpers  # registers the sandboxtest.* methods
from bitrix_frames.sandbox import Sandbox
sb = Sandbox(deals=5, limits=False, **json.loads(sys.argv[2])).start()
print(sb.port, sb.config.secret, flush=True)
sys.stdin.read()  # serve until the test closes our stdin
sb.stop()
"""


class SandboxProcess:
    """Start with ``with``; ``stderr`` is readable after the block."""

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.stderr = ""
        self.port = 0
        self.secret = ""
        self._proc: subprocess.Popen | None = None
        self._err = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  (closed in _finish)

    def __enter__(self) -> SandboxProcess:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _SCRIPT, str(HELPERS), json.dumps(self.config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            text=True,
            cwd=ROOT,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self._finish()
            raise RuntimeError(f"the sandbox process did not start:\n{self.stderr}")
        port, self.secret = line.split()
        self.port = int(port)
        self._reset_peak()
        return self

    def __exit__(self, *exc: object) -> None:
        self._finish()

    @property
    def webhook_path(self) -> str:
        return f"/rest/1/{self.secret}/"

    def _status(self) -> dict[str, int]:
        assert self._proc is not None
        values = {}
        for line in Path(f"/proc/{self._proc.pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, amount, _unit = line.split()
                values[name[:-1]] = int(amount) * 1024
        return values

    def _reset_peak(self) -> None:
        # Writing 5 to clear_refs resets VmHWM (the peak RSS) to the current RSS.
        assert self._proc is not None
        Path(f"/proc/{self._proc.pid}/clear_refs").write_text("5")
        self._baseline = self._status()["VmRSS"]

    def peak_rss_growth(self) -> int:
        """How far the peak RSS rose above the RSS right after start, in bytes."""
        return self._status()["VmHWM"] - self._baseline

    def _finish(self) -> None:
        if self._proc is not None:
            try:
                if self._proc.stdin is not None:
                    self._proc.stdin.close()
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None
        if not self._err.closed:
            self._err.seek(0)
            self.stderr = self._err.read()
            self._err.close()
