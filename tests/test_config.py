"""Stage 1: every way Protobuild.toml can be wrong names the file, the key and the way out."""

from __future__ import annotations

from pathlib import Path

import pytest

from protobuild import config
from protobuild.errors import ConfigError

BASE = """\
version = 1
[output]
dir = "gen"
package = "pkg"
[[roots]]
path = "proto"
"""


def parse(text: str, path: Path = Path("/p/Protobuild.toml")) -> config.Config:
    return config.parse(text, path)


def error(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    return str(caught.value)


def test_minimal_config_resolves_paths_against_the_file() -> None:
    cfg = parse(BASE + "[generators]\npython = {}\n")
    assert cfg.output.dir == Path("/p/gen")
    assert cfg.roots == (config.SourceRoot(Path("/p/proto")),)
    assert cfg.generators == (config.Generator("python"),)
    assert cfg.output.init_files == "empty"
    assert cfg.output.py_typed is True


def test_full_config() -> None:
    cfg = parse(
        BASE
        + """\
[[roots]]
path = "../third_party/api"
prefix = "github.com/acme/api/"
python_package = "acme_api"
[includes]
before = ["vendor"]
after = ["more"]
distributions = ["googleapis-common-protos"]
[generators]
grpc = {}
mypy_grpc = { flavour = "async", readable_stubs = true }
python = {}
[[overrides]]
files = ["legacy/**"]
generators = { python = {}, pyi = {} }
[packages]
"ext/money.proto" = "money_sdk.money_pb2"
"""
    )
    assert cfg.roots[1] == config.SourceRoot(
        Path("/third_party/api"), "github.com/acme/api", "acme_api"
    )
    assert cfg.before == (Path("/p/vendor"),)
    assert cfg.after == (Path("/p/more"),)
    assert cfg.distributions == ("googleapis-common-protos",)
    assert [g.name for g in cfg.generators] == ["grpc", "mypy_grpc", "python"]
    assert cfg.generators[1].option("flavour", "both") == "async"
    assert cfg.overrides[0].files == ("legacy/**",)
    assert [g.name for g in cfg.overrides[0].generators] == ["pyi", "python"]
    assert cfg.packages == (("ext/money.proto", "money_sdk.money_pb2"),)


def test_toml_syntax_error_has_line_and_column() -> None:
    assert error(BASE + "[generators\n") == (
        "/p/Protobuild.toml:7:12: invalid TOML: Expected ']' at the end of a table declaration"
    )


def test_unknown_top_level_key_suggests_the_near_miss() -> None:
    assert error("verison = 1\n" + BASE) == (
        "/p/Protobuild.toml:1:1: unknown key 'verison'; did you mean 'version'? allowed: "
        "version, output, roots, includes, generators, overrides, packages, descriptors, breaking"
    )


def test_unknown_key_in_an_array_of_tables_points_at_its_line() -> None:
    text = BASE + "[[roots]]\npath = 'x'\nprefx = 'a/b'\n"
    assert error(text) == (
        "/p/Protobuild.toml:9:1: unknown key 'roots[1].prefx'; did you mean 'prefix'? "
        "allowed: path, prefix, python_package, exclude"
    )


def test_wrong_type_names_key_and_types() -> None:
    text = BASE.replace('package = "pkg"', "package = 3")
    assert (
        error(text) == "/p/Protobuild.toml:4:1: output.package: expected a string, got an integer"
    )


def test_unknown_generator() -> None:
    assert error(BASE + "[generators]\npyhton = {}\n") == (
        "/p/Protobuild.toml:8:1: unknown generator 'generators.pyhton'; did you mean 'python'? "
        "allowed: python, pyi, grpc, mypy, mypy_grpc, services"
    )


def test_unknown_generator_option_is_an_error_not_silence() -> None:
    message = error(BASE + "[generators]\nmypy = { readable_stub = true }\n")
    assert message.startswith(
        "/p/Protobuild.toml:8:10: unknown option of generator 'mypy' "
        "'generators.mypy.readable_stub'; did you mean 'readable_stubs'?"
    )


def test_option_of_wrong_type() -> None:
    assert error(BASE + "[generators]\nmypy = { readable_stubs = 'yes' }\n") == (
        "/p/Protobuild.toml:8:10: generators.mypy.readable_stubs: expected bool, got a string"
    )


def test_mypy_grpc_flavour_is_validated() -> None:
    assert "'sync_only' is not one of ['both', 'sync', 'async']" in error(
        BASE + "[generators]\nmypy_grpc = { flavour = 'sync_only' }\n"
    )


def test_pyi_and_mypy_cannot_both_write_pyi_files() -> None:
    assert "pyi and mypy both write _pb2.pyi files; keep one of them" in error(
        BASE + "[generators]\npyi = {}\nmypy = {}\n"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version = 1\n[[roots]]\npath='p'\n", "output is required"),
        ("version = 1\n[output]\ndir='g'\npackage='p'\n", "roots is required"),
        (BASE.replace('dir = "gen"\n', ""), "output.dir is required"),
        (BASE.replace("version = 1", "version = 2"), "version: unsupported value 2"),
        (BASE.replace('"pkg"', '"my-pkg"'), "'my-pkg' is not a dotted Python package name"),
        (BASE + "[output.x]\n", "unknown key 'output.x'"),
        (BASE.replace('"proto"', '"p"\nprefix = "a b"'), "'a b' is not an import path prefix"),
        (BASE + "[packages]\n'x.proto' = 'no-dash'\n", "'no-dash' is not a Python module"),
        (BASE + "[packages]\n'x' = 'mod'\n", "entries map a proto import path to a module"),
        (BASE + "[[overrides]]\nfiles = []\ngenerators = {}\n", "give at least one pattern"),
        (BASE + "[[overrides]]\nfiles = ['a']\n", "overrides[0].generators is required"),
        ("includes = 3\n" + BASE, "includes: expected a table"),
        (BASE.replace('"empty"', "") + "init_files = 'some'\n", "unknown key"),
    ],
)
def test_validation_messages(text: str, expected: str) -> None:
    assert expected in error(text)


def test_init_policy_is_validated() -> None:
    text = BASE.replace('package = "pkg"', 'package = "pkg"\ninit_files = "auto"')
    assert "output.init_files: 'auto' is not one of ['none', 'empty']" in error(text)


def test_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Protobuild\.toml not found; create one"):
        config.load(tmp_path / "Protobuild.toml")


def test_annotated_example_is_valid() -> None:
    example = Path(__file__).parent.parent / "examples" / "Protobuild.toml"
    cfg = config.load(example)
    assert [g.name for g in cfg.generators] == ["grpc", "mypy", "mypy_grpc", "python", "services"]
    assert cfg.roots[1].python_package == "containerd"
    assert cfg.roots[0].exclude == ("**/*_test.proto",)


def test_a_templates_option_must_name_a_directory(tmp_path: Path) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "file.j2").write_text("")
    path = tmp_path / "Protobuild.toml"
    ok = parse(BASE + '[generators]\nservices = { templates = "tpl" }\n', path)
    assert ok.generators[0].option("templates", "") == str(tmp_path / "tpl")
    for wrong in ("nope", "file.j2"):
        with pytest.raises(ConfigError) as caught:
            parse(BASE + f'[generators]\nservices = {{ templates = "{wrong}" }}\n', path)
        assert str(caught.value) == (
            f"{path}:8:14: generators.services.templates: {wrong!r} is not a directory (paths "
            "are relative to the config file); fix the path, or drop the option for the stock "
            "templates"
        )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (BASE.replace('dir = "gen"', 'dir = "~/gen"'), "3:1: output.dir: '~/gen'"),
        (
            BASE.replace('path = "proto"', 'path = "~user/proto"'),
            "6:1: roots[0].path: '~user/proto'",
        ),
        (BASE + '[includes]\nbefore = ["~/protos"]\n', "8:1: includes.before: '~/protos'"),
    ],
)
def test_a_path_starting_with_a_tilde_is_an_error(text: str, where: str) -> None:
    assert error(text) == (
        f"/p/Protobuild.toml:{where} starts with '~', which is not expanded: paths are relative "
        "to the config file; write the path from there"
    )


def test_an_empty_roots_array_points_at_its_line() -> None:
    text = 'version = 1\nroots = []\n[output]\ndir = "gen"\npackage = "pkg"\n'
    assert error(text) == (
        "/p/Protobuild.toml:2:1: roots is required: add at least one [[roots]] with path = ..."
    )


@pytest.mark.parametrize(
    ("text", "where", "separator"),
    [
        (BASE.replace('path = "proto"', 'path = "my:protos"'), "6:1: roots[0].path", ":"),
        (BASE + '[includes]\nafter = ["v=1"]\n', "8:1: includes.after", "="),
    ],
)
def test_a_proto_path_protoc_would_split_is_an_error(text: str, where: str, separator: str) -> None:
    directory = "/p/my:protos" if separator == ":" else "/p/v=1"
    assert error(text) == (
        f"/p/Protobuild.toml:{where}: protoc cannot search {directory!r}: it reads "
        f"{separator!r} in an include path as a separator; rename the directory or move the "
        "project to a path without it"
    )


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("gen", "'gen' is a directory the output goes in (output.dir)"),
        ("./", "'./' is a directory the output goes in (output.dir)"),
        ("Protobuild.toml", "the snapshot would replace this config file"),
        ("Protobuild.sum", "the snapshot would replace this config's record"),
    ],
)
def test_a_snapshot_target_that_a_run_would_destroy_is_an_error(target: str, message: str) -> None:
    text = (
        BASE + f'[generators]\npython = {{}}\n[[descriptors]]\nprefix = ""\ntarget = "{target}"\n'
    )
    assert error(text) == f"/p/Protobuild.toml:11:1: descriptors[0].target: {message}" + (
        "; name a file, such as api/next.pb.txt" if "directory" in message else ""
    )


@pytest.mark.parametrize("generator", ["grpc", "services"])
def test_generators_importing_the_message_modules_need_python(generator: str) -> None:
    message = error(BASE + f"[generators]\n{generator} = {{}}\nmypy = {{}}\n")
    assert message == (
        f"/p/Protobuild.toml:7:1: generators: {generator} writes modules that import the _pb2 "
        "modules of the python generator, which is not on; add python = {}"
    )


@pytest.mark.parametrize(
    "generators",
    [
        "[generators]\npython = {}\nmypy_grpc = {}\n",
        "[generators]\npython = {}\n[[overrides]]\nfiles = ['x/**']\n"
        "generators = { python = {}, mypy_grpc = {} }\n",
    ],
    ids=["generators", "override"],
)
def test_mypy_grpc_stubs_need_the_grpc_modules(generators: str) -> None:
    assert error(BASE + generators).endswith(
        "mypy_grpc writes stubs of the _pb2_grpc modules of the grpc generator, which is not "
        "on; add grpc = {}, or drop mypy_grpc"
    )


def test_services_with_ones_own_templates_may_go_without_python(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    text = BASE + '[generators]\nservices = { templates = "docs" }\n'
    cfg = parse(text, tmp_path / "Protobuild.toml")
    assert [g.name for g in cfg.generators] == ["services"]


def test_an_empty_breaking_ignore_reason_is_an_error() -> None:
    text = BASE + '[[breaking.ignore]]\nrule = "FIELD_SAME_TYPE"\nreason = " "\n'
    assert error(text) == (
        "/p/Protobuild.toml:9:1: breaking.ignore[0].reason: say why the rule may be broken "
        "here, for whoever reads the exception next"
    )


def test_an_empty_template_directory_option_is_an_error() -> None:
    text = BASE + '[generators]\npython = {}\nservices = { templates = "" }\n'
    assert error(text) == (
        "/p/Protobuild.toml:9:14: generators.services.templates: empty; name your template "
        "directory (relative to the config file), or drop the option for the stock templates"
    )
