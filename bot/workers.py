"""Names for workers (the inbox's chat leases, the outbox's sends) that say where the process runs,
so a process starting on the same host can tell which holders are gone."""

import os
import secrets
import socket


def place() -> str | None:
    """This host and PID namespace: there a process id names one process, so what a process that
    is gone held can be taken back. None where that cannot be told."""
    try:
        return f"{socket.gethostname()[:32]}/{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return None


def worker_name() -> str:
    """Unique per call, so two holders in one process (tests, a restart) are two workers."""
    return f"{place() or socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


def gone_here(worker: str) -> bool:
    """A worker of this host's processes whose process no longer runs."""
    here = f"{place()}:"
    if place() is None or not worker.startswith(here):
        return False
    try:
        os.kill(int(worker.removeprefix(here).split(":")[0]), 0)
    except ProcessLookupError:
        return True
    except (OSError, ValueError):  # someone else's process (alive), or not a pid: leave it alone
        return False
    return False
