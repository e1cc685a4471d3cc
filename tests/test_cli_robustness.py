"""The command line where the machine gets in the way: streams closed or full, file names that
are not UTF-8, a bad PROTOBUILD_WORKERS, the limits of the system, and Ctrl-C while worker
processes start. Each is one line on stderr and the documented exit code, never a traceback.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from protobuild import parallel, write
from protobuild.errors import ConfigError
from tests.conftest import MINIMAL_CONFIG, THING_PROTO, Run, tree_bytes

Project = Callable[[dict[str, str]], Path]

REDIRECT = "redirect it to a writable file or pipe (or to /dev/null to discard it)"
INTERRUPTED = (
    "protobuild: interrupted; the generated files were either all written or left as they were\n"
)


def cli(
    root: Path,
    *argv: str,
    stdout: int | IO[Any] = subprocess.PIPE,
    stderr: int | IO[Any] = subprocess.PIPE,
    preexec: Callable[[], None] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m protobuild ARGV` in `root`, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "protobuild", *argv],
        cwd=root,
        stdout=stdout,
        stderr=stderr,
        text=True,
        preexec_fn=preexec,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def close_stdout() -> None:
    os.close(1)  # `protobuild >&-`: Python starts with sys.stdout None


@pytest.fixture
def generated(project: Project, run: Run) -> Path:
    root = project({"Protobuild.toml": MINIMAL_CONFIG, "proto/acme/v1/thing.proto": THING_PROTO})
    assert run("-q").code == 0
    return root


# -- 1. stdout closed or full ---------------------------------------------------------------


@pytest.mark.parametrize("argv", [("-q",), ("check",)], ids=["generate-q", "check"])
def test_a_closed_stdout_is_no_error_to_a_run_that_prints_nothing_there(
    generated: Path, argv: tuple[str, ...]
) -> None:
    done = cli(generated, *argv, preexec=close_stdout)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("argv", [("--version",), ("check",)], ids=["version", "check-drift"])
def test_a_closed_stdout_for_a_result_is_exit_3_in_one_line(
    generated: Path, argv: tuple[str, ...]
) -> None:
    stub = generated / "gen/pkg/acme/v1/thing_pb2.pyi"
    stub.write_text(stub.read_text() + "# hand edit\n")  # check has a report to print
    done = cli(generated, *argv, preexec=close_stdout)
    assert (done.returncode, done.stderr) == (
        3,
        f"protobuild: error: cannot write to standard output: it is closed; {REDIRECT}\n",
    )


@pytest.mark.parametrize("argv", [("--version",), ("explain",), ("--help",)])
def test_a_full_stdout_is_exit_3_in_one_line(generated: Path, argv: tuple[str, ...]) -> None:
    with open("/dev/full", "w") as full:
        done = cli(generated, *argv, stdout=full)
    assert (done.returncode, done.stderr) == (
        3,
        "protobuild: error: cannot write to standard output: No space left on device; "
        f"{REDIRECT}\n",
    )


def test_a_full_stderr_is_exit_3(generated: Path) -> None:
    with open("/dev/full", "w") as full:
        done = cli(generated, "check", stderr=full)
    assert done.returncode == 3


# -- 2. file names that are not UTF-8 ----------------------------------------------------------


def not_utf8(directory: Path, name: bytes) -> Path:
    path = directory / os.fsdecode(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('syntax = "proto3";\n')
    return path


@pytest.mark.parametrize("command", ["generate", "check", "explain", "proto/acme/v1/thing.proto"])
def test_a_proto_named_in_bytes_that_are_not_utf8_is_named_with_escapes(
    generated: Path, command: str
) -> None:
    before = tree_bytes(generated / "gen")
    not_utf8(generated / "proto/acme", b"\xff\xfeold.proto")
    done = cli(generated, command)
    assert (done.returncode, done.stderr) == (
        2,
        "proto/acme: the name '\\xff\\xfeold.proto' is not UTF-8, and protoc and Python need "
        "file names that are; rename it\n",
    )
    assert tree_bytes(generated / "gen") == before


def test_a_directory_named_in_bytes_that_are_not_utf8_is_the_one_named(generated: Path) -> None:
    not_utf8(generated / "proto", b"acme/v\xe92/x.proto")
    done = cli(generated, "-q")
    assert done.returncode == 2
    assert done.stderr.startswith("proto/acme: the name 'v\\xe92' is not UTF-8")


def test_an_include_directory_is_held_to_the_same(project: Project) -> None:
    config = MINIMAL_CONFIG + '[includes]\nbefore = ["vendor"]\n'
    root = project({"Protobuild.toml": config, "proto/acme/v1/thing.proto": THING_PROTO})
    not_utf8(root / "vendor", b"\x80.proto")
    done = cli(root, "-q")
    assert done.returncode == 2
    assert done.stderr.startswith("vendor: the name '\\x80.proto' is not UTF-8")


def test_a_template_directory_is_held_to_the_same(project: Project) -> None:
    """Templates may include files of any name, so every file there counts, and is checked."""
    config = MINIMAL_CONFIG + '[generators.services]\ntemplates = "tpl"\n'
    root = project(
        {
            "Protobuild.toml": config,
            "proto/acme/v1/thing.proto": THING_PROTO,
            "tpl/{stem}_x.py.j2": "# {{ file.proto }}\n",
        }
    )
    not_utf8(root / "tpl/parts", b"\x80.txt")
    done = cli(root, "-q")
    assert done.returncode == 2
    assert done.stderr.startswith("tpl/parts: the name '\\x80.txt' is not UTF-8"), done.stderr
    assert not (root / "gen").exists()


# -- 3. PROTOBUILD_WORKERS ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("abc", "is not a number of processes"),
        ("0", "is not a number of processes"),
        ("²", "is not a number of processes"),
        ("257", "is more processes than protobuild starts (at most 256)"),
        ("99999999999999999999", "is more processes than protobuild starts (at most 256)"),
    ],
)
def test_a_bad_worker_count_is_an_error_on_a_small_tree_and_on_a_cache_hit(
    generated: Path, run: Run, monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("PROTOBUILD_WORKERS", value)
    for argv in [("-q",), ("check",)]:  # both a cache hit: nothing would fan out
        result = run(*argv)
        assert result.code == 2
        assert result.err.startswith(f"protobuild: error: PROTOBUILD_WORKERS={value!r} {problem}")
        assert len(result.err.splitlines()) == 1


def test_a_worker_count_up_to_the_limit_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROTOBUILD_WORKERS", "0256")
    assert parallel.workers() == parallel.MAX_WORKERS == 256
    monkeypatch.setenv("PROTOBUILD_WORKERS", "1" + "0" * 5000)  # int() refuses it outright
    with pytest.raises(ConfigError, match="at most 256"):
        parallel.workers()


# -- 4. limits of the system -------------------------------------------------------------------


def test_a_path_longer_than_the_system_takes_is_named_with_the_way_out(project: Project) -> None:
    deep = "/".join(["d" * 200] * 25)  # 5,000 characters: more than PATH_MAX (4,096)
    config = MINIMAL_CONFIG.replace('path = "proto"', f'path = "{deep}"')
    root = project({"Protobuild.toml": config, "proto/acme/v1/thing.proto": THING_PROTO})
    done = cli(root, "-q")
    assert done.returncode == 3
    assert done.stderr.startswith(f"protobuild: error: {deep}")
    assert done.stderr.endswith(
        ": File name too long; shorten the path: move the project, or the directory "
        "Protobuild.toml names, somewhere with a shorter path\n"
    )


def _file_size_limit(kib: int) -> Callable[[], None]:
    def limit() -> None:  # `ulimit -f KIB`
        resource.setrlimit(resource.RLIMIT_FSIZE, (kib * 1024, kib * 1024))

    return limit


def _way_out_of_file_size(kib: int) -> str:
    return f"File too large; raise the limit on file size (ulimit -f, now {kib} KiB)"


BIG_TEMPLATE = "{% for n in range(4000) %}line {{ n }} of {{ file.proto }}\n{% endfor %}"


def test_a_generated_file_over_the_file_size_limit_is_named_with_the_way_out(
    project: Project,
) -> None:
    config = MINIMAL_CONFIG + 'services = { templates = "templates" }\n'
    root = project(
        {
            "Protobuild.toml": config,
            "proto/acme/v1/thing.proto": THING_PROTO,
            "templates/{stem}_big.txt.j2": BIG_TEMPLATE,  # 100 KiB, far more than the rest
        }
    )
    done = cli(root, "-q", preexec=_file_size_limit(32))
    assert (done.returncode, done.stderr) == (
        3,
        f"gen/pkg/acme/v1/thing_big.txt: cannot write: {_way_out_of_file_size(32)}\n",
    )
    assert not (root / "gen").exists()


def test_a_workers_result_over_the_file_size_limit_says_how_to_raise_it(tmp_path: Path) -> None:
    write_wide_tree(tmp_path)
    config = MINIMAL_CONFIG + 'services = { templates = "templates" }\n'
    (tmp_path / "Protobuild.toml").write_text(config)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates/{stem}_big.txt.j2").write_text(BIG_TEMPLATE)
    # 100 KiB a file, so 3 MiB for a worker's chunk of 32, while protoc's outputs stay small.
    done = cli(tmp_path, "-q", preexec=_file_size_limit(1024), env={"PROTOBUILD_WORKERS": "2"})
    assert done.returncode == 3
    assert done.stderr.startswith("protobuild: error: a worker cannot pass its results through")
    assert done.stderr.endswith(
        f"{_way_out_of_file_size(1024)}, or build in one process with PROTOBUILD_WORKERS=1\n"
    )
    assert not (tmp_path / "gen").exists()


@pytest.fixture
def small_tmpdir(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs: a TMPDIR that fills up. Needs root; skipped where it cannot be made."""
    mount = tmp_path / "small-tmp"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_temporary_directory_is_named_with_the_reason(
    tmp_path: Path, small_tmpdir: Path
) -> None:
    """A worker whose result does not fit removes what it wrote, so that its failure, which
    says why, still does."""
    write_wide_tree(tmp_path)
    config = MINIMAL_CONFIG + 'services = { templates = "templates" }\n'
    (tmp_path / "Protobuild.toml").write_text(config)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates/{stem}_big.txt.j2").write_text(BIG_TEMPLATE)  # 3 MiB a chunk
    env = {"PROTOBUILD_WORKERS": "2", "TMPDIR": str(small_tmpdir)}
    done = cli(tmp_path, "-q", env=env)
    assert (done.returncode, done.stderr) == (
        3,
        "protobuild: error: a worker cannot pass its results through the temporary directory "
        f"{small_tmpdir}: No space left on device; free space there, set TMPDIR to a directory "
        "with room, or build in one process with PROTOBUILD_WORKERS=1\n",
    )
    assert not (tmp_path / "gen").exists()
    assert list(small_tmpdir.iterdir()) == []


def write_wide_tree(root: Path, count: int = parallel.MIN_ITEMS_TO_SPLIT) -> None:
    """A tree large enough that a build fans out to worker processes (`count` protos)."""
    (root / "Protobuild.toml").write_text(MINIMAL_CONFIG)
    for number in range(count):
        directory = root / f"proto/p{number % 8}"
        directory.mkdir(parents=True, exist_ok=True)
        text = f'syntax = "proto3";\npackage p{number % 8};\nmessage M{number} {{}}\n'
        (directory / f"f{number}.proto").write_text(text)


def few_open_files() -> None:
    # `ulimit -n 7`: with 8, this tree builds in two processes (a fan-out holds a pipe of
    # chunk numbers, and protoc a few files at a time).
    resource.setrlimit(resource.RLIMIT_NOFILE, (7, 7))


def test_too_few_open_files_for_the_workers_says_how_to_raise_the_limit(tmp_path: Path) -> None:
    write_wide_tree(tmp_path)
    done = cli(tmp_path, "-q", preexec=few_open_files, env={"PROTOBUILD_WORKERS": "2"})
    assert done.returncode == 3
    # Which file it could not open (if any: a pipe has no name) depends on timing.
    assert done.stderr.startswith("protobuild: error: ")
    assert done.stderr.endswith(
        "Too many open files; raise the open-files limit (ulimit -n, now 7), or build in one "
        "process with PROTOBUILD_WORKERS=1\n"
    )
    assert len(done.stderr.splitlines()) == 1


def little_memory() -> None:
    limit = 2 << 30  # ample for protobuild itself, not for the whole file below
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


# The way out names one process only where the run would have used more.
@pytest.mark.parametrize(
    ("workers", "hint"), [("2", ", or build in one process with PROTOBUILD_WORKERS=1"), ("1", "")]
)
def test_running_out_of_memory_is_exit_3_in_one_line(
    generated: Path, workers: str, hint: str
) -> None:
    huge = generated / "proto/acme/v1/huge.proto"
    with open(huge, "wb") as handle:
        handle.truncate(8 << 30)  # sparse: no disk used, but reading it needs 8 GiB
    if os.stat(huge).st_blocks * 512 > 1 << 20:
        pytest.skip("this file system has no sparse files")
    done = cli(generated, "-q", preexec=little_memory, env={"PROTOBUILD_WORKERS": workers})
    assert (done.returncode, done.stderr) == (
        3,
        "protobuild: error: out of memory; free some memory or raise the memory limit "
        f"(ulimit -v){hint}\n",
    )


# -- 5. Ctrl-C while the workers start -------------------------------------------------------

# The real command line, with a signal sent from the parent's side of the first worker's fork:
# a moment when concurrent.futures is half way through starting its pool.
INTERRUPT_AT_FORK = """
import os, signal, sys
from protobuild import cli
sent = []
def interrupt():
    if not sent:
        sent.append(True)
        {send}
os.register_at_fork(after_in_parent=interrupt)
sys.argv = ["protobuild", "-q"]
cli.entry()
"""

SENDS = {
    "ctrl-c": "os.killpg(0, signal.SIGINT)",  # the whole process group, the worker too
    "sigterm-to-the-run": "os.kill(os.getpid(), signal.SIGTERM)",
}


@pytest.mark.parametrize("send", SENDS.values(), ids=SENDS.keys())
def test_an_interrupt_while_workers_start_ends_the_run_in_one_line(
    tmp_path: Path, send: str
) -> None:
    write_wide_tree(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPT_AT_FORK.format(send=send)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PROTOBUILD_WORKERS": "2"},
        start_new_session=True,  # its own process group, for the Ctrl-C
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (130, INTERRUPTED)
    assert not (tmp_path / "gen").exists()


# protoc, with few descriptors free, on a file that really is missing.
MISSING_WITH_FEW_FILES = """\
import resource
from protobuild.compile import _protoc_failure, run_protoc
resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))
code, errors = run_protoc(["protoc", "-I.", "--descriptor_set_out=set.bin", "absent.proto"])
failure = _protoc_failure(errors, [])
print(code, type(failure).__name__, failure)
"""


def test_a_missing_file_is_not_taken_for_too_few_descriptors(tmp_path: Path) -> None:
    """protoc says "No such file or directory" both for a file it could not open for want of
    a descriptor and for one that is not there: only the first is the open-files limit."""
    done = subprocess.run(
        [sys.executable, "-c", MISSING_WITH_FEW_FILES], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.stdout.startswith("1 CompileError protoc: "), done.stdout + done.stderr
    assert "absent.proto" in done.stdout


PIDS = Path("/sys/fs/cgroup/pids")


@pytest.fixture
def pids_limited() -> Iterator[Callable[[int], Callable[[], None]]]:
    """A cgroup (v1) whose pids.max a run joins: a container's limit on processes and
    threads. Needs root and the pids controller; skipped where they are not available."""
    group = PIDS / f"protobuild-test-{os.getpid()}"
    try:
        group.mkdir()
    except OSError:
        pytest.skip("no writable cgroup v1 pids controller here")

    def limit(count: int) -> Callable[[], None]:
        (group / "pids.max").write_text(str(count))

        def join() -> None:  # in the child, before it runs protobuild
            (group / "cgroup.procs").write_text(str(os.getpid()))

        return join

    yield limit
    # A worker may still be ending (it is sent SIGTERM when the run exits): the group can
    # only go once it is empty.
    deadline = time.monotonic() + 30
    while (group / "cgroup.procs").read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    group.rmdir()


@pytest.mark.parametrize("limit", [1, 2, 3, 8])
def test_too_few_processes_for_the_workers_is_a_build_without_them(
    tmp_path: Path, pids_limited: Callable[[int], Callable[[], None]], limit: int
) -> None:
    """Under a pids limit (a container's), a fork the system refuses leaves fewer workers,
    and this process takes their chunks: the same tree as a build in one process. (With a
    process pool, its threads could not start: a traceback, or a run waiting forever for a
    worker that never got its chunk.) Enough files that writing them takes a second thread,
    which cannot start under the lowest limits: one thread writes them all."""
    write_wide_tree(tmp_path, write.THREADED_FROM)
    done = cli(tmp_path, "-q", preexec=pids_limited(limit), env={"PROTOBUILD_WORKERS": "3"})
    assert (done.returncode, done.stderr) == (0, "")
    built = tree_bytes(tmp_path / "gen")
    shutil.rmtree(tmp_path / "gen")
    serial = cli(tmp_path, "-q", env={"PROTOBUILD_WORKERS": "1"})
    assert serial.returncode == 0, serial.stderr
    assert tree_bytes(tmp_path / "gen") == built
