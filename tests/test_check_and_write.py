"""`protobuild check` and the writer: exact reports, nothing written by check, minimal writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import EXTRA_PROTO, MINIMAL_CONFIG, THING_PROTO, Run, probe, python, tree_bytes

Project = Callable[[dict[str, str]], Path]
EXTRA = EXTRA_PROTO


@pytest.fixture
def current(two_protos: Path) -> Path:
    return two_protos


def test_check_passes_when_current(current: Path, run: Run) -> None:
    result = run("check")
    assert (result.code, result.out) == (0, "")
    assert result.err == "protobuild check: 10 generated files are current\n"
    assert run("-q", "check").err == ""


def test_check_lists_changed_missing_and_stale_with_diff_and_fix(current: Path, run: Run) -> None:
    (current / "proto/acme/v1/thing.proto").write_text(THING_PROTO.replace("name", "title"))
    (current / "proto/acme/v1/extra.proto").unlink()
    (current / "proto/acme/v2").mkdir()
    (current / "proto/acme/v2/new.proto").write_text('syntax = "proto3";\npackage acme.v2;\n')
    before = tree_bytes(current / "gen")
    result = run("check")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == "protobuild check: 7 generated file(s) are not current in gen/pkg/"
    assert "  changed: acme/v1/thing_pb2.py" in lines
    assert "  missing: acme/v2/new_pb2.py" in lines
    assert "  missing: acme/v2/__init__.py" in lines
    assert "  stale:   acme/v1/extra_pb2.py" in lines
    assert "--- a/gen/pkg/acme/v1/thing_pb2.pyi" in lines
    assert "+++ b/gen/pkg/acme/v1/thing_pb2.pyi" in lines
    assert any(line.startswith("-    def name(self)") or "-    name:" in line for line in lines)
    assert lines[-1] == "fix: run `protobuild` and commit the result"
    assert tree_bytes(current / "gen") == before


def test_check_run_from_elsewhere_names_files_as_git_would(
    current: Path,
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    (current / "proto/acme/v1/thing.proto").write_text(THING_PROTO.replace("name", "title"))
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    result = run("-f", str(current / "Protobuild.toml"), "check")
    assert result.code == 1
    shown = str(current).lstrip("/")
    assert f"--- a/{shown}/gen/pkg/acme/v1/thing_pb2.pyi" in result.out.splitlines()
    assert f"+++ b/{shown}/gen/pkg/acme/v1/thing_pb2.pyi" in result.out.splitlines()


def test_check_fix_command_names_the_config_given(current: Path, run: Run) -> None:
    (current / "gen/pkg/acme/v1/thing_pb2.py").unlink()
    result = run("-f", "Protobuild.toml", "check")
    assert (
        result.out.splitlines()[-1]
        == "fix: run `protobuild -f Protobuild.toml` and commit the result"
    )


def test_check_notices_a_hand_edit(current: Path, run: Run) -> None:
    target = current / "gen/pkg/acme/v1/extra_pb2.pyi"
    target.write_text(target.read_text() + "x: int\n")
    result = run("check")
    assert result.code == 1
    assert "+x: int" not in result.out
    assert "-x: int" in result.out


def test_toolchain_drift_is_reported_as_such(current: Path, run: Run) -> None:
    for path in (current / "gen").rglob("*_pb2.py"):
        text = path.read_text().replace("grpcio-tools 1.", "grpcio-tools 0.", 1)
        path.write_text(text.replace("_runtime_version.Domain.PUBLIC,\n", "x,\n"))
    result = run("check")
    assert result.code == 1
    assert "the committed files were generated with other versions:" in result.out
    assert "  committed: protobuild 0.1.0, grpcio-tools 0." in result.out
    assert "@@" not in result.out  # no wall of diff


def test_check_does_not_need_git(current: Path, run: Run) -> None:
    assert not (current / ".git").exists()
    os.environ.pop("GIT_DIR", None)
    assert run("check").code == 0


def test_only_changed_files_are_rewritten(current: Path, run: Run) -> None:
    untouched = current / "gen/pkg/acme/v1/extra_pb2.py"
    old = untouched.stat().st_mtime_ns
    os.utime(untouched, ns=(old - 10**9, old - 10**9))
    (current / "proto/acme/v1/thing.proto").write_text(THING_PROTO + "message More {}\n")
    result = run()
    assert (
        result.err
        == "protobuild: gen/pkg/: 0 added, 2 changed, 0 removed (10 files; 1 of 2 protos rebuilt)\n"
    )
    assert untouched.stat().st_mtime_ns == old - 10**9


def test_stale_outputs_and_empty_packages_are_removed(current: Path, run: Run) -> None:
    (current / "proto/acme/v2").mkdir()
    (current / "proto/acme/v2/new.proto").write_text('syntax = "proto3";\npackage acme.v2;\n')
    assert run("-q").code == 0
    assert (current / "gen/pkg/acme/v2/new_pb2.py").exists()
    shutil.rmtree(current / "proto/acme/v2")
    assert run("-q").code == 0
    assert not (current / "gen/pkg/acme/v2").exists()
    assert run("check").code == 0


def test_files_a_killed_run_staged_are_stale_and_removed(current: Path, run: Run) -> None:
    # A run killed while staging leaves its temporary files: empty, or part of a module.
    package = current / "gen/pkg/acme/v1"
    empty = package / ".thing_pb2.py.protobuild-4242"
    empty.touch()
    partial = package / ".extra_pb2.pyi.protobuild-77"
    partial.write_bytes((package / "extra_pb2.pyi").read_bytes()[:100])
    result = run("check")
    assert result.code == 1
    assert "acme/v1/.thing_pb2.py.protobuild-4242" in result.out + result.err
    assert run("-q").code == 0
    assert not empty.exists()
    assert not partial.exists()
    assert run("check").code == 0


def test_files_protobuild_did_not_write_are_left_alone(current: Path, run: Run) -> None:
    mine = current / "gen/pkg/acme/v1/helpers.py"
    mine.write_text("VALUE = 1\n")
    outside = current / "gen/notes.txt"
    outside.write_text("keep\n")
    (current / "proto/acme/v1/extra.proto").unlink()
    assert run("-q").code == 0
    assert mine.read_text() == "VALUE = 1\n"
    assert outside.read_text() == "keep\n"
    assert run("check").code == 0


def test_existing_py_typed_is_kept(current: Path, run: Run) -> None:
    marker = current / "gen/pkg/py.typed"
    marker.write_text("partial\n")
    assert run("check").code == 0
    assert run("-q").code == 0
    assert marker.read_text() == "partial\n"


def _turn_off_py_typed(root: Path) -> None:
    config = root / "Protobuild.toml"
    config.write_text(config.read_text().replace("[output]\n", "[output]\npy_typed = false\n"))


@pytest.mark.parametrize("fresh_clone", [False, True])
def test_py_typed_protobuild_wrote_goes_when_turned_off(
    current: Path, run: Run, fresh_clone: bool
) -> None:
    # The empty py.typed has no header; the previous run's list (the cache, or on a fresh
    # clone the committed record) shows that protobuild wrote it.
    marker = current / "gen/pkg/py.typed"
    assert marker.read_bytes() == b""
    _turn_off_py_typed(current)
    if fresh_clone:
        shutil.rmtree(current / ".protobuild-cache")
    result = run("check")
    assert result.code == 1
    assert "  stale:   py.typed" in result.out.splitlines()
    assert run("-q").code == 0
    assert not marker.exists()
    assert run("check").code == 0


def test_top_level_packages_each_get_py_typed(project: Project, run: Run) -> None:
    # PEP 561 wants the marker in each package; with package = "" there is no single one.
    config = MINIMAL_CONFIG.replace('package = "pkg"', 'package = ""')
    # Under google, every level may be other distributions' too: the marker goes where the
    # modules are, never into google/ or google/cloud/ themselves.
    mine = THING_PROTO.replace("package acme.v1;", "package google.cloud.mine.v1;")
    root = project(
        {
            "Protobuild.toml": config,
            "proto/acme/v1/thing.proto": THING_PROTO,
            "proto/google/cloud/mine/v1/thing.proto": mine,
        }
    )
    assert run("-q").code == 0
    markers = sorted(p.relative_to(root / "gen/pkg").as_posix() for p in root.rglob("py.typed"))
    assert markers == ["acme/py.typed", "google/cloud/mine/v1/py.typed"]
    _turn_off_py_typed(root)
    assert run("-q").code == 0
    assert list(root.rglob("py.typed")) == []
    assert run("check").code == 0


def test_py_typed_the_user_changed_stays_when_turned_off(current: Path, run: Run) -> None:
    marker = current / "gen/pkg/py.typed"
    marker.write_text("partial\n")
    _turn_off_py_typed(current)
    assert run("-q").code == 0
    assert marker.read_text() == "partial\n"
    assert run("check").code == 0


def test_hand_written_init_files_are_the_users_and_kept(project: Project, run: Run) -> None:
    # Protos beside hand-written code: the package's own __init__.py stays as it is, on every
    # path a run can take (full build, warm cache, fresh clone with the record, partial build).
    own = '"""The API package."""\nfrom .acme.v1 import thing_pb2 as thing_pb2\n'
    root = project(
        {
            "Protobuild.toml": MINIMAL_CONFIG,
            "proto/acme/v1/thing.proto": THING_PROTO,
            "gen/pkg/__init__.py": own,
            "gen/pkg/acme/__init__.py": "",
        }
    )
    assert run("-q").code == 0
    assert (root / "gen/pkg/__init__.py").read_text() == own
    assert (root / "gen/pkg/acme/__init__.py").read_text() == ""
    assert (root / "gen/pkg/acme/v1/__init__.py").read_bytes().startswith(b"# Code generated")
    (root / "gen/pkg/__init__.py").write_text(own + "VERSION = 2\n")  # theirs to change
    assert probe(root, "-q", "check") == "0 []"  # still a cache hit: no protoc loaded
    shutil.rmtree(root / ".protobuild-cache")
    assert run("-q", "check").code == 0  # a fresh clone: the committed record vouches
    (root / "proto/acme/v1/extra.proto").write_text(EXTRA)
    assert run("-q").code == 0  # a partial rebuild
    assert (root / "gen/pkg/__init__.py").read_text() == own + "VERSION = 2\n"
    assert run("-q", "check").code == 0
    generated_init = root / "gen/pkg/acme/v1/__init__.py"
    generated_init.write_bytes(generated_init.read_bytes() + b"x = 1\n")  # still ours: drift
    result = run("check")
    assert result.code == 1
    assert "  changed: acme/v1/__init__.py" in result.out.splitlines()


def test_output_is_identical_from_any_directory_and_discovery_order(
    project: Project, run: Run, tmp_path_factory: pytest.TempPathFactory
) -> None:
    files = {
        "Protobuild.toml": MINIMAL_CONFIG,
        "proto/acme/v1/thing.proto": THING_PROTO,
        "proto/acme/v1/extra.proto": EXTRA,
        "proto/zeta/z.proto": 'syntax = "proto3";\nimport "acme/v1/extra.proto";\n',
    }
    first = project(files)
    assert run("-q").code == 0
    second = tmp_path_factory.mktemp("second")
    for name in reversed(list(files)):  # created in the opposite order
        (second / name).parent.mkdir(parents=True, exist_ok=True)
        (second / name).write_text(files[name])
    os.chdir(second / "proto")
    assert run("-q", "-f", "../Protobuild.toml").code == 0
    assert tree_bytes(first / "gen") == tree_bytes(second / "gen")


def test_report_of_thousands_of_changed_files_stays_readable(tmp_path: Path) -> None:
    from protobuild.report import MAX_REPORT_DIFF_LINES, report
    from protobuild.tree import Changes, OutputFile, OutputTree

    paths = [f"pkg/m{n:04}_pb2.pyi" for n in range(1000)]
    old = "".join(f"line {n}\n" for n in range(30)).encode()
    tree = OutputTree(tmp_path, tuple(OutputFile(p, old.replace(b"line", b"LINE")) for p in paths))
    changes = Changes(tmp_path, changed=tuple(paths), current=dict.fromkeys(paths, old))
    lines = report(tree, changes, "protobuild").splitlines()
    assert lines[1:1001] == [f"  changed: {path}" for path in paths]  # every file is named
    diff_lines = lines[1001:-2]
    assert MAX_REPORT_DIFF_LINES <= len(diff_lines) < MAX_REPORT_DIFF_LINES + 100
    shown = sum(1 for line in diff_lines if line.startswith("--- a/"))
    assert lines[-2] == (
        f"... the diffs of {1000 - shown} more file(s) are left out; after the fix, `git diff` "
        "shows every change"
    )
    assert lines[-1] == "fix: run `protobuild` and commit the result"


def test_output_of_a_former_protoc_line_is_replaced(project: Project, run: Run) -> None:
    # The step to protobuild: gen/pkg holds what `python -m grpc_tools.protoc` wrote there.
    root = project({"Protobuild.toml": MINIMAL_CONFIG, "proto/acme/v1/thing.proto": THING_PROTO})
    out = root / "gen/pkg"
    out.mkdir(parents=True)
    argv = [sys.executable, "-m", "grpc_tools.protoc", "-Iproto", f"--python_out={out}"]
    argv += [f"--pyi_out={out}", f"--grpc_python_out={out}", "acme/v1/thing.proto"]
    subprocess.run(argv, cwd=root, check=True)
    old_stub = (out / "acme/v1/thing_pb2.pyi").read_bytes()
    check = run("check")
    assert check.code == 1
    assert "  changed: acme/v1/thing_pb2.py" in check.out.splitlines()
    assert run("-q").code == 0
    assert (out / "acme/v1/thing_pb2.pyi").read_bytes() != old_stub
    for name in ("thing_pb2.py", "thing_pb2.pyi", "thing_pb2_grpc.py"):
        assert (out / "acme/v1" / name).read_bytes().startswith(b"# Code generated by protobuild")
    assert run("-q", "check").code == 0


def test_an_output_at_the_project_top_leaves_other_trees_alone(project: Project, run: Run) -> None:
    # Another project's protobuild output installed in .venv: with the output at ".", it
    # would look like a stale generated file of this one.
    installed = "# Code generated by protobuild from other.proto. DO NOT EDIT.\n"
    config = MINIMAL_CONFIG.replace('dir = "gen/pkg"', 'dir = "."').replace(
        'package = "pkg"', 'package = ""'
    )
    root = project(
        {
            "Protobuild.toml": config,
            "proto/acme/v1/thing.proto": THING_PROTO,
            ".venv/lib/site-packages/other_pb2.py": installed,
            "venv/pyvenv.cfg": "home = /usr/bin\n",
            "venv/lib/site-packages/other_pb2.py": installed,
            "services/billing/Protobuild.toml": MINIMAL_CONFIG,  # a project of its own
            "services/billing/gen/pkg/other_pb2.py": installed,
        }
    )
    assert run("-q").code == 0
    for kept in ("venv/lib/site-packages", ".venv/lib/site-packages", "services/billing/gen/pkg"):
        assert (root / kept / "other_pb2.py").read_text() == installed
    assert (root / "acme/v1/thing_pb2.py").is_file()
    assert run("-q", "check").code == 0


def test_top_level_protos_under_google_join_the_google_namespace(
    project: Project, run: Run
) -> None:
    # A google/__init__.py beside them would hide google.protobuf, which their modules import.
    config = MINIMAL_CONFIG.replace('package = "pkg"', 'package = ""')
    mine = THING_PROTO.replace("package acme.v1;", "package google.mine;")
    root = project({"Protobuild.toml": config, "proto/google/mine/thing.proto": mine})
    assert run("-q").code == 0
    # Nor below: distributions install into google's subpackages too (google.cloud.location).
    assert not list((root / "gen/pkg/google").rglob("__init__.py"))
    script = "from google.mine import thing_pb2\nprint(thing_pb2.Thing(name='x').name)\n"
    done = python(script, root / "gen/pkg")
    assert (done.returncode, done.stdout) == (0, "x\n"), done.stderr
    assert run("-q", "check").code == 0


def test_protos_under_google_cloud_leave_googleapis_google_cloud_importable(
    project: Project, run: Run
) -> None:
    # googleapis-common-protos installs google.cloud.location; a generated
    # google/cloud/__init__.py would make google.cloud a regular package that lacks it.
    config = MINIMAL_CONFIG.replace('package = "pkg"', 'package = ""')
    config += '[includes]\ndistributions = ["googleapis-common-protos"]\n'
    svc = (
        'syntax = "proto3";\npackage google.cloud.acme.v1;\n'
        'import "google/cloud/location/locations.proto";\n'
        "message Site { google.cloud.location.Location where = 1; }\n"
    )
    root = project({"Protobuild.toml": config, "proto/google/cloud/acme/v1/site.proto": svc})
    assert run("-q").code == 0
    script = "from google.cloud.acme.v1 import site_pb2\nprint(site_pb2.Site().where.name == '')\n"
    done = python(script, root / "gen/pkg")
    assert (done.returncode, done.stdout) == (0, "True\n"), done.stderr


def test_output_package_google_joins_the_google_namespace(project: Project, run: Run) -> None:
    config = MINIMAL_CONFIG.replace('dir = "gen/pkg"', 'dir = "gen/google"')
    config = config.replace('package = "pkg"', 'package = "google"')
    root = project({"Protobuild.toml": config, "proto/acme/v1/thing.proto": THING_PROTO})
    assert run("-q").code == 0
    assert not (root / "gen/google/__init__.py").exists()
    assert sorted(p.relative_to(root / "gen").as_posix() for p in root.rglob("py.typed")) == [
        "google/acme/v1/py.typed"  # not google/py.typed: that directory is protobuf's too
    ]
    script = "from google.acme.v1 import thing_pb2\nprint(thing_pb2.Thing(name='x').name)\n"
    done = python(script, root / "gen")
    assert (done.returncode, done.stdout) == (0, "x\n"), done.stderr


@pytest.mark.parametrize("top", ["grpc", "json", "typing"])
def test_top_level_protos_that_would_hide_a_module_python_needs_are_an_error(
    project: Project, run: Run, top: str
) -> None:
    config = MINIMAL_CONFIG.replace('package = "pkg"', 'package = ""')
    thing = THING_PROTO.replace("package acme.v1;", f"package {top}.v1;")
    project({"Protobuild.toml": config, f"proto/{top}/v1/thing.proto": thing})
    result = run()
    assert result.code == 2
    assert result.err == (
        f"Protobuild.toml:6:1: {top}/v1/thing.proto would make a top-level package '{top}', "
        f"which hides the '{top}' that Python or the generated code imports; set "
        'output.package (say "acme_api"), or mount the root under a prefix with python_package\n'
    )
    assert not Path("gen").exists()


def test_protos_under_non_ascii_directories_are_built_and_importable(
    project: Project, run: Run
) -> None:
    # `ü` is a Python identifier; protoc names its archive entries in UTF-8 without saying so.
    config = MINIMAL_CONFIG + "services = {}\n"
    thing = THING_PROTO.replace("package acme.v1;", "package acme.ue.v1;")
    root = project({"Protobuild.toml": config, "proto/acme/ü/v1/thing.proto": thing})
    assert run("-q").code == 0
    names = {"thing_pb2.py", "thing_pb2.pyi", "thing_pb2_grpc.py", "thing_pb2_grpc.pyi"}
    assert names | {"thing_services.py", "__init__.py"} == {
        path.name for path in (root / "gen/pkg/acme/ü/v1").iterdir()
    }
    assert run("check").code == 0
    script = "from pkg.acme.ü.v1 import thing_services as s; print(s.ThingsClient.__name__)"
    done = python(script, root / "gen")
    assert (done.returncode, done.stdout) == (0, "ThingsClient\n"), done.stderr


TEMPLATED = MINIMAL_CONFIG + 'services = { templates = "templates" }\n'


@pytest.fixture
def templated(project: Project, run: Run) -> Path:
    """A generated project whose services templates are its own (`templates/`)."""
    root = project(
        {
            "Protobuild.toml": TEMPLATED,
            "proto/acme/v1/thing.proto": THING_PROTO,
            "templates/{stem}_x.py.j2": "# {{ file.proto }}\n",
        }
    )
    assert run("-q").code == 0
    return root


def test_a_template_output_where_a_package_directory_goes_is_an_error(
    templated: Path, run: Run
) -> None:
    root = templated
    before = tree_bytes(root / "gen")
    (root / "proto/acme/v1/thing.proto").write_text(THING_PROTO + "message More {}\n")
    (root / "templates/acme.j2").write_text("a file named like the acme/ package\n")
    result = run()
    assert result.code == 3
    assert result.err == (
        "protobuild: error: acme would be a file, written by template templates/acme.j2, and a "
        "directory, holding files of python for acme/v1/thing.proto; rename the template or "
        "the proto package\n"
    )
    assert tree_bytes(root / "gen") == before


def test_directories_holding_no_modules_get_no_init_file(templated: Path, run: Run) -> None:
    (templated / "templates/docs").mkdir()
    (templated / "templates/docs/API.md.j2").write_text("{{ files | length }} files\n")
    assert run("-q").code == 0
    assert (templated / "gen/pkg/docs/API.md").read_text().endswith("1 files\n")
    assert not (templated / "gen/pkg/docs/__init__.py").exists()
    assert (templated / "gen/pkg/acme/v1/__init__.py").is_file()
    assert run("check").code == 0


def test_rendered_headers_name_the_proto_a_file_comes_from(templated: Path, run: Run) -> None:
    # Not guessed from output names: a per-file template in a subdirectory renders from its
    # proto; a per-package one whose name starts like a proto's draws on the whole package.
    (templated / "templates/typed").mkdir()
    (templated / "templates/typed/{stem}.py.j2").write_text("X = 1\n")
    (templated / "templates/{package}").mkdir()
    (templated / "templates/{package}/thing_index.py.j2").write_text("Y = 2\n")
    assert run("-q").code == 0
    typed = (templated / "gen/pkg/acme/v1/typed/thing.py").read_text()
    index = (templated / "gen/pkg/acme/v1/thing_index.py").read_text()
    assert typed.startswith("# Code generated by protobuild from acme/v1/thing.proto. ")
    assert index.startswith("# Code generated by protobuild from the services templates. ")


def test_a_per_file_and_a_per_package_template_writing_one_path_is_an_error(
    templated: Path, run: Run
) -> None:
    # They render in different passes (per chunk, then for the whole plan).
    before = tree_bytes(templated / "gen")
    (templated / "templates/{package}").mkdir()
    (templated / "templates/{package}/thing_x.py.j2").write_text("# per package\n")
    result = run()
    assert result.code == 3
    assert result.err == (
        "protobuild: error: acme/v1/thing_x.py is produced twice, by templates/{stem}_x.py.j2 "
        "and by templates/{package}/thing_x.py.j2; rename one of the templates\n"
    )
    assert tree_bytes(templated / "gen") == before


def test_a_template_writing_a_generated_module_is_named_in_the_error(
    templated: Path, run: Run
) -> None:
    before = tree_bytes(templated / "gen")
    (templated / "templates/{stem}_pb2.py.j2").write_text("# clobbers the message module\n")
    result = run()
    assert result.code == 3
    assert result.err == (
        "protobuild: error: acme/v1/thing_pb2.py was generated twice, by python for "
        "acme/v1/thing.proto and by template templates/{stem}_pb2.py.j2; rename one of the "
        "protos or templates\n"
    )
    assert tree_bytes(templated / "gen") == before


def test_a_template_module_beside_a_package_of_that_name_is_an_error(
    templated: Path, run: Run
) -> None:
    before = tree_bytes(templated / "gen")
    (templated / "templates/{package}.py.j2").write_text("# one module per package\n")
    result = run()
    assert result.code == 3
    assert result.err == (
        "protobuild: error: acme/v1.py, written by template templates/{package}.py.j2, and the "
        "package acme/v1/, holding files of python for acme/v1/thing.proto, would have one "
        "module name and only one could be imported; rename the template or the proto file or "
        "package\n"
    )
    assert tree_bytes(templated / "gen") == before


def test_a_module_beside_a_package_of_that_name_is_an_error(project: Project, run: Run) -> None:
    # `x.proto` gives x_pb2.py; `x_pb2/y.proto` gives the package x_pb2/ that would hide it.
    project(
        {
            "Protobuild.toml": MINIMAL_CONFIG,
            "proto/x.proto": 'syntax = "proto3";\npackage a;\nmessage R {}\n',
            "proto/x_pb2/y.proto": 'syntax = "proto3";\npackage b;\nmessage Y {}\n',
        }
    )
    result = run()
    assert result.code == 3
    assert result.err.startswith(
        "protobuild: error: x_pb2.py, written by python for x.proto, and the package x_pb2/, "
    )
    assert not Path("gen").exists()


def test_a_directory_where_a_new_file_goes_stops_the_run_before_any_write(
    templated: Path, run: Run
) -> None:
    root = templated
    (root / "gen/pkg/NOTES").mkdir()
    (root / "gen/pkg/NOTES/mine.txt").write_text("the user's\n")
    before = tree_bytes(root / "gen")
    (root / "proto/acme/v1/thing.proto").write_text(THING_PROTO + "message More {}\n")
    (root / "templates/NOTES.j2").write_text("notes\n")
    result = run()
    assert result.code == 3
    assert result.err == (
        "gen/pkg/NOTES: a directory is where this generated file must go; move the directory "
        "away or rename the template or proto that makes the file\n"
    )
    assert tree_bytes(root / "gen") == before


def test_an_edited_template_is_shown_as_a_diff_not_as_toolchain_drift(
    templated: Path, run: Run
) -> None:
    root = templated
    (root / "templates/{stem}_x.py.j2").write_text("# {{ file.proto }}, edited\n")
    result = run("check")
    assert result.code == 1
    assert "other versions" not in result.out
    assert "+# acme/v1/thing.proto, edited" in result.out.splitlines()


@pytest.mark.parametrize("fresh_clone", [False, True])
def test_moving_the_output_says_what_was_left_in_the_old_directory(
    current: Path, run: Run, fresh_clone: bool
) -> None:
    if fresh_clone:  # this machine's cache is seeded from the committed record
        shutil.rmtree(current / ".protobuild-cache")
        assert run("-q").code == 0
    config = current / "Protobuild.toml"
    config.write_text(config.read_text().replace('dir = "gen/pkg"', 'dir = "out/pkg"'))
    old = tree_bytes(current / "gen/pkg")
    result = run()
    assert result.code == 0
    assert result.err.splitlines()[-1] == (
        f"protobuild: note: the output directory was gen/pkg/, where {len(old)} files generated "
        "by protobuild remain; delete them if nothing uses them"
    )
    assert tree_bytes(current / "gen/pkg") == old  # nothing outside the output is touched
    assert "note" not in run().err  # said once


def test_a_copy_of_the_project_with_its_cache_takes_no_output_for_a_former_one(
    current: Path, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(current, copy)  # the cache comes along, as with cp -r or a tarball
    monkeypatch.chdir(copy)
    (copy / "proto/acme/v1/thing.proto").write_text(THING_PROTO + "message More {}\n")
    result = run()
    assert result.code == 0
    assert "note" not in result.err  # the original's gen/pkg/ is not "left behind" here


def test_missing_and_stale_files_are_listed_without_their_whole_text(
    current: Path, run: Run
) -> None:
    (current / "gen/pkg/acme/v1/thing_pb2.pyi").unlink()
    stale = current / "gen/pkg/acme/v1/gone_pb2.py"
    stale.write_bytes((current / "gen/pkg/acme/v1/thing_pb2.py").read_bytes())
    result = run("check")
    assert result.code == 1
    lines = result.out.splitlines()
    assert "  missing: acme/v1/thing_pb2.pyi" in lines
    assert "  stale:   acme/v1/gone_pb2.py" in lines
    assert not [line for line in lines if line.startswith(("--- ", "+++ ", "@@"))]
