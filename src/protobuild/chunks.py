"""The work of a fan-out, as every process taking part in it shares it (see parallel.py): the
chunks, a queue of their numbers that each process takes the next one from, and the files
through which workers hand their results back.

Workers are forked, so they inherit all of it; only chunk numbers and results cross between
processes.
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from protobuild.errors import WriteError

# A chunk's number in the queue: two bytes, far more chunks than any fan-out has.
_CHUNK_NUMBER = struct.Struct(">H")


class Work(NamedTuple):
    """`function` over the chunks of `items` that `bounds` delimit, as (start, end)."""

    function: Callable[[list[Any]], Any]
    items: Sequence[Any]
    bounds: list[tuple[int, int]]
    # The read end of a pipe holding each chunk's number: a process takes the next chunk by
    # reading one, so whichever is free first takes it, and none is taken twice.
    queue: int
    # Where workers leave their results, one file per chunk. Sent through the process pool's
    # pipe instead, half a large tree's code took 40-90 ms to pass, 64 KiB at a time.
    results: str

    def run(self, index: int) -> Any:
        start, end = self.bounds[index]
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
        import pickle

        try:
            with open(os.path.join(self.results, str(index)), "wb") as handle:
                pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError as exc:
            raise WriteError(
                f"a worker cannot pass its results through the temporary directory "
                f"{os.path.dirname(self.results)}: {exc.strerror}; free space there, set "
                "TMPDIR to a directory with room, or build in one process with "
                "PROTOBUILD_WORKERS=1"
            ) from exc

    def load(self, index: int) -> Any:
        """The result a worker left for chunk `index`."""
        import pickle

        with open(os.path.join(self.results, str(index)), "rb") as handle:
            return pickle.load(handle)


@contextlib.contextmanager
def shared(
    function: Callable[[list[Any]], Any], items: Sequence[Any], bounds: list[tuple[int, int]]
) -> Iterator[Work]:
    """The work of a fan-out with its queue and its result directory (removed afterwards,
    with whatever a stopped worker left in it)."""
    import shutil
    import tempfile

    queue = _queue(len(bounds))
    try:
        results = tempfile.mkdtemp(prefix="protobuild-")
        try:
            yield Work(function, items, bounds, queue, results)
        finally:
            shutil.rmtree(results, ignore_errors=True)
    finally:
        os.close(queue)


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
        super().__init__(index, error, trace)
        self.index, self.error, self.trace = index, error, trace

    def reraised(self) -> BaseException:
        """The error, with the worker's traceback as its cause (as concurrent.futures does)."""
        self.error.__cause__ = _WorkerTracebackError(self.trace)
        return self.error


class _WorkerTracebackError(Exception):
    def __str__(self) -> str:
        return f'\n"""\n{self.args[0]}"""'
