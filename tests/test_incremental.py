"""Partial rebuilds after an edit: only the edited protos and their importers are compiled,
and the result is byte for byte what a full build gives."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import MINIMAL_CONFIG, Run, tree_bytes

Project = Callable[[dict[str, str]], Path]
CONFIG = MINIMAL_CONFIG + "services = {}\n"


def proto(package: str, imports: tuple[str, ...] = (), body: str = "") -> str:
    lines = ['syntax = "proto3";', f"package {package};"]
    lines += [f'import "{name}";' for name in imports]
    return "\n".join(
        [
            *lines,
            f"message M {{ string s = 1; {body} }}",
            "service S { rpc Get(M) returns (M); }",
            "",
        ]
    )


FILES = {
    "proto/a/a.proto": proto("a"),
    "proto/b/b.proto": proto("b", ("a/a.proto",), "a.M a = 2;"),
    "proto/c/c.proto": proto("c", ("b/b.proto",), "b.M b = 2;"),
    "proto/d/d.proto": proto("d"),
    "proto/e/e.proto": proto("e"),
    "proto/f/f.proto": proto("f"),
    "proto/g/g.proto": proto("g"),
}


@pytest.fixture
def built(project: Project, run: Run) -> Path:
    root = project({"Protobuild.toml": CONFIG, **FILES})
    assert run("-q").code == 0
    return root


def full_build_of(root: Path, run: Run, tmp_path: Path) -> dict[str, bytes]:
    """What a from-scratch build of the same sources gives, in another directory."""
    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("gen", ".protobuild-cache"))
    assert run("-q", "-f", str(fresh / "Protobuild.toml")).code == 0
    return tree_bytes(fresh / "gen")


def edit(root: Path, name: str, extra: str) -> None:
    path = root / "proto" / name
    path.write_text(path.read_text() + extra)


def test_leaf_edit_rebuilds_one_proto(built: Path, run: Run, tmp_path: Path) -> None:
    edit(built, "d/d.proto", "message Added { int32 n = 1; }\n")
    result = run()
    assert result.err.endswith("files; 1 of 7 protos rebuilt)\n")
    assert tree_bytes(built / "gen") == full_build_of(built, run, tmp_path)


def test_edit_rebuilds_every_importer(built: Path, run: Run, tmp_path: Path) -> None:
    edit(built, "a/a.proto", "message Added { int32 n = 1; }\n")
    result = run()
    assert "3 of 7 protos rebuilt" in result.err
    assert tree_bytes(built / "gen") == full_build_of(built, run, tmp_path)


# Imports protoc reads that a simple `import "x";` pattern misses: an option-only import
# (edition 2024) and a path split into adjacent literals.
OPTIONS = (
    'edition = "2024";\npackage o;\nimport "google/protobuf/descriptor.proto";\n'
    "extend google.protobuf.MessageOptions { string table = 50002; }\n"
)
USES_OPTIONS = (
    'edition = "2024";\npackage u;\nimport option "o/" "opts.proto";\n'
    'message U { option (o.table) = "us"; string s = 1; }\n'
)


def test_edit_of_an_option_import_rebuilds_its_user(
    project: Project, run: Run, tmp_path: Path
) -> None:
    options = {"proto/o/opts.proto": OPTIONS, "proto/u/u.proto": USES_OPTIONS}
    root = project({"Protobuild.toml": CONFIG, **options, "proto/d/d.proto": proto("d")})
    assert run("-q").code == 0
    opts = root / "proto/o/opts.proto"
    opts.write_text(OPTIONS.replace("50002", "50003"))
    assert "2 changed" in run().err  # u.proto is rebuilt too
    assert tree_bytes(root / "gen") == full_build_of(root, run, tmp_path)


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (
            (root / "proto/z").mkdir() or (root / "proto/z/z.proto").write_text(proto("z"))
        ),
        lambda root: (root / "proto/e/e.proto").unlink(),
        lambda root: (root / "Protobuild.toml").write_text(CONFIG.replace("services = {}\n", "")),
        lambda root: _append(root / "gen/pkg/e/e_pb2.pyi", "x: int\n"),
        lambda root: (root / "gen/pkg/e/e_pb2.pyi").unlink(),
        lambda root: (root / "Protobuild.toml").write_text(
            CONFIG + '[[descriptors]]\nprefix = ""\ntarget = "api.pb.txt"\n'
        ),
    ],
    ids=[
        "proto-added",
        "proto-removed",
        "config-changed",
        "output-edited",
        "output-deleted",
        "snapshots",
    ],
)
def test_anything_else_falls_back_to_a_full_build(
    built: Path, run: Run, tmp_path: Path, change: Callable[[Path], object]
) -> None:
    edit(built, "d/d.proto", "message Added { int32 n = 1; }\n")
    change(built)
    result = run()
    assert result.code == 0
    assert "protos rebuilt" not in result.err
    assert tree_bytes(built / "gen") == full_build_of(built, run, tmp_path)


def test_hand_edit_of_an_unaffected_output_is_repaired(built: Path, run: Run) -> None:
    edit(built, "d/d.proto", "message Added { int32 n = 1; }\n")
    target = built / "gen/pkg/a/a_pb2.pyi"
    original = target.read_text()
    target.write_text(original + "x: int\n")
    assert run("-q").code == 0
    assert target.read_text() == original


def test_partial_rebuild_removes_a_stray_generated_file(
    built: Path, run: Run, tmp_path: Path
) -> None:
    stray = built / "gen/pkg/e/stray_pb2.py"
    stray.write_text("# Code generated by protobuild from stray.proto. DO NOT EDIT.\n")
    edit(built, "d/d.proto", "message Added { int32 n = 1; }\n")
    result = run()
    assert "1 removed" in result.err
    assert "1 of 7 protos rebuilt" in result.err
    assert not stray.exists()
    assert tree_bytes(built / "gen") == full_build_of(built, run, tmp_path)


def _append(path: Path, text: str) -> None:
    with path.open("a") as stream:
        stream.write(text)
