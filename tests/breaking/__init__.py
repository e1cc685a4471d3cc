"""Before/after proto pairs for test_breaking, and a helper that compiles them with protoc.

Every case starts from base/ (one acme/v1/api.proto); `<case>/before/` and `<case>/after/`
hold the files that side adds to it or replaces, and either may be absent.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from google.protobuf import descriptor_pb2

from protobuild.compile import run_protoc
from protobuild.resolve import well_known_types_dir

CASES = Path(__file__).parent
BASE = CASES / "base"


def case_names() -> list[str]:
    """Every case directory, sorted."""
    return sorted(p.name for p in CASES.iterdir() if p.is_dir() and p != BASE and p.name[0] != "_")


def build_case(case: str, side: str, out: Path) -> descriptor_pb2.FileDescriptorSet:
    """Compile base/ overlaid with `<case>/<side>/` ("before" or "after"); files go under `out`."""
    tree = out / f"{case}.{side}"
    shutil.copytree(BASE, tree)
    if (CASES / case / side).is_dir():
        shutil.copytree(CASES / case / side, tree, dirs_exist_ok=True)
    return build(tree, out / f"{case}.{side}.binpb")


def build(root: Path, out: Path) -> descriptor_pb2.FileDescriptorSet:
    """Compile every .proto under `root` (import paths relative to it) into `out`.

    The set carries imports and source info, as `protobuild breaking` builds the current side.
    """
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.proto"))
    argv = ["protoc", f"-I{root}", f"-I{well_known_types_dir()}", f"--descriptor_set_out={out}"]
    code, errors = run_protoc([*argv, "--include_imports", "--include_source_info", *files])
    assert code == 0, errors
    return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
