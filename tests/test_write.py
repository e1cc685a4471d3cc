"""Stage 5b on trees large enough that a second process (or, where none may be forked, a
second thread) stages half of the files: all of them land, or (a failure or Ctrl-C in either
half) none do and no staged file is left behind."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from protobuild import write
from protobuild.errors import WriteError
from protobuild.tree import Changes, OutputFile, OutputTree, staged_name
from tests.conftest import tree_bytes

# Over write.THREADED_FROM, in enough packages that the halves fall in different directories.
NAMES = [f"pkg{i:02}/m{j}.py" for i in range(40) for j in range(8)]
PREVIOUS = {name: b"previous " + name.encode() for name in NAMES[::3]}


def large_tree(root: Path) -> tuple[OutputTree, Changes]:
    assert len(NAMES) >= write.THREADED_FROM
    for name, content in PREVIOUS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    tree = OutputTree(root, tuple(OutputFile(n, n.encode() * 3) for n in NAMES))
    added = tuple(n for n in NAMES if n not in PREVIOUS)
    return tree, Changes(root, added=added, changed=tuple(PREVIOUS))


def test_every_file_of_a_large_tree_is_written(tmp_path: Path) -> None:
    tree, changes = large_tree(tmp_path)
    write.apply(tree, changes)
    assert tree_bytes(tmp_path) == {n: n.encode() * 3 for n in NAMES}


@pytest.mark.parametrize("failing", [NAMES[5], NAMES[-5]], ids=["first half", "second half"])
def test_a_file_that_cannot_be_staged_leaves_the_previous_tree(
    tmp_path: Path, failing: str
) -> None:
    tree, changes = large_tree(tmp_path)
    directory, name = os.path.split(tmp_path / failing)
    # A directory where the staged file would go: opening it for writing fails (even as root).
    Path(directory, staged_name(name)).mkdir(parents=True)
    with pytest.raises(WriteError) as caught:
        write.apply(tree, changes)
    assert str(tmp_path / failing) in str(caught.value)
    Path(directory, staged_name(name)).rmdir()
    assert tree_bytes(tmp_path) == PREVIOUS


def _children() -> set[int]:
    """This process's children, ended or not (a zombie is one that was never waited for)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                found.add(int(entry.name))
    return found


def test_the_second_process_gives_the_stats_of_the_files_it_staged(tmp_path: Path) -> None:
    tree, changes = large_tree(tmp_path)
    assert write._may_fork()  # or this tests the threads
    written = write.apply(tree, changes)
    assert written.keys() == set(NAMES)
    for name, (size, mtime) in written.items():
        found = os.stat(tmp_path / name)
        assert (size, mtime) == (found.st_size, found.st_mtime_ns), name
    assert _children() == set()


def test_ctrl_c_while_the_second_process_stages_leaves_the_previous_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree, changes = large_tree(tmp_path)
    assert write._may_fork()
    parent, real_write, wrote = os.getpid(), os.write, []

    def write_then_interrupt(handle: int, data: memoryview) -> int:
        if os.getpid() != parent:
            time.sleep(0.01)  # the child still staging when this process stops
        else:
            wrote.append(handle)
            if len(wrote) == 10:
                signal.raise_signal(signal.SIGINT)
        return real_write(handle, data)

    monkeypatch.setattr(os, "write", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write.apply(tree, changes)
    assert _children() == set()  # stopped and waited for before the sweep
    assert tree_bytes(tmp_path) == PREVIOUS  # nor any staged file: tree_bytes lists them all


def test_the_second_process_killed_while_staging_leaves_the_previous_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree, changes = large_tree(tmp_path)
    assert write._may_fork()
    parent, real_write = os.getpid(), os.write

    def killed_in_the_child(handle: int, data: memoryview) -> int:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)  # the OOM killer
        return real_write(handle, data)

    monkeypatch.setattr(os, "write", killed_in_the_child)
    with pytest.raises(WriteError, match="ended abruptly"):
        write.apply(tree, changes)
    assert _children() == set()
    assert tree_bytes(tmp_path) == PREVIOUS


def test_ctrl_c_while_the_second_thread_stages_leaves_the_previous_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree, changes = large_tree(tmp_path)
    monkeypatch.setattr(write, "_may_fork", lambda: False)  # no process may be forked here
    real_write = os.write
    helper_wrote: list[str] = []

    def write_then_interrupt(handle: int, data: memoryview) -> int:
        if threading.current_thread() is not threading.main_thread():
            helper_wrote.append(data.tobytes().decode())
            if len(helper_wrote) == 10:  # Python delivers it to the main thread
                signal.raise_signal(signal.SIGINT)
        return real_write(handle, data)

    real_open = os.open

    def open_late_after_interrupt(path: str, flags: int, mode: int = 0o777) -> int:
        if threading.current_thread() is not threading.main_thread() and len(helper_wrote) >= 10:
            time.sleep(0.3)  # the main thread has long stopped; it must wait for this file
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "write", write_then_interrupt)
    monkeypatch.setattr(os, "open", open_late_after_interrupt)
    with pytest.raises(KeyboardInterrupt):
        write.apply(tree, changes)
    assert len(helper_wrote) >= 10
    for thread in threading.enumerate():  # a thread still staging would leave a file
        if thread.name == "protobuild-stage":
            thread.join()
    assert tree_bytes(tmp_path) == PREVIOUS  # nor any staged file: tree_bytes lists them all


def test_names_near_the_file_system_limit_are_staged_under_shorter_names(tmp_path: Path) -> None:
    # 250 bytes is a legal name; `.NAME.protobuild-PID` would not be (255 bytes at most).
    names = ["a" * 247 + ".py", "a" * 247 + ".pi", "é" * 120 + ".py"]
    staged = {staged_name(name) for name in names}
    assert len(staged) == len(names)
    assert all(len(name.encode()) <= 255 and name.startswith(".") for name in staged)
    tree = OutputTree(tmp_path, tuple(OutputFile(n, n.encode()) for n in names))
    write.apply(tree, Changes(tmp_path, added=tuple(names)))
    assert tree_bytes(tmp_path) == {n: n.encode() for n in names}
