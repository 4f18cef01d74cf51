"""`AccountLock`: one desk per venue account (a second instance refuses to trade the same account).

An exclusive `flock` on a file named after the venue URL and the API key id, in one directory per user
(`$EDGEDESK_LOCK_DIR`, else `<tmp>/edgedesk-<uid>/locks`), shared by every data directory: two desks with
different journals still cannot trade one account. The desk releases it on exit, and so does the operating system when the process dies (even by
SIGKILL), so a crashed desk never leaves a stale lock behind. The file holds the owner's pid so the
refusal can say who holds it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Self


def lock_dir() -> Path:
    env = os.environ.get("EDGEDESK_LOCK_DIR")
    return Path(env) if env else Path(tempfile.gettempdir()) / f"edgedesk-{os.getuid()}" / "locks"


class AccountLocked(RuntimeError):
    """Another edgedesk process is trading this account; the message names its pid and the lock file."""


class AccountLock:
    def __init__(self, venue_url: str, api_key_id: str, directory: str | os.PathLike[str] | None = None) -> None:
        digest = hashlib.sha256(f"{venue_url}|{api_key_id}".encode()).hexdigest()[:16]
        self.path = Path(directory or lock_dir()) / f"account-{digest}.lock"
        self.account = f"key {api_key_id[:8]}... at {venue_url}"
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise AccountLocked(f"another edgedesk (pid {holder}) is already trading {self.account}; stop it "
                                f"first (lock file {self.path})") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
