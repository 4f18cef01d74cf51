"""The built-in exchange as a child process of the desk (`[venue] name = "sim"`, the default).

`SimProcess.start(config, key_dir)` runs `edgedesk sim` on 127.0.0.1 with a free port, waits for its
"listening" line, and reads the port from it; the desk then connects exactly as it would to Kalshi,
with the desk key the simulator wrote into `key_dir`. The child dies with the desk: on Linux the
kernel sends it SIGTERM when the desk process ends, however it ends (PR_SET_PDEATHSIG); elsewhere
`stop()` and an atexit hook terminate it. The desk imports nothing from `console.sim`.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from console.config import DeskConfig

LISTENING = "edgedesk sim listening on "
POLYMARKET = "edgedesk sim polymarket on "  # the Polymarket mirror's root URL (second stdout line)
START_TIMEOUT_S = 15.0
POLYMARKET_LINE_WAIT_S = 2.0  # printed right after the listening line


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class SimError(RuntimeError):
    """The built-in exchange did not start; the message carries the end of its stderr."""


class SimProcess:
    def __init__(self, process: subprocess.Popen[str], url: str, key_dir: Path, log_path: Path,
                 polymarket_url: str | None = None) -> None:
        self.process = process
        self.polymarket_url = polymarket_url  # None when the child printed no mirror line
        self.root_url = url
        self.rest_url = f"{url}/trade-api/v2"
        self.key_dir = key_dir
        self.log_path = log_path
        atexit.register(self.stop)

    @classmethod
    def start(cls, config: DeskConfig, key_dir: Path, *, extra_args: tuple[str, ...] = (),
              log_path: Path | None = None) -> SimProcess:
        sim = config.sim
        key_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_path or key_dir.parent / "sim.log"
        cmd = [sys.executable, "-m", "console.cli", "sim", "--host", "127.0.0.1", "--port", str(sim.port),
               "--key-dir", str(key_dir), "--accounts", str(sim.accounts), "--seed", str(sim.seed),
               "--speed", str(sim.speed), "--balance", str(sim.balance_dollars),
               "--world" if getattr(sim, "world", True) else "--no-world",
               "--demo-markets" if getattr(sim, "demo_markets", False) else "--no-demo-markets", *extra_args]
        stderr = open(log_path, "ab")  # noqa: SIM115 - the child writes to it for its whole life
        preexec = _die_with_parent if sys.platform.startswith("linux") else None
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True, preexec_fn=preexec,  # noqa: PLW1509
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        stderr.close()
        found: list[str] = []
        mirror: list[str] = []
        ready = threading.Event()
        mirror_seen = threading.Event()

        def pump() -> None:  # keep draining stdout so the child never blocks on a full pipe
            assert process.stdout is not None
            for line in process.stdout:
                if LISTENING in line and not found:
                    found.append(line.split(LISTENING, 1)[1].split()[0])
                    ready.set()
                elif POLYMARKET in line and not mirror:
                    mirror.append(line.split(POLYMARKET, 1)[1].split()[0])
                    mirror_seen.set()
            ready.set()
            mirror_seen.set()

        threading.Thread(target=pump, name="sim-stdout", daemon=True).start()
        if not ready.wait(START_TIMEOUT_S) or not found:
            process.kill()
            tail = log_path.read_text(errors="replace").splitlines()[-20:]
            raise SimError(f"the built-in exchange did not start within {START_TIMEOUT_S:g} s; its log "
                           f"({log_path}) ends:\n" + "\n".join(tail))
        mirror_seen.wait(POLYMARKET_LINE_WAIT_S)
        return cls(process, found[0], key_dir, log_path, mirror[0] if mirror else None)

    def stop(self, timeout_s: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout_s)
