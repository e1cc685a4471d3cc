"""The work of a fan-out, as every process taking part in it shares it (see parallel.py): the
chunks, a queue of their numbers that each process takes the next one from, and a temporary
directory through which workers hand their results back.

Workers are forked, so they inherit all of it; only chunk numbers, and results or failures,
cross between processes. Every temporary file of the fan-out (protoc's output directories
included) is made inside its directory, so that removing it afterwards leaves nothing
behind, even when an interrupt stopped a process half way through cleaning up after itself.
"""

from __future__ import annotations

import contextlib
import errno
import os
import struct
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from protobuild import limits
from protobuild.errors import InternalError, WriteError

T = TypeVar("T")

# A chunk's number in the queue: two bytes, far more chunks than any fan-out has.
_CHUNK_NUMBER = struct.Struct(">H")


class Work:
    """`function` over the chunks of `items` that `bounds` delimit, as (start, end)."""

    def __init__(
        self,
        function: Callable[[list[Any]], Any],
        items: Sequence[Any],
        bounds: list[tuple[int, int]],
        queue: int,
        directory: str,
    ) -> None:
        self.function, self.items, self.bounds = function, items, bounds
        # The read end of a pipe holding each chunk's number: a process takes the next chunk
        # by reading one, so whichever is free first takes it, and none is taken twice.
        self.queue = queue
        # Where workers leave their results, one file per chunk. Sent through the process
        # pool's pipe instead, half a large tree's code took 40-90 ms to pass, 64 KiB at a time.
        self.results = directory
        # The temporary directory of every process while it takes chunks (see scratch).
        self.scratch = os.path.join(directory, "tmp")

    def run(self, index: int) -> Any:
        start, end = self.bounds[index]
        with _temporary_files_in(self.scratch):
            return self.function(list(self.items[start:end]))

    def take(self) -> int | None:
        """The number of the next chunk nobody has taken (None: all are taken)."""
        taken = os.read(self.queue, _CHUNK_NUMBER.size)
        return _CHUNK_NUMBER.unpack(taken)[0] if taken else None

    def take_no_more(self) -> None:
        """Empty the queue after a failure: the other processes stop after their chunk."""
        while self.take() is not None:
            pass

    def save(self, index: int, result: Any) -> None:
        """Leave chunk `index`'s result for the process that started the fan-out."""
        self._leave(str(index), result)

    def save_failure(self, failure: ChunkError) -> None:
        """Leave a chunk's failure for the process that started the fan-out."""
        self._leave(f"{failure.index}{_FAILED}", failure)

    def _leave(self, name: str, value: Any) -> None:
        """`value` pickled in the results directory under `name`, whole or not at all (a
        worker killed half way must not leave half a result to be read)."""
        import pickle

        partial = os.path.join(self.results, f".{name}")
        try:
            with open(partial, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.rename(partial, os.path.join(self.results, name))
        except OSError as exc:
            # What was written goes: on a full disk, the failure must still find room.
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise cannot_pass_results(exc) from exc

    def has_result(self, index: int) -> bool:
        """Whether a worker left chunk `index`'s result (whole: see _leave)."""
        return os.path.exists(os.path.join(self.results, str(index)))

    def load(self, index: int) -> Any:
        """The result a worker left for chunk `index`."""
        import pickle

        with open(os.path.join(self.results, str(index)), "rb") as handle:
            return pickle.load(handle)

    def failures(self) -> dict[int, BaseException]:
        """The errors of the chunks that failed in workers, by chunk, each with the worker's
        traceback as its cause."""
        import pickle

        found: dict[int, BaseException] = {}
        try:
            names = os.listdir(self.results)
        except FileNotFoundError:  # gone: nothing could be left there
            return found
        for name in names:
            if name.endswith(_FAILED) and not name.startswith("."):
                with open(os.path.join(self.results, name), "rb") as handle:
                    failure = pickle.load(handle)
                found[failure.index] = failure.reraised()
        return found


# What a chunk's failure is left under, after its number.
_FAILED = ".failed"


def cannot_pass_results(exc: OSError | None = None) -> WriteError:
    """The error of a worker that cannot leave results in the temporary directory (`exc`,
    when it is known why)."""
    import tempfile

    why = f": {exc.strerror}" if exc is not None and exc.strerror else ""
    way_out = _way_out(exc) if exc is not None else _ANY_WAY_OUT
    return WriteError(
        f"a worker cannot pass its results through the temporary directory "
        f"{_outer_temporary_directory or tempfile.gettempdir()}{why}; {way_out}"
    )


def _way_out(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free space there, set TMPDIR to a directory with room, or " + limits.ONE_PROCESS
    if exc.errno == errno.EFBIG:
        return f"{limits.way_out(exc.errno)}, or {limits.ONE_PROCESS}"
    return "set TMPDIR to a directory protobuild can write to, or " + limits.ONE_PROCESS


_ANY_WAY_OUT = "free space there, set TMPDIR to another directory, or " + limits.ONE_PROCESS


@contextlib.contextmanager
def _temporary_files_in(directory: str) -> Iterator[None]:
    """tempfile's functions make their files and directories in `directory` meanwhile."""
    import tempfile

    global _outer_temporary_directory
    previous, outer = tempfile.tempdir, _outer_temporary_directory
    _outer_temporary_directory = tempfile.gettempdir()
    tempfile.tempdir = directory
    try:
        yield
    finally:
        tempfile.tempdir, _outer_temporary_directory = previous, outer


def temporary_directory() -> str:
    """The temporary directory TMPDIR names, as messages should show it: also while chunks
    make their temporary files in the fan-out's own directory below it."""
    import tempfile

    return _outer_temporary_directory or tempfile.gettempdir()


_outer_temporary_directory: str | None = None


@contextlib.contextmanager
def shared(
    function: Callable[[list[Any]], Any], items: Sequence[Any], bounds: list[tuple[int, int]]
) -> Iterator[Work]:
    """The work of a fan-out with its queue and its temporary directory (removed afterwards,
    with whatever a stopped process left in it)."""
    import shutil
    import tempfile

    directory = _made(lambda: tempfile.mkdtemp(prefix="protobuild-"))
    try:
        queue = _queue(len(bounds))
        try:
            work = Work(function, items, bounds, queue, directory)
            _made(lambda: os.mkdir(work.scratch))
            yield work
        finally:
            os.close(queue)  # first: removing the directory takes descriptors (ulimit -n)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _made(make: Callable[[], T]) -> T:
    """`make()`, which makes a temporary directory; WriteError naming TMPDIR if it cannot."""
    import tempfile

    try:
        return make()
    except OSError as exc:
        raise WriteError(
            f"cannot make a directory in the temporary directory {tempfile.gettempdir()}: "
            f"{exc.strerror}; {_way_out(exc)}"
        ) from exc


def _queue(chunks: int) -> int:
    """The read end of a pipe holding the numbers of `chunks` chunks. They are written at
    once (a few bytes each, far less than a pipe holds) and the write end is closed before
    any fork, so a read takes one whole number, or nothing once all are taken."""
    reader, writer = os.pipe()
    try:
        os.write(writer, b"".join(_CHUNK_NUMBER.pack(index) for index in range(chunks)))
    except BaseException:
        os.close(reader)
        raise
    finally:
        os.close(writer)
    return reader


class ChunkError(Exception):
    """What a worker raises when one of its chunks fails: which chunk, the error, and its
    traceback as text (tracebacks do not cross processes; the error itself is pickled)."""

    def __init__(self, index: int, error: BaseException, trace: str) -> None:
        error = _picklable(error)
        super().__init__(index, error, trace)
        self.index, self.error, self.trace = index, error, trace

    def reraised(self) -> BaseException:
        """The error, with the worker's traceback as its cause (as concurrent.futures does)."""
        self.error.__cause__ = _WorkerTracebackError(self.trace)
        return self.error


def _picklable(error: BaseException) -> BaseException:
    """`error`, or an InternalError saying what it was when it cannot cross to the parent
    (which would otherwise see a broken pool, reported as a worker killed)."""
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return InternalError(f"{type(error).__name__}: {error}")
    return error


class _WorkerTracebackError(Exception):
    def __str__(self) -> str:
        return f'\n"""\n{self.args[0]}"""'
