"""The command line, in-process: exit codes, messages, and that failures never touch output."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import EXTRA_PROTO, MINIMAL_CONFIG, THING_PROTO, Run, probe, tree_bytes

Project = Callable[[dict[str, str]], Path]


@pytest.fixture
def thing(project: Project) -> Path:
    return project({"Protobuild.toml": MINIMAL_CONFIG, "proto/acme/v1/thing.proto": THING_PROTO})


@pytest.fixture
def generated(thing: Path, run: Run) -> dict[str, bytes]:
    """The project after one successful run: the tree every failing run must leave alone."""
    assert run("-q").code == 0
    return tree_bytes(thing / "gen")


def test_generate_reports_what_it_wrote(thing: Path, run: Run) -> None:
    result = run()
    assert result.code == 0
    assert result.err == "protobuild: gen/pkg/: 8 added, 0 changed, 0 removed (8 files)\n"
    assert run().err == "protobuild: 8 files in gen/pkg/ are up to date\n"


def test_python_dash_m_and_version(thing: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "protobuild", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0
    names = [line.split()[0] for line in done.stdout.splitlines()]
    assert names == ["protobuild", "libprotoc", "grpcio-tools", "protobuf", "mypy-protobuf"]


def test_version_does_not_import_grpc_tools_or_jinja2() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from protobuild.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--version'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('grpc_tools', 'jinja2')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout == "[]\n", done.stderr


def test_a_child_process_gets_the_whole_report_and_the_exit_code(
    thing: Path, generated: dict[str, bytes]
) -> None:
    """The console entry ends the process without interpreter teardown: what it printed
    must still arrive in full through a pipe, with the right exit code."""
    stub = thing / "gen/pkg/acme/v1/thing_pb2.pyi"
    stub.write_text(stub.read_text() + "# hand edit\n")
    done = subprocess.run(
        [sys.executable, "-m", "protobuild", "check"], cwd=thing, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stdout.startswith("protobuild check: 1 generated file(s) are not current")
    assert done.stdout.endswith("fix: run `protobuild` and commit the result\n")


def test_a_closed_output_pipe_is_not_a_crash(thing: Path, generated: dict[str, bytes]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will read what explain prints
    try:
        done = subprocess.run(
            [sys.executable, "-m", "protobuild", "explain"],
            cwd=thing,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 120
    assert "Traceback" not in done.stderr


def test_help_fits_the_terminal_width(thing: Path) -> None:
    environment = {**os.environ, "COLUMNS": "52"}
    done = subprocess.run(
        [sys.executable, "-m", "protobuild", "check", "--help"],
        capture_output=True,
        text=True,
        env=environment,
    )
    assert done.returncode == 0
    assert "--quiet" in done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= 52


def test_config_found_relative_to_file_not_cwd(
    thing: Path, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert run("-q").code == 0
    first = tree_bytes(thing / "gen")
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    assert run("-f", str(thing / "Protobuild.toml"), "check").code == 0
    assert tree_bytes(thing / "gen") == first


def test_dry_run_prints_protoc_argv_and_writes_nothing(thing: Path, run: Run) -> None:
    result = run("--dry-run", "-q")
    assert result.code == 0
    assert result.err == ""
    lines = result.out.splitlines()
    assert lines[0].startswith("protoc -I")
    assert f"-I{thing / 'proto'}" in lines[0]
    assert "--grpc_python_out=OUT/grpc.zip --python_out=OUT/python.zip" in lines[0]
    assert lines[0].endswith("--include_imports --include_source_info acme/v1/thing.proto")
    assert "would add acme/v1/thing_pb2.py" in lines
    assert not (thing / "gen").exists()


def test_paths_limit_generation_to_protos_under_them(thing: Path, run: Run) -> None:
    (thing / "proto/other").mkdir()
    (thing / "proto/other/o.proto").write_text('syntax = "proto3";\npackage o;\nmessage O {}\n')
    assert run("-q", "proto/other").code == 0
    files = tree_bytes(thing / "gen")
    assert "pkg/other/o_pb2.py" in files
    assert "pkg/acme/v1/thing_pb2.py" not in files


def test_paths_leave_outputs_drawn_from_every_proto_alone_and_say_so(
    project: Project, run: Run
) -> None:
    # A per-run template made from the selected protos alone would list only them.
    other = 'syntax = "proto3";\npackage o;\nmessage O {}\nservice S { rpc X(O) returns (O); }\n'
    root = project(
        {
            "Protobuild.toml": MINIMAL_CONFIG + 'services = { templates = "t" }\n',
            "proto/acme/v1/thing.proto": THING_PROTO,
            "proto/other/o.proto": other,
            "t/INDEX.md.j2": "{% for f in files %}{{ f.proto }}\n{% endfor %}",
            # Per file, beside the per-run one: a run on paths renders it for those protos.
            "t/{stem}_info.txt.j2": "{{ file.proto }}: {{ file.services | length }}\n",
        }
    )
    assert run("-q").code == 0
    index = (root / "gen/pkg/INDEX.md").read_bytes()
    info = root / "gen/pkg/other/o_info.txt"
    assert info.read_text().endswith("other/o.proto: 1\n")
    (root / "proto/other/o.proto").write_text(other + "service T { rpc Y(O) returns (O); }\n")
    record = (root / "Protobuild.sum").read_bytes()
    result = run("generate", "proto/other")
    assert result.code == 0
    assert result.err.splitlines()[-2:] == [
        "protobuild: note: [[descriptors]] snapshots and templates that render per package or "
        "per run draw on every proto, so a run on some paths leaves them as they are; run "
        "`protobuild` without paths to update them",
        "protobuild: note: Protobuild.sum is left as it was by a run on some paths; run "
        "`protobuild` without paths before committing, or every check will regenerate "
        "everything",
    ]
    assert (root / "Protobuild.sum").read_bytes() == record
    assert (root / "gen/pkg/INDEX.md").read_bytes() == index
    assert index.endswith(b"acme/v1/thing.proto\nother/o.proto\n")
    assert info.read_text().startswith("# Code generated by protobuild from other/o.proto.")
    assert info.read_text().endswith("other/o.proto: 2\n")
    assert run("-q", "check").code == 0


def test_paths_may_be_import_paths(thing: Path, run: Run) -> None:
    (thing / "proto/other").mkdir()
    (thing / "proto/other/o.proto").write_text('syntax = "proto3";\npackage o;\nmessage O {}\n')
    assert run("-q", "generate", "other/o.proto").code == 0
    assert "pkg/other/o_pb2.py" in tree_bytes(thing / "gen")
    assert "pkg/acme/v1/thing_pb2.py" not in tree_bytes(thing / "gen")


def test_a_path_matching_no_proto_is_an_error_even_beside_one_that_does(
    thing: Path, run: Run
) -> None:
    message = fails(run, 2, "generate", "proto/acme", "proto/acmee")
    assert message == (
        "protobuild: error: no proto matches proto/acmee: name a .proto file or a directory "
        "under a source root (proto), or an import path\n"
    )
    assert not (thing / "gen").exists()


def test_explain_of_an_unknown_proto_is_an_error(thing: Path, run: Run) -> None:
    assert "no proto matches acme/v1/thng.proto:" in fails(run, 2, "explain", "acme/v1/thng.proto")


def test_explain_takes_directories(thing: Path, run: Run) -> None:
    result = run("explain", "proto/acme")
    assert result.code == 0
    assert result.out.splitlines()[0] == "acme/v1/thing.proto"


def test_explain_shows_roots_modules_outputs_and_imports(thing: Path, run: Run) -> None:
    result = run("explain", "acme/v1/thing.proto")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[:4] == [
        "acme/v1/thing.proto",
        "  file:    proto/acme/v1/thing.proto",
        f"  root:    roots[0] (source: {thing / 'proto'})",
        "  module:  pkg.acme.v1.thing_pb2",
    ]
    assert "gen/pkg/acme/v1/thing_pb2_grpc.pyi" in lines[4]
    assert lines[5].startswith("  import google/protobuf/timestamp.proto -> grpcio-tools")
    assert "include roots, in search order:" in lines


# -- bad input: each is one or two lines, the right exit code, and the old tree intact ---------


def fails(run: Run, code: int, *argv: str) -> str:
    result = run(*argv)
    assert result.code == code, result.err
    assert result.out == ""
    assert 1 <= len(result.err.splitlines()) <= 2, result.err
    return result.err


def test_toml_syntax_error(thing: Path, run: Run, generated: dict[str, bytes]) -> None:
    (thing / "Protobuild.toml").write_text(MINIMAL_CONFIG + "[broken\n")
    assert fails(run, 2).startswith("Protobuild.toml:12:8: invalid TOML")
    assert tree_bytes(thing / "gen") == generated


def test_unknown_key(thing: Path, run: Run, generated: dict[str, bytes]) -> None:
    (thing / "Protobuild.toml").write_text(MINIMAL_CONFIG.replace("[[roots]]", "[[root]]"))
    assert "unknown key 'root'; did you mean 'roots'?" in fails(run, 2)


def test_wrong_type(thing: Path, run: Run) -> None:
    (thing / "Protobuild.toml").write_text(MINIMAL_CONFIG.replace('"proto"', "1"))
    assert (
        fails(run, 2) == "Protobuild.toml:6:1: roots[0].path: expected a string, got an integer\n"
    )


def test_unknown_plugin_option(thing: Path, run: Run) -> None:
    text = MINIMAL_CONFIG.replace("mypy_grpc = {}", "mypy_grpc = { async_only = true }")
    (thing / "Protobuild.toml").write_text(text)
    message = fails(run, 2)
    assert "unknown option of generator 'mypy_grpc' 'generators.mypy_grpc.async_only'" in message


def test_missing_source_root(thing: Path, run: Run, generated: dict[str, bytes]) -> None:
    (thing / "Protobuild.toml").write_text(MINIMAL_CONFIG.replace('"proto"', '"protos"'))
    message = fails(run, 2)
    assert message.startswith("Protobuild.toml:6:1: source root ")
    assert "protos does not exist" in message
    assert tree_bytes(thing / "gen") == generated
    (thing / "protos").write_text("a file where the root should be\n")
    assert "protos is a file, not a directory; fix [[roots]] path" in fails(run, 2)


def test_import_resolving_nowhere_suggests_the_distribution(thing: Path, run: Run) -> None:
    proto = thing / "proto/acme/v1/api.proto"
    proto.write_text('syntax = "proto3";\n\nimport "google/api/annotations.proto";\n')
    message = fails(run, 2)
    assert message.startswith('proto/acme/v1/api.proto:3:1: import "google/api/annotations.proto"')
    assert f"searched {thing / 'proto'}, " in message
    assert "shipped by 'googleapis-common-protos': add it to includes.distributions" in message


def test_every_import_resolving_nowhere_is_named_in_one_run(thing: Path, run: Run) -> None:
    (thing / "proto/acme/v1/a.proto").write_text(
        'syntax = "proto3";\nimport "vendor/one.proto";\nimport "vendor/two.proto";\n'
    )
    (thing / "proto/acme/v1/b.proto").write_text('syntax = "proto3";\nimport "vendor/one.proto";\n')
    message = fails(run, 2)
    assert message.startswith('proto/acme/v1/a.proto:2:1: import "vendor/one.proto" was not found')
    assert message.endswith(
        ' (2 more imports were not found either: proto/acme/v1/a.proto:3: "vendor/two.proto"; '
        'proto/acme/v1/b.proto:2: "vendor/one.proto")\n'
    )


def test_import_missing_its_prefix_suggests_the_full_path(project: Project, run: Run) -> None:
    config = MINIMAL_CONFIG.replace('path = "proto"', 'path = "proto"\nprefix = "github.com/a/api"')
    project(
        {
            "Protobuild.toml": config,
            "proto/x/a.proto": 'syntax = "proto3";\npackage x;\nmessage A {}\n',
            "proto/x/b.proto": 'syntax = "proto3";\nimport "x/a.proto";\n',
        }
    )
    message = fails(run, 2)
    assert "Did you mean 'github.com/a/api/x/a.proto'?" in message
    assert message.startswith("proto/x/b.proto:2:1:")


def test_a_vendored_tree_importing_from_its_own_top_is_told_to_make_that_a_root(
    project: Project, run: Run
) -> None:
    project(
        {
            "Protobuild.toml": MINIMAL_CONFIG,
            "proto/vendor/temporal/api/a.proto": 'syntax = "proto3";\npackage t;\nmessage A {}\n',
            "proto/vendor/temporal/api/b.proto": (
                'syntax = "proto3";\nimport "temporal/api/a.proto";\n'
            ),
        }
    )
    message = fails(run, 2)
    assert message.startswith(
        'proto/vendor/temporal/api/b.proto:2:1: import "temporal/api/a.proto"'
    )
    assert message.endswith(
        "Did you mean 'vendor/temporal/api/a.proto'? Import paths include the root's prefix; if "
        "the imports are right as written, make proto/vendor a root ([[roots]] path = "
        '"proto/vendor") and exclude it from the root that holds it now.\n'
    )


def test_shadowed_import_path(project: Project, run: Run) -> None:
    project(
        {
            "Protobuild.toml": MINIMAL_CONFIG.replace(
                "[generators]", '[[roots]]\npath = "vendor"\n\n[generators]'
            ),
            "proto/a/x.proto": 'syntax = "proto3";\n',
            "vendor/a/x.proto": 'syntax = "proto3";\n',
        }
    )
    message = fails(run, 2)
    assert message.startswith("vendor/a/x.proto: a/x.proto is found under two roots, roots[0]")
    assert "and roots[1]" in message


def test_nested_roots_are_an_error_unless_one_excludes_the_other(
    project: Project, run: Run
) -> None:
    nested = '[[roots]]\npath = "proto/acme"\n\n[generators]'
    config = MINIMAL_CONFIG.replace("[generators]", nested)
    root = project({"Protobuild.toml": config, "proto/acme/v1/m.proto": 'syntax = "proto3";\n'})
    message = fails(run, 2)
    assert message.startswith("Protobuild.toml:7:1: roots[1]: proto/acme/v1/m.proto is also under")
    assert "as acme/v1/m.proto there and v1/m.proto here" in message
    excluded = config.replace('path = "proto"\n', 'path = "proto"\nexclude = ["acme/**"]\n')
    (root / "Protobuild.toml").write_text(excluded)
    assert run("-q").code == 0


def test_source_shadowing_a_well_known_type(project: Project, run: Run) -> None:
    project(
        {
            "Protobuild.toml": MINIMAL_CONFIG,
            "proto/google/protobuf/empty.proto": 'syntax = "proto3";\n',
        }
    )
    message = fails(run, 2)
    assert message.startswith(
        "proto/google/protobuf/empty.proto: google/protobuf/empty.proto is both here, under "
        "roots[0], and in grpcio-tools (well-known types: "
    )
    assert message.endswith(
        'to use the latter, add exclude = ["google/protobuf/**"] to roots[0] (or name the file '
        "alone)\n"
    )


def test_proto_syntax_error_points_at_the_users_file(
    thing: Path, run: Run, generated: dict[str, bytes]
) -> None:
    (thing / "proto/acme/v1/thing.proto").write_text(
        THING_PROTO.replace("string name = 1;", "string name = ;")
    )
    message = fails(run, 3)
    assert message.startswith("proto/acme/v1/thing.proto:4:31: Expected field number.")
    assert tree_bytes(thing / "gen") == generated


def test_every_proto_error_line_names_the_file_as_the_user_would(thing: Path, run: Run) -> None:
    # protoc reports syntax errors by the file's path on disk (absolute, as protobuild passes
    # the roots) and semantic ones by import path: each line must read like the first.
    broken = "message Broken { int32 n = 1 }\n"
    (thing / "proto/acme/v1/thing.proto").write_text(
        THING_PROTO.replace("string name = 1;", "string name = 1") + broken
    )
    lines = fails(run, 3).splitlines()
    assert lines[0] == 'proto/acme/v1/thing.proto:4:33: Expected ";".'
    assert lines[1] == 'proto/acme/v1/thing.proto:6:30: Expected ";".'


def test_two_protos_becoming_one_module(project: Project, run: Run) -> None:
    project(
        {
            "Protobuild.toml": MINIMAL_CONFIG,
            "proto/a/b-c.proto": 'syntax = "proto3";\npackage one;\n',
            "proto/a/b_c.proto": 'syntax = "proto3";\npackage two;\n',
        }
    )
    message = fails(run, 2)
    assert "a/b-c.proto and a/b_c.proto both become module pkg.a.b_c_pb2" in message


def test_missing_distribution(thing: Path, run: Run) -> None:
    config = MINIMAL_CONFIG + '[includes]\ndistributions = ["no-such-protos"]\n'
    (thing / "Protobuild.toml").write_text(config)
    message = fails(run, 2)
    assert message.startswith("Protobuild.toml:13:1: includes.distributions: 'no-such-protos'")
    assert "is not installed in this Python environment; install it" in message


def test_missing_include_directory_points_at_its_key(thing: Path, run: Run) -> None:
    config = MINIMAL_CONFIG + '[includes]\nbefore = []\nafter = ["vendor"]\n'
    (thing / "Protobuild.toml").write_text(config)
    message = fails(run, 2)
    assert message.startswith("Protobuild.toml:14:1: includes.after[0]: directory ")
    assert message.endswith("vendor does not exist (paths are relative to the config file)\n")


def test_invalid_python_name_asks_for_python_package(project: Project, run: Run) -> None:
    config = MINIMAL_CONFIG.replace('path = "proto"', 'path = "proto"\nprefix = "example.com/v1.0"')
    project({"Protobuild.toml": config, "proto/a.proto": 'syntax = "proto3";\n'})
    message = fails(run, 2)
    assert message.startswith("Protobuild.toml:7:1: example.com/v1.0/a.proto would become")
    assert (
        "would become module 'example.com.v1.0.a_pb2', whose part '0' is not a Python name"
        in message
    )
    assert "set python_package for the root mounted at 'example.com/v1.0'" in message


@pytest.mark.parametrize(
    ("prefix", "suggested"), [("acme/1api", "_1api"), ("acme/import", "_import")]
)
def test_the_suggested_python_package_is_a_valid_name(
    project: Project, run: Run, prefix: str, suggested: str
) -> None:
    config = MINIMAL_CONFIG.replace('path = "proto"', f'path = "proto"\nprefix = "{prefix}"')
    project({"Protobuild.toml": config, "proto/a.proto": 'syntax = "proto3";\n'})
    message = fails(run, 2)
    assert f'(e.g. python_package = "{suggested}")' in message


def test_a_keyword_in_a_directory_is_named_with_the_way_out(project: Project, run: Run) -> None:
    config = MINIMAL_CONFIG.replace('path = "proto"', 'path = "proto"\nprefix = "acme"')
    project({"Protobuild.toml": config, "proto/import/a.proto": 'syntax = "proto3";\n'})
    message = fails(run, 2)
    assert "would become module 'acme.import.a_pb2', whose part 'import' is a Python keyword; " in (
        message
    )
    assert message.endswith(
        "rename the directory or the file, or leave it out with the root's exclude\n"
    )


def test_hand_written_file_in_output_is_never_overwritten(thing: Path, run: Run) -> None:
    target = thing / "gen/pkg/acme/v1/thing_pb2.py"
    target.parent.mkdir(parents=True)
    target.write_text("# mine\n")
    message = fails(run, 3)
    assert message.startswith("gen/pkg/acme/v1/thing_pb2.py: refusing to overwrite a file")
    assert target.read_text() == "# mine\n"
    assert not (thing / "gen/pkg/acme/v1/thing_pb2.pyi").exists()


def test_every_hand_written_file_in_the_way_is_named_at_once(thing: Path, run: Run) -> None:
    directory = thing / "gen/pkg/acme/v1"
    directory.mkdir(parents=True)
    for name in ("thing_pb2.py", "thing_pb2.pyi", "thing_pb2_grpc.py"):
        (directory / name).write_text("# mine\n")
    assert fails(run, 3) == (
        "gen/pkg/acme/v1/thing_pb2.py: refusing to overwrite a file protobuild did not generate "
        "(it has no protobuild header); move it away or delete it, then run again (and 2 more "
        "in gen/pkg/: acme/v1/thing_pb2.pyi, acme/v1/thing_pb2_grpc.py)\n"
    )


def test_unwritable_output_leaves_previous_tree(
    thing: Path, run: Run, generated: dict[str, bytes]
) -> None:
    (thing / "proto/acme/v2").mkdir()
    (thing / "proto/acme/v2/new.proto").write_text('syntax = "proto3";\npackage acme.v2;\n')
    (thing / "proto/acme/v1/thing.proto").write_text(THING_PROTO + "message More {}\n")
    blocker = thing / "gen/pkg/acme/v2"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where a directory must go")
    message = fails(run, 3)
    assert "cannot" in message
    blocker.unlink()
    assert tree_bytes(thing / "gen") == generated


def test_config_is_found_from_a_subdirectory(thing: Path, run: Run) -> None:
    assert run("-q").code == 0
    (thing / "proto/acme/v1/thing.proto").write_text(THING_PROTO + "message More {}\n")
    os.chdir(thing / "proto/acme")
    result = run("check")
    assert result.code == 1
    assert result.out.splitlines()[-1] == (
        "fix: run `protobuild -f ../../Protobuild.toml` and commit the result"
    )


def test_no_config_anywhere(tmp_path: Path, run: Run) -> None:
    os.chdir(tmp_path)
    assert fails(run, 2) == (
        "Protobuild.toml: Protobuild.toml not found; create one (see docs/configuration.md) "
        "or pass -f PATH\n"
    )


def test_a_root_of_dot_leaves_hidden_directories_and_virtualenvs_alone(
    project: Project, run: Run
) -> None:
    message = 'syntax = "proto3";\nmessage M {}\n'
    root = project(
        {
            "Protobuild.toml": MINIMAL_CONFIG.replace('path = "proto"', 'path = "."'),
            "acme/v1/thing.proto": THING_PROTO,
            "tools/x.proto": message,  # an ordinary directory: compiled
            ".git/hooks/a.proto": message,
            ".venv/lib/google/protobuf/any.proto": message,
            "venv/pyvenv.cfg": "home = /usr/bin\n",
            "venv/lib/google/protobuf/any.proto": message,
            "services/billing/Protobuild.toml": MINIMAL_CONFIG,  # a project of its own
            "services/billing/proto/b.proto": message,
        }
    )
    assert run("-q").code == 0
    modules = sorted(p for p in tree_bytes(root / "gen/pkg") if p.endswith("_pb2.py"))
    assert modules == ["acme/v1/thing_pb2.py", "tools/x_pb2.py"]


def test_symlinked_directories_in_a_root_are_not_followed(thing: Path, run: Run) -> None:
    (thing / "proto/acme/loop").symlink_to(thing / "proto")  # would never end if followed
    assert run("-q").code == 0
    modules = sorted(p for p in tree_bytes(thing / "gen/pkg") if p.endswith("_pb2.py"))
    assert modules == ["acme/v1/thing_pb2.py"]
    assert run("-q", "check").code == 0


def test_protos_in_hidden_directories_are_not_inputs(project: Project, run: Run) -> None:
    root = project(
        {
            "Protobuild.toml": MINIMAL_CONFIG.replace('path = "proto"', 'path = "."'),
            "acme/v1/thing.proto": THING_PROTO,
            ".tox/py/x.proto": 'syntax = "proto3";\n',
        }
    )
    assert run("-q").code == 0
    (root / ".tox/py/x.proto").write_text('syntax = "proto3";\nmessage Changed {}\n')
    assert probe(root, "-q") == "0 []"  # still a cache hit: protoc not even loaded


def test_root_exclude_leaves_protos_out_of_the_build_and_the_cache_key(
    project: Project, run: Run
) -> None:
    vendored = 'syntax = "proto3";\npackage v;\nmessage V {}\n'
    config = MINIMAL_CONFIG.replace(
        'path = "proto"', 'path = "."\nexclude = ["third_party/**", "**/*_test.proto"]'
    )
    root = project(
        {
            "Protobuild.toml": config,
            "acme/v1/thing.proto": THING_PROTO,
            "acme/v1/thing_test.proto": vendored,
            "third_party/v/v.proto": vendored,
        }
    )
    assert run("-q").code == 0
    modules = sorted(p for p in tree_bytes(root / "gen/pkg") if p.endswith("_pb2.py"))
    assert modules == ["acme/v1/thing_pb2.py"]
    (root / "third_party/v/v.proto").write_text(vendored + "message W {}\n")
    assert probe(root, "-q") == "0 []"  # an excluded proto is no input: still a cache hit


def test_root_exclude_matching_nothing_is_an_error(project: Project, run: Run) -> None:
    config = MINIMAL_CONFIG.replace('path = "proto"', 'path = "proto"\nexclude = ["vendr/**"]')
    project({"Protobuild.toml": config, "proto/acme/v1/thing.proto": THING_PROTO})
    assert fails(run, 2) == (
        "Protobuild.toml:7:1: roots[0].exclude: 'vendr/**' matches no proto under this root; fix "
        "the pattern (it matches import paths, the root's prefix included) or remove it\n"
    )


def test_importing_an_excluded_proto_says_which_exclude(project: Project, run: Run) -> None:
    config = MINIMAL_CONFIG.replace('path = "proto"', 'path = "proto"\nexclude = ["old/**"]')
    importer = 'syntax = "proto3";\nimport "old/o.proto";\n'
    project(
        {
            "Protobuild.toml": config,
            "proto/acme/a.proto": importer,
            "proto/old/o.proto": 'syntax = "proto3";\n',
        }
    )
    assert fails(run, 2) == (
        'proto/acme/a.proto:2:1: import "old/o.proto" is a proto that roots[0].exclude leaves '
        "out of the build; compile it (narrow the pattern) or provide it through includes\n"
    )


@pytest.mark.parametrize("command", [(), ("check",)], ids=["generate", "check"])
def test_a_crash_is_reported_as_a_bug_not_as_drift(
    thing: Path,
    generated: dict[str, bytes],
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
) -> None:
    from protobuild import compile

    def crash(*args: object) -> None:  # stands in for any exception protobuild did not expect
        raise KeyError("no item named 'x_pb2.py'")

    (thing / "proto/acme/v1/thing.proto").write_text(THING_PROTO + "message More {}\n")
    monkeypatch.setattr(compile, "compile_plan", crash)
    result = run(*command)
    assert result.code == 4  # 1 would tell CI the committed code is stale
    assert "Traceback (most recent call last)" in result.err
    assert result.err.endswith(
        "protobuild: internal error (this is a bug in protobuild, please report it): KeyError: "
        "\"no item named 'x_pb2.py'\"\n"
    )
    assert tree_bytes(thing / "gen") == generated


def test_exit_code_says_whether_files_were_written(project: Callable[..., Path], run: Run) -> None:
    root = project({"Protobuild.toml": MINIMAL_CONFIG, "proto/acme/v1/thing.proto": THING_PROTO})
    assert run("--exit-code", "-q").code == 1  # everything added
    assert run("--exit-code", "-q").code == 0  # up to date
    (root / "proto/acme/v1/extra.proto").write_text(EXTRA_PROTO)
    assert run("generate", "--dry-run", "--exit-code").code == 1  # would add, wrote nothing
    assert not (root / "gen/pkg/acme/v1/extra_pb2.py").exists()
    assert run("-q").code == 0  # without the flag, writing is success
    assert (root / "gen/pkg/acme/v1/extra_pb2.py").exists()


def test_a_misspelt_distribution_is_told_the_installed_name(thing: Path, run: Run) -> None:
    config = MINIMAL_CONFIG + '[includes]\ndistributions = ["googleapis-common-proto"]\n'
    (thing / "Protobuild.toml").write_text(config)
    message = fails(run, 2)
    assert (
        "not installed in this Python environment; did you mean 'googleapis-common-protos'? "
        in (message)
    )
