"""Ctrl-C and SIGTERM (a cancelled CI job, a pre-commit timeout) stop a run cleanly: a short
message and exit code 130, no traceback, and the output tree either as it was or complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from protobuild import write
from protobuild.tree import Changes, OutputFile, OutputTree
from tests.conftest import EXTRA_PROTO, MINIMAL_CONFIG, THING_PROTO, Run, tree_bytes

INTERRUPTED = (
    "protobuild: interrupted; the generated files were either all written or left as they were\n"
)

# Runs the real command line (its entry point, which installs the SIGTERM handler) after
# `PATCH`, which arranges for the signal to arrive at a chosen moment.
DRIVER = """
import os, signal, sys, time
from protobuild import cli, pipeline, write
{patch}
sys.argv = ["protobuild", "-q", *{argv!r}]
cli.entry()
"""

WHILE_BUILDING = """
def build(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)
pipeline._build = build
"""

WHILE_RENAMING = """
real_replace = os.replace
def replace(source, destination):
    # The first file put in place (the cache's own files are written atomically too).
    if "/gen/" in str(destination) and not getattr(replace, "sent", False):
        replace.sent = True
        os.kill(os.getpid(), signal.{signal})
    real_replace(source, destination)
write.os.replace = replace
"""


def _drive(project_dir: Path, patch: str, *argv: str) -> subprocess.CompletedProcess[str]:
    code = DRIVER.format(patch=patch, argv=list(argv))
    return subprocess.run(
        [sys.executable, "-c", code], cwd=project_dir, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def edited(project: Callable[[dict[str, str]], Path], run: Run) -> tuple[Path, dict[str, bytes]]:
    """A generated project whose protos then changed: the next run adds and rewrites files."""
    files = {"Protobuild.toml": MINIMAL_CONFIG, "proto/acme/v1/thing.proto": THING_PROTO}
    root = project(files)
    assert run("-q").code == 0
    before = tree_bytes(root / "gen")
    (root / "proto/acme/v1/extra.proto").write_text(EXTRA_PROTO)
    (root / "proto/acme/v1/thing.proto").write_text(THING_PROTO + "message More {}\n")
    return root, before


def test_sigterm_while_building_leaves_the_tree_as_it_was(
    edited: tuple[Path, dict[str, bytes]],
) -> None:
    root, before = edited
    done = _drive(root, WHILE_BUILDING)
    assert (done.returncode, done.stderr) == (130, INTERRUPTED)
    assert tree_bytes(root / "gen") == before


def test_an_interrupted_check_says_only_that(edited: tuple[Path, dict[str, bytes]]) -> None:
    """check writes no generated file: what became of them is no news."""
    root, before = edited
    done = _drive(root, WHILE_BUILDING, "check")
    assert (done.returncode, done.stderr) == (130, "protobuild: interrupted\n")
    assert tree_bytes(root / "gen") == before


# SIGHUP: the terminal the run was started from closed.
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_stop_while_renaming_waits_for_the_whole_tree(
    edited: tuple[Path, dict[str, bytes]], run: Run, name: str
) -> None:
    root, before = edited
    done = _drive(root, WHILE_RENAMING.replace("{signal}", name))
    assert (done.returncode, done.stderr) == (130, INTERRUPTED)
    after = tree_bytes(root / "gen")
    assert after != before
    assert not [path for path in after if ".protobuild-" in path]  # no staged leftovers
    assert run("check").code == 0  # every file of the new tree is in place
    # The record too: it is written before the held interrupt is delivered, or the new tree
    # would stand with the old record (and the next run would rewrite it).
    record = (root / "Protobuild.sum").read_bytes()
    assert run("-q").code == 0
    assert (root / "Protobuild.sum").read_bytes() == record


def test_sighup_ignored_by_nohup_lets_the_run_finish(
    edited: tuple[Path, dict[str, bytes]], run: Run
) -> None:
    root, before = edited
    nohup = "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
    done = _drive(root, nohup + WHILE_RENAMING.replace("{signal}", "SIGHUP"))
    assert (done.returncode, done.stderr) == (0, "")
    assert tree_bytes(root / "gen") != before
    assert run("check").code == 0


def test_ctrl_c_during_renames_is_delivered_after_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"pkg{i}/m{j}.py" for i in range(3) for j in range(4)]
    tree = OutputTree(tmp_path, tuple(OutputFile(n, n.encode()) for n in names))
    real_replace = os.replace
    renamed: list[str] = []

    def replace(source: str, destination: str) -> None:
        if not renamed:
            signal.raise_signal(signal.SIGINT)
        real_replace(source, destination)
        renamed.append(destination)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        write.apply(tree, Changes(tmp_path, added=tuple(names)))
    assert len(renamed) == len(names)
    assert tree_bytes(tmp_path) == {n: n.encode() for n in names}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_while_a_file_is_staged_leaves_no_staged_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"pkg/m{j}.py" for j in range(4)]
    tree = OutputTree(tmp_path, tuple(OutputFile(n, n.encode()) for n in names))
    real_write = os.write

    def write_then_interrupt(handle: int, data: memoryview) -> int:
        if data.tobytes() == b"pkg/m2.py":  # the file exists, its bytes are not written yet
            signal.raise_signal(signal.SIGINT)
        return real_write(handle, data)

    monkeypatch.setattr(os, "write", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write.apply(tree, Changes(tmp_path, added=tuple(names)))
    assert list(tmp_path.iterdir()) == []
