"""Before/after proto pairs for test_breaking, and a helper that compiles them with protoc."""

from __future__ import annotations

from pathlib import Path

from google.protobuf import descriptor_pb2

from protobuild.compile import run_protoc
from protobuild.resolve import well_known_types_dir

CASES = Path(__file__).parent


def build(root: Path, out: Path) -> descriptor_pb2.FileDescriptorSet:
    """Compile every .proto under `root` (import paths relative to it) into `out`.

    The set carries imports and source info, as `protobuild breaking` builds the current side.
    """
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.proto"))
    argv = ["protoc", f"-I{root}", f"-I{well_known_types_dir()}", f"--descriptor_set_out={out}"]
    code, errors = run_protoc([*argv, "--include_imports", "--include_source_info", *files])
    assert code == 0, errors
    return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
