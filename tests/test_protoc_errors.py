"""protoc's messages reach the user whole, however long, and without needing space in the
temporary directory (which may be the full disk protoc is complaining about)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from protobuild.compile import run_protoc


def test_more_errors_than_a_pipe_holds_are_all_captured(tmp_path: Path) -> None:
    # Each undefined type is one line of about 45 bytes: 3,000 of them overflow a 64 KiB pipe,
    # which would hang a capture through a pipe (protoc holds the GIL while it writes).
    fields = "".join(f"  Missing{n} f{n} = {n + 1};\n" for n in range(3000))
    (tmp_path / "many.proto").write_text(f'syntax = "proto3";\nmessage M {{\n{fields}}}\n')
    code, errors = run_protoc(["protoc", f"-I{tmp_path}", f"--python_out={tmp_path}", "many.proto"])
    assert code != 0
    lines = errors.splitlines()
    assert len(lines) == 3000
    assert sum(len(line) + 1 for line in lines) > 65536
    assert lines[-1] == f'{tmp_path / "many.proto"}:3002:3: "Missing2999" is not defined.'


def test_stderr_is_restored_after_a_capture(tmp_path: Path) -> None:
    before = os.fstat(2)
    argv = ["protoc", f"-I{tmp_path}", f"--descriptor_set_out={tmp_path / 'set'}", "absent.proto"]
    code, errors = run_protoc(argv)
    assert code != 0
    assert "absent.proto" in errors
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
    sys.stderr.write("")  # Python's own stderr still works
