"""Stage 5b on trees large enough that a second thread stages half of the files: all of them
land, or (a failure or Ctrl-C in either half) none do and no staged file is left behind."""

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


def test_ctrl_c_while_the_second_thread_stages_leaves_the_previous_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree, changes = large_tree(tmp_path)
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
