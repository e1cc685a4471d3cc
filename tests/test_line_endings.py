"""A checkout with git's core.autocrlf=true (the Windows default) gives every text file CRLF
line ends while the committed blobs keep LF. Such a checkout must pass `check`, regenerate
nothing, and produce the same generated files, record and snapshots as an LF checkout, or its
users and everyone else would keep "fixing" each other's files.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import MINIMAL_CONFIG, Run, tree_bytes

CONFIG = (
    MINIMAL_CONFIG
    + 'services = {templates = "templates"}\n'
    + '[[descriptors]]\nprefix = "acme"\ntarget = "api/next.pb.txt"\nsource_info = true\n'
)

PROTO = """\
// The file's comment,
// on two lines.
syntax = "proto3";

// The package.
package acme.v1;

// A thing.
message Thing {
  string name = 1;  // its name
}

// The things service:
// it serves things.
service Things {
  // Get one thing.
  // Or none.
  rpc Get(Thing) returns (Thing);
}
"""

TEMPLATE = """\
# Services of {{ file.proto }}.
{% for service in file.services %}
# {{ service.name }}: {{ service.docstring }}
{% endfor %}
"""


@pytest.fixture
def generated(project: Callable[..., Path], run: Run) -> Path:
    root = project(
        {
            "Protobuild.toml": CONFIG,
            "proto/acme/v1/thing.proto": PROTO,
            "templates/{stem}_notes.py.j2": TEMPLATE,
        }
    )
    assert run("-q").code == 0
    return root


def to_crlf(*paths: Path) -> None:
    """Every file under `paths` as a CRLF checkout has it."""
    for top in paths:
        for path in [top] if top.is_file() else sorted(top.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


def outputs(root: Path) -> dict[str, bytes]:
    return {
        **tree_bytes(root / "gen"),
        "Protobuild.sum": (root / "Protobuild.sum").read_bytes(),
        "api/next.pb.txt": (root / "api/next.pb.txt").read_bytes(),
    }


def test_crlf_protos_and_templates_generate_the_same_files(generated: Path, run: Run) -> None:
    before = outputs(generated)
    assert b"\r" not in b"".join(before.values())
    to_crlf(generated / "proto", generated / "templates")
    shutil.rmtree(generated / "gen")
    shutil.rmtree(generated / ".protobuild-cache")
    assert run("-q").code == 0
    assert outputs(generated) == before


def test_a_crlf_checkout_of_everything_passes_check_and_is_left_as_it_is(
    generated: Path, run: Run
) -> None:
    to_crlf(
        generated / "proto",
        generated / "templates",
        generated / "gen",
        generated / "api",
        generated / "Protobuild.sum",
    )
    shutil.rmtree(generated / ".protobuild-cache")  # a fresh clone
    checkout = outputs(generated)
    result = run("check")
    assert (result.code, result.out) == (0, "")
    assert "current" in result.err
    assert run("-q").code == 0
    assert outputs(generated) == checkout  # nothing rewritten to LF, nothing to commit


def test_an_edit_in_a_crlf_checkout_is_still_drift(generated: Path, run: Run) -> None:
    to_crlf(generated / "gen")
    stub = generated / "gen/pkg/acme/v1/thing_pb2.pyi"
    edited = stub.read_bytes().replace(b"name: _builtins.str", b"name: _builtins.int")
    assert edited != stub.read_bytes()
    stub.write_bytes(edited)
    shutil.rmtree(generated / ".protobuild-cache")
    result = run("check")
    assert result.code == 1
    assert "thing_pb2.pyi" in result.out
