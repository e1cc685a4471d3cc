"""Shared fixtures: run the CLI in-process and lay out throwaway projects."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from protobuild.cli import main

TESTS = Path(__file__).parent
CASES = TESTS / "cases"
GOLDEN = TESTS / "golden"
UPDATE_GOLDEN = os.environ.get("PROTOBUILD_UPDATE_GOLDEN") == "1"


@dataclass(frozen=True)
class Result:
    """The outcome of one in-process CLI run."""

    code: int
    out: str
    err: str


Run = Callable[..., Result]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """Run `protobuild ARGS...` in-process and capture its exit code and output."""

    def invoke(*argv: str) -> Result:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Write files into a fresh project directory (the working directory) and return it."""
    monkeypatch.chdir(tmp_path)

    def write(files: dict[str, str]) -> Path:
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return tmp_path

    return write


@pytest.fixture
def case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """Copy tests/cases/NAME into a temporary directory and chdir there."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(CASES / name, target)
        monkeypatch.chdir(target)
        return target

    return copy


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under `root` (without caches) by posix relative path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


MINIMAL_CONFIG = """\
version = 1
[output]
dir = "gen/pkg"
package = "pkg"
[[roots]]
path = "proto"
[generators]
python = {}
grpc = {}
mypy = {}
mypy_grpc = {}
"""

THING_PROTO = """\
syntax = "proto3";
package acme.v1;
import "google/protobuf/timestamp.proto";
message Thing { string name = 1; google.protobuf.Timestamp at = 2; }
service Things { rpc Get(Thing) returns (Thing); }
"""


EXTRA_PROTO = 'syntax = "proto3";\npackage acme.v1;\nmessage Extra { int32 n = 1; }\n'


@pytest.fixture
def two_protos(project: Callable[..., Path], run: Run) -> Path:
    """A generated project: MINIMAL_CONFIG over THING_PROTO and EXTRA_PROTO."""
    root = project(
        {
            "Protobuild.toml": MINIMAL_CONFIG,
            "proto/acme/v1/thing.proto": THING_PROTO,
            "proto/acme/v1/extra.proto": EXTRA_PROTO,
        }
    )
    assert run("-q").code == 0
    return root


# Reports which heavy modules a run imported: a warm run must not load protoc at all.
PROBE = """\
import sys
from protobuild.cli import main
code = main(sys.argv[1:])
loaded = sorted(m for m in ("grpc_tools._protoc_compiler", "jinja2", "google.protobuf")
                if m in sys.modules)
print(code, loaded)
"""


def python(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `script` in a fresh interpreter in `cwd`: generated code imported as users import it."""
    return subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True)


def probe(root: Path, *argv: str) -> str:
    """Run protobuild ARGV in a child in `root`: "CODE [heavy modules it loaded]"."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], cwd=root, capture_output=True, text=True
    )
    return done.stdout.strip()
