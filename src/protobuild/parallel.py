"""Spread independent chunks of work over the machine's cores.

Most of a large build is Python (mypy-protobuf, templates, renaming), which one interpreter runs
on one core. Forked worker processes inherit everything already imported, so a fan-out costs a
few milliseconds; they are forked directly, without a process pool, and hand their results
back through files. This process takes chunks as well: it would otherwise wait idle, and its
own results need not cross from another process. Small inputs, platforms without fork, and
PROTOBUILD_WORKERS=1 run serially, in this process.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn, TypeVar

from protobuild import chunks
from protobuild.chunks import Work
from protobuild.errors import CompileError, ConfigError, WriteError

T = TypeVar("T")
R = TypeVar("R")

# Below this many items, forking costs more than it saves; no chunk is smaller than MIN_CHUNK.
MIN_ITEMS_TO_SPLIT = 64
MIN_CHUNK = 16
# Chunks per process. More would let a process that finishes early take another (a core busy
# with something else would delay the end less), but each chunk's protoc run reads again the
# protos its files import from other chunks, and a chunk's result crosses to the parent: on
# 1,000 protos with two cores, two chunks each cost 5% more time than one.
CHUNKS_PER_PROCESS = 1
# The most PROTOBUILD_WORKERS may ask for. A larger value is refused, not lowered to this: it
# is a typo (a digit too many) or a misunderstanding, and each worker is a forked copy of a
# build's memory; 256 is more than any machine protobuild runs on has cores to use.
MAX_WORKERS = 256


def workers() -> int:
    """How many processes a fan-out may use: PROTOBUILD_WORKERS, else the cores (up to 4).

    Raises ConfigError when PROTOBUILD_WORKERS is set to anything but a number from 1 to
    MAX_WORKERS: a typo must not quietly fall back to the default (say, 4 processes on a CI
    box meant for 1). The command line asks once, before anything is built, so that a bad
    value is an error however small the tree and even when the cache has the answer.
    """
    configured = os.environ.get("PROTOBUILD_WORKERS", "").strip()
    if not configured:
        return max(1, min(os.cpu_count() or 1, 4))
    # isascii: str.isdigit accepts digits that int() refuses ("²").
    significant = configured.lstrip("0")
    if not (configured.isascii() and configured.isdigit()) or not significant:
        raise ConfigError(
            f"PROTOBUILD_WORKERS={configured!r} is not a number of processes; set it to 1 or "
            "more, or unset it to use the machine's cores"
        )
    # Length first: int() of a number thousands of digits long raises a ValueError of its own.
    if len(significant) > len(str(MAX_WORKERS)) or int(significant) > MAX_WORKERS:
        raise ConfigError(
            f"PROTOBUILD_WORKERS={configured!r} is more processes than protobuild starts (at "
            f"most {MAX_WORKERS}); set it to the number of cores, or unset it to use them all"
        )
    return int(significant)


def chunked(items: Sequence[T], count: int) -> list[list[T]]:
    """`items` in `count` contiguous chunks of nearly equal size (no empty chunk)."""
    size, extra = divmod(len(items), count)
    pieces, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        if end > start:
            pieces.append(list(items[start:end]))
        start = end
    return pieces


def map_chunks(function: Callable[[list[T]], R], items: Sequence[T]) -> list[R]:
    """`function` applied to contiguous chunks of `items`, in parallel where it pays off.

    Results come back in chunk order, so output is the same however many processes ran.
    This process takes chunks too, alongside the workers it forks: they inherit `function`
    and `items` when forked, and only chunk numbers and results cross between processes.
    """
    count = workers()
    if count == 1 or len(items) < MIN_ITEMS_TO_SPLIT or not can_fork():
        return [function(list(items))]
    bounds = _bounds(len(items), min(count * CHUNKS_PER_PROCESS, len(items) // MIN_CHUNK))
    # Pickling the function (a partial holding the whole plan) for every chunk cost the
    # parent 10 ms and each worker 15 ms per chunk on 1,000 protos; forking copies it free.
    global _inherited
    # The temporary directory is made and removed while interrupts are held: one arriving
    # then is raised once it is gone, instead of leaving it behind.
    with _HeldInterrupts() as interrupts, chunks.shared(function, items, bounds) as work:
        _inherited = work
        try:
            # No more processes than chunks: each worker is a fork of the whole build.
            return _fan_out(work, min(count, len(bounds)) - 1, interrupts)
        finally:
            _inherited = None


def _fan_out(work: Work, forks: int, interrupts: _HeldInterrupts) -> list[Any]:
    """Fork up to `forks` workers, take chunks here too, then collect every chunk's result.

    No process pool: workers need nothing from one (they read chunk numbers from the queue
    and leave results in files), and a pool's threads were what failed under a low limit on
    threads or memory (a traceback, or a run waiting forever for a worker that never got
    its chunk).
    """
    workers: list[int] = []
    ended: list[int] = []  # the exit codes of those that ended
    try:
        _start_workers(work, forks, workers)
        mine, failures = interrupts.run(lambda: _work_here(work))
        if len(mine) + len(failures) < len(work.bounds):  # workers took some chunks
            interrupts.run(lambda: wait_for(workers, ended))
    except BaseException:
        # Stopped, not waited for: the chunks they have started could take seconds more.
        stop(workers, ended)
        raise
    stop(workers, ended)  # when this process took every chunk, the workers have nothing
    return _results(work, mine, failures, _CANNOT_SAVE in ended)


def _start_workers(work: Work, forks: int, workers: list[int]) -> None:
    """Fork `forks` workers, their pids put in `workers` as they start. A fork the system
    refuses (a limit on processes, or memory) leaves fewer: this process takes their chunks."""
    parent = os.getpid()
    for _ in range(forks):
        try:
            pid = os.fork()
        except OSError:
            return
        if pid == 0:
            _be_worker(work, parent)
        workers.append(pid)


def _be_worker(work: Work, parent: int) -> NoReturn:
    """A forked worker's whole life: it never returns into the code that forked it."""
    code = _STOPPED
    try:
        _end_with_parent(parent)
        code = _work_in_worker(work)
    except WriteError:  # not even its failure could be left in the results directory
        code = _CANNOT_SAVE
    finally:
        os._exit(code)


def _work_here(work: Work) -> tuple[dict[int, Any], dict[int, BaseException]]:
    """Take chunks in this process until none is left: (results, failures) by chunk."""
    results: dict[int, Any] = {}
    while (index := work.take()) is not None:
        try:
            results[index] = work.run(index)
        except Exception as exc:  # reported once the workers are done (see _results)
            work.take_no_more()
            return results, {index: exc}
    return results, {}


def wait_for(workers: list[int], ended: list[int] | None = None) -> None:
    """Wait for each child process to end, moving it off `workers` and its exit code to
    `ended` (when given)."""
    while workers:
        try:
            _, status = os.waitpid(workers[0], 0)
            if ended is not None:
                ended.append(os.waitstatus_to_exitcode(status))
        except ChildProcessError:  # not ours to wait for any more
            pass
        workers.pop(0)


def stop(workers: list[int], ended: list[int] | None = None) -> None:
    """SIGTERM the child processes and wait for them to end (see wait_for). A worker in a
    chunk raises KeyboardInterrupt, which removes the chunk's temporary files on its way out
    (see _on_terminate); inside protoc, it ends once protoc returns."""
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    wait_for(workers, ended)


def _results(
    work: Work, mine: dict[int, Any], failures: dict[int, BaseException], unsaved: bool
) -> list[Any]:
    """Every chunk's result in order; or the error to report: a failed chunk's (see
    _reported_order), else the one that kept a worker from leaving its chunk's result
    (`unsaved`: a worker could not write to the results directory)."""
    failures.update(work.failures())
    if failures:
        raise failures[min(failures, key=lambda index: _reported_order(failures[index], index))]
    missing = [i for i in range(len(work.bounds)) if i not in mine and not work.has_result(i)]
    if missing and unsaved:
        raise chunks.cannot_pass_results()
    if missing:
        raise CompileError(
            "a worker process ended abruptly (killed, out of memory, or protoc crashed); run "
            "with PROTOBUILD_WORKERS=1 to build in one process and see which"
        )
    return [mine[i] if i in mine else work.load(i) for i in range(len(work.bounds))]


def _reported_order(error: BaseException, chunk: int) -> tuple[bool, int]:
    """Which of several chunks' errors is reported: protoc's first (a chunk renders only
    after it compiles, so one process alone reports protoc's error before any template's),
    then the first chunk's, whichever process met it first: the same error every run,
    whatever the number of processes."""
    return (not isinstance(error, CompileError), chunk)


class _HeldInterrupts:
    """SIGINT, SIGTERM and SIGHUP in the parent during a fan-out: raised (by their own
    handlers, as KeyboardInterrupt) only while it takes chunks or waits for the workers, held
    elsewhere.

    Raised while workers are forked or stopped, a Ctrl-C could lose track of a worker (which
    went on building) or leave one unreaped. Held, it is raised once they are all ended; any
    failure after it (the workers got the Ctrl-C too) is reported as the interrupt it
    follows from.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._delivered = False
        self._waiting = False
        self._previous: dict[int, Callable[[int, Any], Any]] = {}

    def __enter__(self) -> _HeldInterrupts:
        import threading

        if threading.current_thread() is not threading.main_thread():
            return self  # only the main thread handles signals, and may set handlers
        try:
            with _blocked(STOPPING):  # a signal between two handlers must not skip the hold
                for signum in STOPPING:
                    self._install(signum)
        except BaseException:
            self._restore()
            raise
        return self

    def _install(self, signum: int) -> None:
        handler = signal.getsignal(signum)
        if callable(handler):  # SIG_DFL and SIG_IGN act in the kernel: nothing to hold
            self._previous[signum] = handler
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.received is None:
            self.received = signum
        if self._waiting:
            self._waiting = False
            self._deliver(signum, frame)

    def _deliver(self, signum: int, frame: object) -> None:
        self._delivered = True
        self._previous[signum](signum, frame)

    def run(self, work: Callable[[], R]) -> R:
        """`work()` (this process's chunks, or waiting for the workers): a signal held until
        now, or arriving meanwhile, is raised here."""
        self._waiting = True
        try:
            if self.received is not None:
                self._waiting = False
                self._deliver(self.received, None)
            return work()
        finally:
            self._waiting = False

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        try:
            # Runs the handler of a signal that has arrived but not been handled yet: the
            # child it also reached may be why the fan-out failed.
            signal.pthread_sigmask(signal.SIG_BLOCK, ())
        finally:
            with _blocked(STOPPING):
                self._restore()
        self._raise_held(error)

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _raise_held(self, error: BaseException | None) -> None:
        if self.received is None or isinstance(error, KeyboardInterrupt):
            return
        if error is not None:
            raise KeyboardInterrupt from error
        if not self._delivered:
            self._deliver(self.received, None)


@contextlib.contextmanager
def _blocked(signals: set[signal.Signals]) -> Iterator[None]:
    """`signals` blocked: they stay pending, and are handled once the mask is restored."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _end_with_parent(parent: int) -> None:
    """A worker's set-up: the kernel sends it SIGTERM when the process that forked it ends. A
    run killed with SIGKILL (the OOM killer, a CI timeout) would otherwise leave its workers
    waiting for work forever, holding memory and files."""
    import ctypes

    set_parent_death_signal = 1  # PR_SET_PDEATHSIG, from <linux/prctl.h>
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(set_parent_death_signal, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # it ended before the signal was asked for
        os._exit(130)


# The signals that stop a run (Ctrl-C, a cancelled CI job, a closed terminal): held while it
# forks, stages or renames, and ending a worker or a writing child quietly.
STOPPING = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def _before_fork() -> None:
    """Hold SIGINT, SIGTERM and SIGHUP across a worker's fork: other modules' fork hooks
    (logging's) run in the child before ours, and a Ctrl-C raised inside one of them left that
    child printing tracebacks or stuck. They are delivered once the handlers are in place."""
    if _inherited is not None:  # forked by map_chunks
        signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)


def _after_fork_in_parent() -> None:
    if _inherited is not None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)


def _in_forked_child() -> None:
    """Right after a fork, before any Python code of the child runs: in a worker, SIGTERM and
    SIGINT (Ctrl-C reaches the whole process group) end it quietly from the start; installed
    any later, a Ctrl-C just after the fork printed a worker's traceback. A signal the run
    ignores (SIGINT, in a shell script's background job) the worker ignores too: ending on it
    failed the build that went on without it."""
    if _inherited is not None:  # forked by map_chunks
        for signum in STOPPING:
            if signal.getsignal(signum) is not signal.SIG_IGN:
                signal.signal(signum, _on_terminate)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)


if hasattr(os, "register_at_fork"):
    # Registered last, so `before` runs first and `after_in_child` last of all the hooks.
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_in_forked_child,
    )


def _on_terminate(signum: int, frame: object) -> None:
    """In its chunks, unwind (temporary files are removed on the way out of
    `_work_in_worker`); before or after them, just end: what it did is in files already."""
    if _busy:
        raise KeyboardInterrupt
    os._exit(_STOPPED)


# What forked workers run (see map_chunks).
_inherited: Work | None = None
# In a worker: whether it is running chunks (see _on_terminate).
_busy = False
# A worker's exit codes: stopped (or interrupted) before its chunks were done; unable to
# leave even a failure in the results directory.
_STOPPED = 130
_CANNOT_SAVE = 75


def _work_in_worker(work: Work) -> int:
    """A worker's task: take chunks until none is left, leaving each result (or failure) in
    the results directory. Returns the worker's exit code."""
    global _busy
    _busy = True
    try:
        while (index := work.take()) is not None:
            _run_in_worker(work, index)
    except KeyboardInterrupt:
        # Ctrl-C (sent to the whole process group) or the parent's SIGTERM: cleanup has run
        # while unwinding.
        return _STOPPED
    finally:
        _busy = False
    return 0


def _run_in_worker(work: Work, index: int) -> None:
    """One chunk in a worker, its result or its failure left in the results directory."""
    try:
        result = work.run(index)
    except Exception as exc:
        import traceback

        work.take_no_more()
        work.save_failure(chunks.ChunkError(index, exc, traceback.format_exc()))
        return
    try:
        work.save(index, result)
    except WriteError as exc:
        work.save_failure(chunks.ChunkError(index, exc, ""))


def _bounds(total: int, count: int) -> list[tuple[int, int]]:
    """(start, end) of `count` contiguous chunks of `total` items, as `chunked` cuts them."""
    sizes = [len(chunk) for chunk in chunked(range(total), count)]
    ends = list(itertools.accumulate(sizes))
    return [(end - size, end) for size, end in zip(sizes, ends, strict=True)]


def can_fork() -> bool:
    """Whether helper processes may be forked: on Linux (macOS' system libraries are not
    fork-safe, and Windows has no fork)."""
    return sys.platform.startswith("linux")
