"""The render stage end to end: real protoc input, golden trees, a real grpc round trip,
mypy --strict on the generated code (positive and negative), and custom template directories.

Set PROTOBUILD_UPDATE_GOLDEN=1 to rewrite tests/render/golden and negative.expected.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import grpc_tools
import pytest
from google.protobuf import descriptor_pb2

from protobuild.errors import TemplateError
from protobuild.render import render_services, template_digest
from protobuild.toolchain import stock_template_dir
from tests.conftest import MINIMAL_CONFIG, Run

RENDER = Path(__file__).parent / "render"
PROTOS = RENDER / "protos"
GOLDEN = RENDER / "golden"
TYPING = RENDER / "typing"
UPDATE = os.environ.get("PROTOBUILD_UPDATE_GOLDEN") == "1"
TARGETS = ("acme/common/v1/types.proto", "acme/echo/v1/echo.proto", "bare.proto")
BIN = Path(sys.executable).parent
WELL_KNOWN = Path(grpc_tools.__file__).parent / "_proto"


def compile_protos(out: Path) -> descriptor_pb2.FileDescriptorSet:
    """Run grpcio-tools' protoc over the test protos: _pb2.py, mypy .pyi and a descriptor set."""
    fds_path = out / "fds.binpb"
    argv = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTOS}",
        f"-I{WELL_KNOWN}",
        f"--descriptor_set_out={fds_path}",
        "--include_imports",
        "--include_source_info",
        f"--python_out={out}",
        f"--mypy_out={out}",
        f"--plugin=protoc-gen-mypy={BIN / 'protoc-gen-mypy'}",
        *TARGETS,
    ]
    subprocess.run(argv, check=True, capture_output=True)
    fds = descriptor_pb2.FileDescriptorSet.FromString(fds_path.read_bytes())
    fds_path.unlink()
    return fds


def modules_for(fds: descriptor_pb2.FileDescriptorSet, package: str) -> dict[str, str]:
    """Each file's _pb2 module; well-known types keep their own, the rest go under `package`."""
    modules = {}
    for file in fds.file:
        module = file.name.removesuffix(".proto").replace("/", ".") + "_pb2"
        local = package and not file.name.startswith("google/")
        modules[file.name] = f"{package}.{module}" if local else module
    return modules


def texts(
    fds: descriptor_pb2.FileDescriptorSet,
    targets: Sequence[str],
    modules: Mapping[str, str],
    package: str,
    template_dir: Path | None = None,
) -> dict[str, str]:
    """The text of each rendered output, by path (render_services also names its template)."""
    rendered = render_services(fds, targets, modules, package, template_dir)
    return {path: text for path, (text, _) in rendered.items()}


@pytest.fixture(scope="module")
def fds(tmp_path_factory: pytest.TempPathFactory) -> descriptor_pb2.FileDescriptorSet:
    return compile_protos(tmp_path_factory.mktemp("descriptors"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A top-level tree: protoc's modules and the rendered services, as a user would have."""
    root = tmp_path_factory.mktemp("generated")
    fds = compile_protos(root)
    write_tree(root, texts(fds, TARGETS, modules_for(fds, ""), ""))
    return root


def write_tree(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def read_tree(root: Path) -> dict[str, str]:
    if not root.is_dir():
        return {}
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*.py")}


@pytest.mark.parametrize("package", ["", "acme_gen"])
def test_stock_output_matches_golden(fds: descriptor_pb2.FileDescriptorSet, package: str) -> None:
    rendered = texts(fds, TARGETS, modules_for(fds, package), package)
    golden = GOLDEN / (package or "top")
    if UPDATE:
        shutil.rmtree(golden, ignore_errors=True)
        write_tree(golden, rendered)
    hint = "rendered output differs from the golden tree; rerun with PROTOBUILD_UPDATE_GOLDEN=1"
    assert rendered == read_tree(golden), hint


def test_files_without_services_render_nothing(fds: descriptor_pb2.FileDescriptorSet) -> None:
    rendered = texts(fds, TARGETS, modules_for(fds, ""), "")
    assert sorted(rendered) == ["acme/echo/v1/echo_services.py", "bare_services.py"]


def test_output_does_not_depend_on_target_order(fds: descriptor_pb2.FileDescriptorSet) -> None:
    modules = modules_for(fds, "acme_gen")
    forward = texts(fds, TARGETS, modules, "acme_gen")
    backward = texts(fds, TARGETS[::-1], modules, "acme_gen")
    assert list(forward.items()) == list(backward.items())


def test_stock_template_dir_holds_the_services_template() -> None:
    assert (stock_template_dir() / "{stem}_services.py.j2").is_file()


def test_template_digest_changes_with_any_template_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.j2": "one", "lib.jinja": "x", "__pycache__/c.pyc": "ignored"})
    first = template_digest(tmp_path)
    (tmp_path / "__pycache__" / "c.pyc").write_text("still ignored")
    assert template_digest(tmp_path) == first
    (tmp_path / "lib.jinja").write_text("y")
    assert template_digest(tmp_path) != first
    assert len(template_digest()) == 16


def test_usage_round_trips_through_a_real_server(generated: Path) -> None:
    code = "import usage; usage.main()"
    env = {**os.environ, "PYTHONPATH": f"{generated}{os.pathsep}{TYPING}"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def mypy_errors(generated: Path) -> dict[str, list[str]]:
    """mypy --strict (plus warn_unreachable) over usage.py, negative.py and the generated
    services, run once: error lines by file name."""
    for name in ("usage.py", "negative.py"):
        shutil.copy(TYPING / name, generated / name)
    services = sorted(p.relative_to(generated).as_posix() for p in generated.rglob("*_services.py"))
    argv = [str(BIN / "mypy"), "--strict", "--warn-unreachable", "--explicit-package-bases"]
    argv += ["--cache-dir", str(generated / ".mypy_cache"), "usage.py", "negative.py", *services]
    result = subprocess.run(argv, cwd=generated, capture_output=True, text=True, timeout=120)
    errors: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        if ": error: " in line:
            errors.setdefault(line.split(":", 1)[0], []).append(line)
    return errors


def test_usage_and_generated_code_pass_mypy_strict(mypy_errors: dict[str, list[str]]) -> None:
    unexpected = {name: lines for name, lines in mypy_errors.items() if name != "negative.py"}
    assert unexpected == {}


def test_negative_file_has_exactly_the_expected_errors(mypy_errors: dict[str, list[str]]) -> None:
    expected_file = TYPING / "negative.expected"
    actual = "\n".join(mypy_errors.get("negative.py", [])) + "\n"
    if UPDATE:
        expected_file.write_text(actual)
    hint = "mypy's errors on negative.py changed; rerun with PROTOBUILD_UPDATE_GOLDEN=1"
    assert actual == expected_file.read_text(), hint


CUSTOM = {
    "{stem}_info.txt.j2": (
        "{% for service in file.services %}\n"
        "{{ file.proto }} {{ service.full_name }}:"
        "{% for m in service.methods %} {{ m.py_name }}={{ m.kind }}{% endfor %}{{ '\\n' }}"
        "{% endfor %}"
    ),
    "{package}/services.txt.j2": (
        "package {{ package.name or '(none)' }} in {{ python_package }}\n"
        "{% for item in package.imports %}{{ item.statement }}\n{% endfor %}"
        "{% for service in package.services %}{{ service.client_name }}\n{% endfor %}"
    ),
    "INDEX.md.j2": "{% for file in files %}- {{ file.module }}\n{% endfor %}",
    "macros.jinja": "{% macro never() %}{% endmacro %}",
}


def test_custom_directory_renders_per_file_per_package_and_once(
    fds: descriptor_pb2.FileDescriptorSet, tmp_path: Path
) -> None:
    write_tree(tmp_path, CUSTOM)
    rendered = texts(fds, TARGETS, modules_for(fds, "gen"), "gen", tmp_path)
    assert rendered == {
        "INDEX.md": "- gen.acme.common.v1.types_pb2\n- gen.acme.echo.v1.echo_pb2\n- gen.bare_pb2\n",
        "acme/echo/v1/echo_info.txt": (
            "acme/echo/v1/echo.proto acme.echo.v1.Echo: say=unary_unary expand=unary_stream "
            "collect=stream_unary chat=stream_stream get_url=unary_unary ping=unary_unary "
            "list_=unary_stream\n"
            "acme/echo/v1/echo.proto acme.echo.v1.HTTPStatus: import_=unary_unary\n"
        ),
        "acme/echo/v1/services.txt": (
            "package acme.echo.v1 in gen\n"
            "from gen.acme.common.v1 import types_pb2\n"
            "from gen.acme.echo.v1 import echo_pb2\n"
            "from google.protobuf import empty_pb2\n"
            "from google.protobuf import timestamp_pb2\n"
            "EchoClient\nHTTPStatusClient\n"
        ),
        "acme/common/v1/services.txt": "package acme.common.v1 in gen\n",
        "bare_info.txt": "bare.proto Bare: nothing=unary_unary\nbare.proto Idle:\n",
        "services.txt": (
            "package (none) in gen\nfrom google.protobuf import empty_pb2\nBareClient\nIdleClient\n"
        ),
    }


def render_one(
    fds: descriptor_pb2.FileDescriptorSet, directory: Path, templates: Mapping[str, str]
) -> dict[str, str]:
    write_tree(directory, templates)
    return texts(fds, TARGETS, modules_for(fds, ""), "", directory)


def test_undefined_name_names_template_and_line(
    fds: descriptor_pb2.FileDescriptorSet, tmp_path: Path
) -> None:
    with pytest.raises(TemplateError) as caught:
        render_one(fds, tmp_path, {"{stem}.txt.j2": "{{ file.proto }}\n{{ file.nope }}\n"})
    assert str(caught.value).startswith(f"{tmp_path / '{stem}.txt.j2'}:2: UndefinedError: ")
    assert "nope" in str(caught.value)


def test_error_in_an_imported_file_names_that_file(
    fds: descriptor_pb2.FileDescriptorSet, tmp_path: Path
) -> None:
    templates = {
        "x.j2": '{% import "lib.jinja" as lib %}\n{{ lib.boom() }}\n',
        "lib.jinja": "{% macro boom() %}\n\n{{ missing }}\n{% endmacro %}\n",
    }
    with pytest.raises(TemplateError, match=r"lib\.jinja:3: UndefinedError: 'missing'"):
        render_one(fds, tmp_path, templates)


def test_missing_include_names_the_including_line(
    fds: descriptor_pb2.FileDescriptorSet, tmp_path: Path
) -> None:
    with pytest.raises(
        TemplateError, match=r"x\.j2:2: TemplateNotFound: 'absent\.jinja' not found"
    ):
        render_one(fds, tmp_path, {"x.j2": 'ok\n{% include "absent.jinja" %}\n'})


def test_syntax_error_names_template_and_line(
    fds: descriptor_pb2.FileDescriptorSet, tmp_path: Path
) -> None:
    with pytest.raises(TemplateError) as caught:
        render_one(fds, tmp_path, {"{package}/x.j2": "ok\n\n{% if %}\n"})
    assert str(caught.value).startswith(f"{tmp_path / '{package}/x.j2'}:3: ")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("{stemm}.py.j2", "unknown placeholder {stemm} in the template name"),
        ("{stem}-{package}.j2", "not both"),
        ("{package}.j2", "empty output path"),
        ("{package}.py.j2", r"the file name '\.py' \(no stem\) for files without a package"),
        (".extra/{stem}_y.py.j2", r"the template is in \.extra/, so its output would be too"),
    ],
)
def test_bad_template_names_are_errors(
    fds: descriptor_pb2.FileDescriptorSet, tmp_path: Path, name: str, message: str
) -> None:
    with pytest.raises(TemplateError, match=message) as caught:
        render_one(fds, tmp_path, {name: "text"})
    assert str(caught.value).startswith(str(tmp_path / name))


def test_one_path_from_two_templates_is_an_error(
    fds: descriptor_pb2.FileDescriptorSet, tmp_path: Path
) -> None:
    templates = {"bare_services.py.j2": "once", "{stem}_services.py.j2": "{{ file.stem }}"}
    with pytest.raises(TemplateError, match=r"bare_services\.py is produced twice"):
        render_one(fds, tmp_path, templates)


def test_missing_or_empty_template_directory_is_an_error(
    fds: descriptor_pb2.FileDescriptorSet, tmp_path: Path
) -> None:
    with pytest.raises(
        TemplateError, match="template directory not found; fix the templates option"
    ):
        render_one(fds, tmp_path / "absent", {})
    with pytest.raises(
        TemplateError, match=r"no \*\.j2 templates in the template directory; add one"
    ):
        render_one(fds, tmp_path, {"README.md": "not a template"})


def test_examples_in_the_templates_doc_render(
    fds: descriptor_pb2.FileDescriptorSet, tmp_path: Path
) -> None:
    doc = (Path(__file__).parents[1] / "docs" / "templates.md").read_text()
    examples = re.findall(r"`tools/templates/(\S+)`[^`]*```jinja\n(.*?)```", doc, re.DOTALL)
    assert [name for name, _ in examples] == ["{stem}_routes.py.j2", "{package}/SERVICES.md.j2"]
    rendered = render_one(fds, tmp_path, dict(examples))
    routes = rendered["acme/echo/v1/echo_routes.py"]
    compile(routes, "echo_routes.py", "exec")
    assert '"/acme.echo.v1.Echo/GetURL": (empty_pb2.Empty, echo_pb2.URLResponse,' in routes
    overview = rendered["acme/echo/v1/SERVICES.md"]
    assert "## HTTPStatus (deprecated)\n" in overview
    assert "- `List` (unary_stream): trailing comment of List\n" in overview


@pytest.mark.parametrize(
    ("messages", "rpc", "named"),
    [
        ("message None {}", "Get(None) returns (None)", "'None' is a Python keyword"),
        ("message lambda {}", "Get(lambda) returns (lambda)", "'lambda' is a Python keyword"),
        ("message __Secret {}", "Get(__Secret) returns (__Secret)", "'__Secret' is mangled"),
        (
            "message Outer { message await {} }",
            "Get(Outer) returns (Outer.await)",
            "p.Outer.await, which generated Python cannot name ('await'",
        ),
    ],
)
def test_a_message_python_cannot_name_is_an_error_not_broken_code(
    project: Callable[[dict[str, str]], Path], run: Run, messages: str, rpc: str, named: str
) -> None:
    proto = f'syntax = "proto3";\npackage p;\n{messages}\nservice S {{ rpc {rpc}; }}\n'
    project({"Protobuild.toml": MINIMAL_CONFIG + "services = {}\n", "proto/p/m.proto": proto})
    result = run()
    assert result.code == 3
    assert named in result.err
    assert "p/m.proto: an rpc uses message" in result.err
    assert "[[overrides]]" in result.err


def test_a_dunder_message_name_is_not_mangled_and_renders(
    project: Callable[[dict[str, str]], Path], run: Run
) -> None:
    proto = 'syntax = "proto3";\npackage p;\nmessage __M__ {}\n'
    proto += "service S { rpc Get(__M__) returns (__M__); }\n"
    root = project(
        {"Protobuild.toml": MINIMAL_CONFIG + "services = {}\n", "proto/p/m.proto": proto}
    )
    assert run("-q").code == 0
    client = "import grpc\nfrom pkg.p import m_services\n"
    client += "m_services.SClient(grpc.insecure_channel('x:1'))\n"
    done = subprocess.run([sys.executable, "-c", client], cwd=root / "gen", capture_output=True)
    assert done.returncode == 0, done.stderr


def test_templates_under_bytecode_caches_are_not_templates(
    fds: descriptor_pb2.FileDescriptorSet, tmp_path: Path
) -> None:
    # As template_digest skips them: the same template set on every run, cache hit or not.
    rendered = render_one(fds, tmp_path, {"__pycache__/{stem}.txt.j2": "x", "ALL.txt.j2": "y\n"})
    assert list(rendered) == ["ALL.txt"]
