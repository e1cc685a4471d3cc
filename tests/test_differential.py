"""The compile stage's raw outputs equal what the plain tools produce for the same inputs:
protoc's `_pb2.py` (before import rewriting) equals `python -m grpc_tools.protoc`'s, and
mypy-protobuf run in-process equals the protoc-gen-mypy plugins run by protoc.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from protobuild import config, distribution_stubs, resolve
from protobuild.compile import compile_plan, descriptor_set
from tests.conftest import CASES

BIN = Path(sys.executable).parent


def plain_protoc(
    project: Path, out: Path, outputs: list[str], parameter: str = ""
) -> dict[str, bytes]:
    """Run `python -m grpc_tools.protoc` as a user would, over every proto of the case;
    `parameter` goes to each output (the plugins' options)."""
    plan = resolve.resolve(config.load(project / "Protobuild.toml"))
    includes = [root.protoc_flag() for root in plan.includes if root.kind != resolve.WELL_KNOWN]
    plugins = [
        f"--plugin=protoc-gen-mypy={BIN / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={BIN / 'protoc-gen-mypy_grpc'}",
    ]
    flags = [f"--{name}_out={parameter}{':' if parameter else ''}{out}" for name in outputs]
    argv = [sys.executable, "-m", "grpc_tools.protoc", *includes, *plugins, *flags]
    argv += [proto.import_path for proto in plan.files]
    subprocess.run(argv, check=True, capture_output=True, cwd=project)
    return {
        p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
    }


def compiled(project: Path) -> dict[tuple[str, str], bytes]:
    plan = resolve.resolve(config.load(project / "Protobuild.toml"))
    return {(f.generator, f.path): f.content for f in compile_plan(plan).files}


@pytest.mark.parametrize("name", ["nested", "googleapis", "prefixed"])
def test_pb2_and_grpc_equal_plain_protoc(name: str, tmp_path: Path) -> None:
    project = tmp_path / name
    shutil.copytree(CASES / name, project)
    ours = compiled(project)
    theirs = plain_protoc(project, _mkdir(tmp_path / "plain"), ["python", "grpc_python"])
    for (generator, path), content in ours.items():
        if generator in ("python", "grpc"):
            assert theirs[path] == content, path
    assert {p for g, p in ours if g == "python"} == {p for p in theirs if p.endswith("_pb2.py")}


# protoc-gen-mypy's parameter for each set of options in Protobuild.toml.
OPTION_SETS = {
    "": "",
    "readable_stubs = true, relax_strict_optional_primitives = true": (
        "readable_stubs,relax_strict_optional_primitives"
    ),
    "use_default_deprecation_warnings = true, generate_concrete_servicer_stubs = true": (
        "use_default_deprecation_warnings,generate_concrete_servicer_stubs"
    ),
}
STUBS_CASE = Path(__file__).parent / "differential" / "stubs"


@pytest.mark.parametrize("source", [CASES / "nested", CASES / "googleapis", STUBS_CASE])
@pytest.mark.parametrize("options", list(OPTION_SETS))
def test_mypy_protobuf_in_process_equals_the_plugin(
    source: Path, options: str, tmp_path: Path
) -> None:
    project = tmp_path / source.name
    shutil.copytree(source, project)
    _set_mypy_options(project / "Protobuild.toml", options)
    ours = compiled(project)
    parameter = OPTION_SETS[options]
    theirs = plain_protoc(project, _mkdir(tmp_path / "plain"), ["mypy", "mypy_grpc"], parameter)
    mine = {p: c for (g, p), c in ours.items() if g in ("mypy", "mypy_grpc")}
    with_services = {p for p in mine if p.endswith("_grpc.pyi")}
    # The plugin writes _grpc stubs for every file; protobuild only for files with services.
    expected = {
        p: c for p, c in theirs.items() if not p.endswith("_grpc.pyi") or p in with_services
    }
    assert mine == with_distribution_enums(project, expected)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_mypy_grpc_flavours_equal_the_plugin(flavour: str, tmp_path: Path) -> None:
    project = tmp_path / "stubs"
    shutil.copytree(STUBS_CASE, project)
    config_file = project / "Protobuild.toml"
    text = config_file.read_text()
    config_file.write_text(text.replace("mypy_grpc = {}", f'mypy_grpc = {{flavour = "{flavour}"}}'))
    mine = {p: c for (g, p), c in compiled(project).items() if g == "mypy_grpc"}
    theirs = plain_protoc(project, _mkdir(tmp_path / "plain"), ["mypy_grpc"], f"only_{flavour}")
    assert mine
    assert mine == {p: c for p, c in theirs.items() if p in mine}


def with_distribution_enums(project: Path, stubs: dict[str, bytes]) -> dict[str, bytes]:
    """The plugin's stubs with the one change protobuild makes on purpose: enums of a
    distribution whose stubs are protoc's typed as their class (see distribution_stubs)."""
    plan = resolve.resolve(config.load(project / "Protobuild.toml"))
    enums = distribution_stubs.protoc_styled_enums(plan, descriptor_set(plan))
    return {
        path: distribution_stubs.retyped(content.decode(), enums).encode()
        if path.endswith("_pb2.pyi")
        else content
        for path, content in stubs.items()
    }


def _set_mypy_options(config_file: Path, options: str) -> None:
    """Give both mypy generators `options` (TOML inline-table entries)."""
    text = config_file.read_text()
    for name in ("mypy", "mypy_grpc"):
        assert f"\n{name} = {{}}\n" in text
        text = text.replace(f"\n{name} = {{}}\n", f"\n{name} = {{{options}}}\n")
    config_file.write_text(text)


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize("workers", ["1", "2"])
def test_mypy_protobufs_options_are_read_in_a_fresh_process_however_many_workers(
    workers: str, tmp_path: Path
) -> None:
    """In-process tests may have imported mypy-protobuf before any descriptor set was parsed;
    a real run must read its casttype options whether or not it happened to."""
    project = tmp_path / "stubs"
    shutil.copytree(STUBS_CASE, project)
    env = {**os.environ, "PROTOBUILD_WORKERS": workers}
    done = subprocess.run(
        [sys.executable, "-m", "protobuild", "-q"], cwd=project, env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    stub = (project / "gen/acme/stubs/casts_pb2.pyi").read_text()
    assert "user_id: _ids.UserId" in stub


def test_a_proto_option_that_mypy_protobuf_misreads_names_the_file(tmp_path: Path) -> None:
    # googleapis' compute.proto: its own FieldOptions extension 1151 is also the number of
    # mypy-protobuf's (deprecated) casttype, whose value it then fails to parse.
    project = tmp_path / "clash"
    (project / "proto/acme").mkdir(parents=True)
    (project / "Protobuild.toml").write_text(
        'version = 1\n[output]\ndir = "gen"\npackage = "clash"\n[[roots]]\npath = "proto"\n'
        "[generators]\npython = {}\nmypy = {}\n"
    )
    (project / "proto/acme/ops.proto").write_text(
        'syntax = "proto3";\npackage acme;\nimport "google/protobuf/descriptor.proto";\n'
        "extend google.protobuf.FieldOptions { string operation_response_field = 1151; }\n"
        'message Op { string name = 1 [(operation_response_field) = "name"]; }\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "protobuild", "-q"], cwd=project, capture_output=True, text=True
    )
    assert done.returncode == 3
    last = done.stderr.splitlines()[-1]  # after mypy-protobuf's own warning about casttype
    assert last.startswith("proto/acme/ops.proto: mypy-protobuf failed: ")
    assert last.endswith("leave mypy out for it with an [[overrides]] table")
