"""Standard output and error as protobuild writes to them, and the machine limits that end a
run with one line instead of a traceback. The CLI maps what they raise to exit codes."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable
from typing import Protocol, TextIO

from protobuild import limits
from protobuild.errors import WriteError, shown


def limit_reached(exc: Exception) -> str | None:
    """What to tell the user when `exc` is a limit of the machine, not a bug: out of memory,
    out of file descriptors, a path or file larger than the system takes. Any other error is
    None."""
    if isinstance(exc, MemoryError) or (isinstance(exc, OSError) and exc.errno == errno.ENOMEM):
        return (
            "out of memory; free some memory or raise the memory limit (ulimit -v)"
            + limits.or_one_process()
        )
    way_out = limits.way_out(exc.errno) if isinstance(exc, OSError) else None
    if not isinstance(exc, OSError) or way_out is None:
        return None
    where = f"{_shown_name(exc.filename)}: " if exc.filename is not None else ""
    return f"{where}{exc.strerror}; {way_out}"


def _shown_name(filename: object) -> str:
    if not isinstance(filename, str | bytes):  # a descriptor's number
        return str(filename)
    try:
        return shown(os.fsdecode(filename))
    except OSError:  # a working directory deeper than PATH_MAX has no name to be relative to
        return os.fsdecode(filename)


def report(err: Writer, line: str) -> None:
    """`line` on stderr if it can be written: failing to report an error must not change
    the exit code that says which error it was."""
    with contextlib.suppress(OSError, WriteError):
        err.write(f"{line}\n")
        err.flush()


class Writer(Protocol):
    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class Stream:
    """sys.stdout or sys.stderr as protobuild writes to them: a write that fails (a full
    disk, a descriptor closed before the run, where Python leaves the stream None) is a
    WriteError naming the stream, exit 3 with one line, never a traceback. A closed pipe
    stays BrokenPipeError: the reader had all it wanted (exit 120)."""

    def __init__(self, stream: TextIO | None, name: str) -> None:
        self._stream = stream
        self._name = name

    def write(self, text: str, /) -> int:
        if text:  # a closed stream is no error to a run with nothing to say
            self._do(lambda stream: stream.write(text))
        return len(text)

    def flush(self) -> None:
        if self._stream is not None:
            self._do(lambda stream: stream.flush())

    def _do(self, action: Callable[[TextIO], object]) -> None:
        if self._stream is None:
            raise WriteError(f"cannot write to {self._name}: it is closed; {_REDIRECT}")
        try:
            action(self._stream)
        except BrokenPipeError:
            raise
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise WriteError(f"cannot write to {self._name}: {reason}; {_REDIRECT}") from exc


_REDIRECT = "redirect it to a writable file or pipe (or to /dev/null to discard it)"


class Null:
    def write(self, text: str, /) -> int:
        return len(text)

    def flush(self) -> None:
        pass
