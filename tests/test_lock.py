"""One run at a time per project, with real processes: a second run waits for the first and
says so; a run killed while holding the lock does not leave the project locked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import MINIMAL_CONFIG, THING_PROTO, Run, tree_bytes

# Holds the project's lock until its stdin closes; says "locked" once it has it.
HOLDER = """\
import sys
from pathlib import Path
from protobuild import cache, config, lock
cfg = config.load(Path("Protobuild.toml"))
with lock.exclusive(cache.cache_directory(cfg), lambda holder: None):
    print("locked", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def thing(project: Callable[..., Path]) -> Path:
    return project({"Protobuild.toml": MINIMAL_CONFIG, "proto/acme/v1/thing.proto": THING_PROTO})


def start_holder(root: Path, script: str) -> tuple[subprocess.Popen[str], str]:
    """`script` running in `root`, and the first line it printed (once it holds the lock)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    return holder, holder.stdout.readline()


def hold_lock(root: Path) -> subprocess.Popen[str]:
    holder, said = start_holder(root, HOLDER)
    assert said == "locked\n"
    return holder


def protobuild(root: Path, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "protobuild", *argv],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_second_run_waits_for_the_first_and_says_for_whom(thing: Path) -> None:
    holder = hold_lock(thing)
    run = protobuild(thing)
    assert run.stderr is not None
    line = run.stderr.readline()
    assert (
        line
        == f"protobuild: waiting for another run on this project (pid {holder.pid}) to finish\n"
    )
    assert run.poll() is None  # still waiting: nothing written yet
    assert not (thing / "gen").exists()
    holder.communicate("")  # release
    _, rest = run.communicate(timeout=120)
    assert run.returncode == 0, rest
    assert rest.startswith("protobuild: gen/pkg/: ")
    assert (thing / "gen/pkg/acme/v1/thing_pb2.py").is_file()


def test_check_waits_too_and_quiet_waits_silently(thing: Path, run: Run) -> None:
    assert run("-q").code == 0
    holder = hold_lock(thing)
    check = protobuild(thing, "check")
    quiet = protobuild(thing, "-q", "check")
    assert check.stderr is not None
    assert check.stderr.readline().startswith("protobuild: waiting for another run")
    holder.communicate("")
    assert check.communicate(timeout=120)[1] == "protobuild check: 8 generated files are current\n"
    assert quiet.communicate(timeout=120) == ("", "")
    assert (check.returncode, quiet.returncode) == (0, 0)


def test_a_killed_holder_leaves_the_project_unlocked(thing: Path) -> None:
    holder = hold_lock(thing)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    run = protobuild(thing)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert "waiting" not in err


def test_files_a_killed_run_had_staged_are_removed(thing: Path, run: Run) -> None:
    assert run("-q").code == 0
    before = tree_bytes(thing / "gen")
    leftover = thing / "gen/pkg/acme/v1/.thing_pb2.py.protobuild-99999"
    leftover.write_bytes(before["pkg/acme/v1/thing_pb2.py"])
    assert run("-q").code == 0
    assert not leftover.exists()
    assert tree_bytes(thing / "gen") == before


# Takes the lock in a process that may not write a single byte (as on a full disk).
NO_SPACE = """\
import resource, signal, sys
from pathlib import Path
from protobuild import lock
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead of killing
resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
with lock.exclusive(Path(sys.argv[1]), lambda holder: None):
    print("ran")
"""


def test_a_lock_file_that_cannot_be_written_does_not_stop_the_run(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", NO_SPACE, str(tmp_path)], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "ran\n", "")
    assert (tmp_path / "lock").read_bytes() == b""


# Holds the lock, forks a child that lives on (as a worker might), and says "locked".
HOLDER_WITH_CHILD = """\
import os, sys, time
from pathlib import Path
from protobuild import cache, config, lock
cfg = config.load(Path("Protobuild.toml"))
with lock.exclusive(cache.cache_directory(cfg), lambda holder: None):
    child = os.fork()
    if child == 0:
        time.sleep(120)
        os._exit(0)
    print(child, flush=True)
    sys.stdin.read()
"""


def test_the_lock_ends_with_its_run_not_with_the_processes_it_forked(thing: Path) -> None:
    holder, said = start_holder(thing, HOLDER_WITH_CHILD)
    child = int(said)
    try:
        holder.kill()
        holder.wait()
        run = protobuild(thing)
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        assert "waiting" not in err
    finally:
        os.kill(child, signal.SIGKILL)
