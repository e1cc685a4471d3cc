"""Large plans are built in chunks, one process each: the result must not depend on it.

Trees here are larger than parallel.MIN_ITEMS_TO_SPLIT, so PROTOBUILD_WORKERS=3 really fans
out; every chunk's files import files of other chunks, and the per-package and per-run
templates and the API snapshot need every file at once.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from protobuild import cache, inputs, parallel, pipeline, record
from protobuild.errors import (
    CompileError,
    ConfigError,
    InternalError,
    TemplateError,
    WriteError,
)
from protobuild.tree import on_disk
from tests.conftest import MINIMAL_CONFIG, Run, tree_bytes

PACKAGES = 8
PER_PACKAGE = 10

CONFIG = MINIMAL_CONFIG + 'services = {}\n[[descriptors]]\nprefix = "org"\ntarget = "api.pb.txt"\n'

CUSTOM_TEMPLATES = {
    "{stem}_info.txt.j2": "{{ file.proto }}: {{ file.services | length }} services\n",
    "{package}/index.txt.j2": "{% for s in package.services %}{{ s.client_name }}\n{% endfor %}",
    "ALL.txt.j2": "{% for file in files %}{{ file.module }}\n{% endfor %}",
}


def _proto(package: int, number: int) -> str:
    lines = ['syntax = "proto3";', f"package org.p{package}.v1;"]
    lines.append('import "google/protobuf/timestamp.proto";')
    fields = ["  google.protobuf.Timestamp at = 1;"]
    if number > 0:
        lines.append(f'import "org/p{package}/v1/f{number - 1}.proto";')
        fields.append(f"  org.p{package}.v1.M{number - 1} previous = 2;")
    if package > 0:  # the previous package lives in another chunk for most files
        lines.append(f'import "org/p{package - 1}/v1/f0.proto";')
        fields.append(f"  org.p{package - 1}.v1.M0 other = 3;")
    lines += [f"message M{number} {{", *fields, "}"]
    if number % 2 == 0:
        lines.append(f"service S{number} {{ rpc Get(M{number}) returns (stream M{number}); }}")
    return "\n".join(lines) + "\n"


def _write_tree(root: Path, config: str) -> None:
    (root / "Protobuild.toml").write_text(config)
    for package in range(PACKAGES):
        directory = root / f"proto/org/p{package}/v1"
        directory.mkdir(parents=True)
        for number in range(PER_PACKAGE):
            (directory / f"f{number}.proto").write_text(_proto(package, number))


def _outputs(root: Path) -> dict[str, bytes]:
    """The generated tree, the API snapshot and the record of both (not the cache, which
    records file times)."""
    return {
        **tree_bytes(root / "gen"),
        "api.pb.txt": (root / "api.pb.txt").read_bytes(),
        # Its digests of generated files are taken in the processes that made them.
        "Protobuild.sum": (root / "Protobuild.sum").read_bytes(),
    }


def _build(root: Path, run: Run, monkeypatch: pytest.MonkeyPatch, workers: int) -> Path:
    """A copy of `root` generated with `workers` processes; returns the copy."""
    copy = root.parent / f"{root.name}-{workers}"
    shutil.copytree(root, copy)
    monkeypatch.setenv("PROTOBUILD_WORKERS", str(workers))
    monkeypatch.chdir(copy)
    result = run("-q")
    assert result.code == 0, result.err
    return copy


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    _write_tree(root, CONFIG)
    assert PACKAGES * PER_PACKAGE >= parallel.MIN_ITEMS_TO_SPLIT  # or nothing would fan out
    return root


def test_chunked_build_equals_serial_build(
    tree: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = _outputs(_build(tree, run, monkeypatch, 1))
    assert _outputs(_build(tree, run, monkeypatch, 3)) == serial
    assert "pkg/org/p7/v1/f8_services.py" in serial
    assert b"from pkg.org.p6.v1 import f0_pb2" in serial["pkg/org/p7/v1/f0_pb2.py"]
    assert serial["api.pb.txt"].count(b'name: "org/') == PACKAGES * PER_PACKAGE


def test_the_record_has_the_digest_of_each_file_as_the_workers_wrote_it(
    tree: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = _build(tree, run, monkeypatch, 3)
    config = pipeline.load(copy / "Protobuild.toml")
    recorded = record.entry(config, inputs.keys(config))
    assert recorded is not None
    on_disk_now = {p: Path(on_disk(config.output.dir, p)).read_bytes() for p in recorded.digests}
    assert recorded.digests == cache.digests(on_disk_now)
    assert len(recorded.digests) > PACKAGES * PER_PACKAGE * 3


def test_whole_plan_templates_see_every_chunk(
    tree: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, text in CUSTOM_TEMPLATES.items():
        (tree / "templates" / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / "templates" / name).write_text(text)
    (tree / "Protobuild.toml").write_text(
        CONFIG.replace("services = {}", 'services = { templates = "templates" }')
    )
    serial = _outputs(_build(tree, run, monkeypatch, 1))
    chunked = _outputs(_build(tree, run, monkeypatch, 3))
    assert chunked == serial
    assert chunked["pkg/ALL.txt"].count(b"pkg.org.") == PACKAGES * PER_PACKAGE
    assert chunked["pkg/org/p7/v1/index.txt"].count(b"Client\n") == PER_PACKAGE // 2
    assert chunked["pkg/org/p7/v1/f8_info.txt"].endswith(b"org/p7/v1/f8.proto: 1 services\n")


def test_an_error_in_a_later_chunk_names_the_file_and_keeps_the_tree(
    tree: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = _build(tree, run, monkeypatch, 3)
    before = tree_bytes(built / "gen")
    last = built / f"proto/org/p{PACKAGES - 1}/v1/f9.proto"
    last.write_text(last.read_text().replace("at = 1;", "at = ;"))
    result = run("-q")
    assert result.code == 3
    assert result.err.startswith(f"proto/org/p{PACKAGES - 1}/v1/f9.proto:"), result.err
    assert "Expected field number" in result.err
    assert tree_bytes(built / "gen") == before


def _all_in_chunks(processes: int) -> Barrier:
    """What each chunk function waits at until every process of the fan-out is in one: the
    test then knows who ran what, however late the workers started (forked, they inherit
    it)."""
    return multiprocessing.get_context("fork").Barrier(processes, timeout=60)


def _pid(barrier: Barrier, items: list[int]) -> list[tuple[int, int]]:
    barrier.wait()
    return [(item, os.getpid()) for item in items]


def test_map_chunks_keeps_order_and_uses_other_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROTOBUILD_WORKERS", "3")
    items = list(range(parallel.MIN_ITEMS_TO_SPLIT * 2))
    pid = functools.partial(_pid, _all_in_chunks(3))
    results = [pair for chunk in parallel.map_chunks(pid, items) for pair in chunk]
    assert [item for item, _ in results] == items
    pids = {pid for _, pid in results}
    assert os.getpid() in pids  # this process takes chunks too, instead of waiting idle
    assert len(pids) == 3  # and each worker took one
    assert _children(os.getpid()) == set()  # every worker ended and was waited for


def test_workers_inherit_the_function_instead_of_unpickling_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A build's function holds the whole plan: pickling it for every chunk cost more than a
    tenth of a second per fan-out. Forked workers inherit it, so even a closure (which
    pickle refuses) runs there."""
    monkeypatch.setenv("PROTOBUILD_WORKERS", "2")
    parent = os.getpid()
    offset = 1000
    barrier = _all_in_chunks(2)

    def shifted(chunk: list[int]) -> list[tuple[int, int]]:
        barrier.wait()
        return [(i + offset, os.getpid()) for i in chunk]

    items = list(range(parallel.MIN_ITEMS_TO_SPLIT * 2))
    results = [pair for chunk in parallel.map_chunks(shifted, items) for pair in chunk]
    assert [value for value, _ in results] == [i + offset for i in items]
    assert {pid for _, pid in results} - {parent}


def _fails_in_worker_first(parent: int, barrier: Barrier, chunk: list[int]) -> list[int]:
    """A chunk that fails: in a worker at once, in this process a moment later."""
    barrier.wait()
    if os.getpid() == parent:
        time.sleep(0.3)
    raise CompileError(f"chunk from {chunk[0]} failed")


def test_the_first_chunks_error_is_reported_whichever_process_failed_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two failing chunks: the error reported is the first chunk's, not the quickest one's,
    so that a run says the same thing every time."""
    monkeypatch.setenv("PROTOBUILD_WORKERS", "2")
    items = list(range(parallel.MIN_ITEMS_TO_SPLIT))
    fails = functools.partial(_fails_in_worker_first, os.getpid(), _all_in_chunks(2))
    with pytest.raises(CompileError, match="chunk from 0 failed"):
        parallel.map_chunks(fails, items)
    assert _children(os.getpid()) == set()  # every worker ended and was waited for


def _template_fails_first(barrier: Barrier, chunk: list[int]) -> list[int]:
    barrier.wait()
    if chunk[0] == 0:
        raise TemplateError("the first chunk's template failed")
    raise CompileError("protoc failed on the second chunk")


def test_protocs_error_is_reported_before_a_templates_error_of_an_earlier_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One process compiles every file before it renders any: it reports protoc's error.
    Several must say the same, or a 4-core CI box and a 2-core laptop disagree."""
    monkeypatch.setenv("PROTOBUILD_WORKERS", "2")
    items = list(range(parallel.MIN_ITEMS_TO_SPLIT))
    fails = functools.partial(_template_fails_first, _all_in_chunks(2))
    with pytest.raises(CompileError, match="protoc failed on the second chunk"):
        parallel.map_chunks(fails, items)


def _worker_does(
    parent: int, barrier: Barrier, action: Callable[[], object], chunk: list[int]
) -> list[int]:
    """A chunk that runs `action` in the worker, once both processes are in a chunk."""
    barrier.wait()
    if os.getpid() != parent:
        action()
    return chunk


def _map_with_a_worker_that(action: Callable[[], object]) -> list[list[int]]:
    """map_chunks over two chunks, one in this process, one in a worker doing `action`."""
    items = list(range(parallel.MIN_ITEMS_TO_SPLIT))
    does = functools.partial(_worker_does, os.getpid(), _all_in_chunks(2), action)
    return parallel.map_chunks(does, items)


def _bug() -> None:
    raise ValueError("a bug")


def test_an_unexpected_error_in_a_worker_keeps_its_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug's traceback is what its report needs; the worker's is the error's cause."""
    monkeypatch.setenv("PROTOBUILD_WORKERS", "2")
    with pytest.raises(ValueError, match="a bug") as raised:
        _map_with_a_worker_that(_bug)
    assert "in _bug" in str(raised.value.__cause__)


def _lose_the_results() -> None:
    """The directory a worker's result goes to disappears (as on a full disk, the write
    fails)."""
    if parallel._inherited is not None:
        shutil.rmtree(parallel._inherited.results)


def test_a_result_a_worker_cannot_pass_on_is_an_error_with_the_ways_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROTOBUILD_WORKERS", "2")
    with pytest.raises(WriteError, match=r"through the temporary directory .*PROTOBUILD_WORKERS=1"):
        _map_with_a_worker_that(_lose_the_results)


class _UnpicklableError(Exception):
    def __init__(self) -> None:
        super().__init__("cannot cross")
        self.lock = threading.Lock()


def _raise_unpicklable() -> None:
    raise _UnpicklableError


def test_an_error_that_cannot_cross_to_this_process_is_named_not_taken_for_a_kill(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error pickle refuses broke the pool, reported as a worker killed or out of memory."""
    monkeypatch.setenv("PROTOBUILD_WORKERS", "2")
    with pytest.raises(InternalError, match="_UnpicklableError: cannot cross"):
        _map_with_a_worker_that(_raise_unpicklable)


def _leave_temporary_files(fail: bool, chunk: list[int]) -> list[int]:
    """A chunk that leaves temporary files behind, as one interrupted while cleaning up."""
    tempfile.mkdtemp(prefix="protobuild-")
    tempfile.mkstemp()
    if fail:
        raise CompileError("failed")
    return chunk


@pytest.mark.parametrize("fail", [False, True], ids=["done", "failed"])
def test_a_fan_out_leaves_no_temporary_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: bool
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv("PROTOBUILD_WORKERS", "2")
    items = list(range(parallel.MIN_ITEMS_TO_SPLIT))
    with contextlib.suppress(CompileError):
        parallel.map_chunks(functools.partial(_leave_temporary_files, fail), items)
    assert list(tmp_path.iterdir()) == []


def _interrupt_itself() -> None:
    os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C to the process group reaches a worker


def test_a_worker_ignores_the_interrupts_its_run_ignores(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shell script's background job runs with SIGINT ignored: Ctrl-C at the terminal must
    not end its workers while the run itself goes on."""
    monkeypatch.setenv("PROTOBUILD_WORKERS", "2")
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        results = _map_with_a_worker_that(_interrupt_itself)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert [item for chunk in results for item in chunk] == list(range(parallel.MIN_ITEMS_TO_SPLIT))


def _be_killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_is_an_error_with_the_way_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROTOBUILD_WORKERS", "2")
    with pytest.raises(CompileError, match="PROTOBUILD_WORKERS=1"):
        _map_with_a_worker_that(_be_killed)


def _sleep_in_workers(chunk: list[int]) -> list[int]:
    time.sleep(30)
    return chunk


def test_an_interrupted_fan_out_stops_its_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C or SIGTERM reaching only the parent: without stopping the workers, it would
    wait for every started and queued chunk (here 30 s each)."""
    monkeypatch.setenv("PROTOBUILD_WORKERS", "2")
    # As the command line sets it up: SIGTERM is an interrupt, in workers too.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        signal.signal(signal.SIGALRM, signal.default_int_handler)
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            parallel.map_chunks(_sleep_in_workers, list(range(parallel.MIN_ITEMS_TO_SPLIT)))
        assert time.monotonic() - started < 15
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, previous)
    assert _children(os.getpid()) == set()  # every worker ended and was waited for


@pytest.mark.parametrize("value", ["two", "0", "-1", "1.5"])
def test_a_malformed_worker_count_is_an_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PROTOBUILD_WORKERS", value)
    with pytest.raises(ConfigError, match=f"PROTOBUILD_WORKERS='{value}' is not a number"):
        parallel.workers()


def test_an_empty_worker_count_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROTOBUILD_WORKERS", "")
    assert parallel.workers() == max(1, min(os.cpu_count() or 1, 4))


# A run whose workers sleep in their chunks; killed with SIGKILL by the test.
SLEEPING_RUN = """\
import os, time
from protobuild import chunks, parallel
os.environ["PROTOBUILD_WORKERS"] = "3"  # this process and two workers
def sleep(chunk):
    time.sleep(120)
    return chunk
parallel.map_chunks(sleep, list(range(parallel.MIN_ITEMS_TO_SPLIT)))
"""


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.add(int(entry.name))
    return found


def _wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_workers_end_when_their_run_is_killed_outright(tmp_path: Path) -> None:
    """SIGKILL (the OOM killer, a CI timeout) gives the run no chance to stop its workers;
    the kernel's parent-death signal does, instead of leaving them to wait forever."""
    # The run has no chance to remove its temporary directory either: it is left in tmp_path.
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    run = subprocess.Popen([sys.executable, "-c", SLEEPING_RUN], env=env)
    try:
        assert _wait_until(lambda: len(_children(run.pid)) == 2, 60)
        workers = _children(run.pid)
        run.kill()
        run.wait()

        def gone() -> bool:
            return not any(Path(f"/proc/{pid}").exists() for pid in workers)

        assert _wait_until(gone, 30), "orphaned workers still running"
    finally:
        run.kill()
