"""One run at a time per project.

An editor's on-save hook, a pre-commit hook and `make protos` in another terminal may start
protobuild on one project at once. Unserialised, each would take the other's staged files for
stale generated files and delete them, and a check could compare the disk half way through a
write. Runs that write or compare the output tree therefore hold an exclusive lock on a file in
the project's cache directory; a second run waits for the first and then sees its result.

The lock is a POSIX record lock (lockf), held by this process alone: the kernel releases it
when the process ends, however it ends, so a killed run never leaves the project locked, even
while worker processes it forked are still finishing (they share a flock, not a lockf). Without
a cache directory (a read-only checkout) or without fcntl (Windows), runs are not serialised.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = "lock"


@contextlib.contextmanager
def exclusive(directory: Path | None, waiting: Callable[[str], None]) -> Iterator[None]:
    """Hold the lock of the project whose cache is `directory` for the block; when another run
    holds it, call `waiting` with a description of that run, then wait for it to finish."""
    handle = _open(directory)
    if handle is None:
        yield
        return
    try:
        _acquire(handle, waiting)
        yield
    finally:
        os.close(handle)  # releases the lock


def _open(directory: Path | None) -> int | None:
    if directory is None or fcntl is None:
        return None
    try:
        return os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        return None  # as without a cache directory: the run goes on, unserialised


def _acquire(handle: int, waiting: Callable[[str], None]) -> None:
    try:
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):  # EAGAIN or EACCES: another process holds it
        waiting(_holder(handle))
        _wait(handle)
    except OSError:
        return  # a file system without locks (some NFS mounts): the run goes on, unserialised
    # Who holds it, for the message of the next run that has to wait; a full disk only
    # costs that message. Fixed width, written over the last one: truncating first cost a
    # block freed and allocated again on every run.
    with contextlib.suppress(OSError):
        os.pwrite(handle, f"{os.getpid():>10}\n".encode(), 0)


def _wait(handle: int) -> None:
    with contextlib.suppress(OSError):  # as above; Ctrl-C still interrupts the wait
        fcntl.lockf(handle, fcntl.LOCK_EX)


def _holder(handle: int) -> str:
    """`pid N` of the run holding the lock, as it wrote it (best effort)."""
    written = os.pread(handle, 32, 0).decode("ascii", "replace").strip()
    return f"pid {written}" if written.isdigit() else "another process"
