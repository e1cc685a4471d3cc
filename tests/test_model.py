"""The descriptor model: naming rules as table tests, docstring escaping as a property, and
models built from hand-written descriptors (no protoc needed)."""

from __future__ import annotations

import ast

import pytest
from google.protobuf import descriptor_pb2
from hypothesis import given
from hypothesis import strategies as st

from protobuild import comments, model
from protobuild.errors import InternalError


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Say", "say"),
        ("GetURL", "get_url"),
        ("HTTPStatus", "http_status"),
        ("getURL", "get_url"),
        ("URL", "url"),
        ("ListHTTPServersV2", "list_http_servers_v2"),
        ("GetV1Thing", "get_v1_thing"),
        ("already_snake", "already_snake"),
        ("Get_URL", "get_url"),
        ("A", "a"),
    ],
)
def test_snake_case(name: str, expected: str) -> None:
    assert model.snake_case(name) == expected


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("say", (), "say"),
        ("import", (), "import_"),
        ("list", (), "list_"),
        ("grpc", (), "grpc_"),
        ("_private", (), "private"),
        ("__init__", (), "init__"),
        ("_", (), "rpc"),
        ("say", ("say",), "say_"),
        ("say", ("say", "say_"), "say__"),
    ],
)
def test_py_identifier(name: str, taken: tuple[str, ...], expected: str) -> None:
    assert model.py_identifier(name, taken) == expected


@given(st.text())
def test_escaped_docstring_reads_back_as_the_text(text: str) -> None:
    literal = '"""' + comments.escape_docstring(text) + '"""'
    assert ast.literal_eval(literal) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('a """ b', 'a \\"\\"" b'),
        ("back\\slash", "back\\\\slash"),
        ('ends with "', 'ends with \\"'),
        ("tab\tand bell\a", "tab\\tand bell\\x07"),
        ("two\nlines", "two\nlines"),
    ],
)
def test_escape_docstring_keeps_prose_readable(text: str, expected: str) -> None:
    assert comments.escape_docstring(text) == expected


def test_clean_comment_keeps_characters_that_python_also_takes_for_line_ends() -> None:
    text = " a\x0bb\x0cc\x1cd\x85e\u2028f\u2029\n second\x0c\n"
    assert comments.clean_comment(text) == "a\x0bb\x0cc\x1cd\x85e\u2028f\u2029\nsecond\x0c"


def test_clean_comment_drops_indent_and_blank_edges() -> None:
    assert comments.clean_comment(" First.\n\n   Indented.  \n") == "First.\n\n  Indented."
    assert comments.clean_comment("") == ""


@pytest.mark.parametrize(
    ("modules", "expected"),
    [
        (["acme.echo.v1.echo_pb2"], {"acme.echo.v1.echo_pb2": "echo_pb2"}),
        (
            ["a.v1.types_pb2", "b.v1.types_pb2"],
            {"a.v1.types_pb2": "a_v1_types_pb2", "b.v1.types_pb2": "b_v1_types_pb2"},
        ),
        (
            ["p.a.b.c_pb2", "p.a_b.c_pb2"],
            {"p.a.b.c_pb2": "b_c_pb2", "p.a_b.c_pb2": "p_a_b_c_pb2"},
        ),
        (["grpc"], {"grpc": "grpc_"}),
    ],
)
def test_aliases_are_short_and_unique(modules: list[str], expected: dict[str, str]) -> None:
    assert model.assign_aliases(modules) == expected
    assert model.assign_aliases(reversed(modules)) == expected


@pytest.mark.parametrize(
    ("module", "alias", "statement"),
    [
        ("acme.echo.v1.echo_pb2", "echo_pb2", "from acme.echo.v1 import echo_pb2"),
        ("a.v1.types_pb2", "a_v1_types_pb2", "from a.v1 import types_pb2 as a_v1_types_pb2"),
        ("bare_pb2", "bare_pb2", "import bare_pb2"),
        ("grpc", "grpc_", "import grpc as grpc_"),
    ],
)
def test_module_import(module: str, alias: str, statement: str) -> None:
    assert model.module_import(module, alias) == statement


@pytest.mark.parametrize(
    ("module", "package", "expected"),
    [
        ("acme.echo.v1.echo_pb2", "", ("acme/echo/v1", "echo")),
        ("gen.acme.echo.v1.echo_pb2", "gen", ("acme/echo/v1", "echo")),
        ("gen.bare_pb2", "gen", ("", "bare")),
        ("bare_pb2", "", ("", "bare")),
    ],
)
def test_module_location(module: str, package: str, expected: tuple[str, str]) -> None:
    assert model.module_location(module, package) == expected


def test_module_outside_the_package_is_a_bug() -> None:
    with pytest.raises(InternalError, match="outside the output package"):
        model.module_location("other.echo_pb2", "gen")


# Hand-written descriptors: one messages file and one services file.
def messages_file() -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(name="acme/v1/msgs.proto", package="acme.v1")
    outer = file.message_type.add(name="Outer")
    outer.nested_type.add(name="Inner")
    file.message_type.add(name="Plain")
    return file


def services_file(**method_options: bool) -> descriptor_pb2.FileDescriptorProto:
    file = descriptor_pb2.FileDescriptorProto(name="acme/v1/svc.proto", package="acme.v1")
    file.dependency.append("acme/v1/msgs.proto")
    echo = file.service.add(name="Echo")
    shapes = [(False, False), (False, True), (True, False), (True, True)]
    for name, (client, server) in zip(["GetURL", "Watch", "Upload", "Chat"], shapes, strict=True):
        method = echo.method.add(name=name, input_type=".acme.v1.Plain")
        method.output_type = ".acme.v1.Outer.Inner"
        method.client_streaming, method.server_streaming = client, server
    echo.method.add(name="GetUrl", input_type=".acme.v1.Plain", output_type=".acme.v1.Plain")
    echo.method.add(name="MsgsPb2", input_type=".acme.v1.Plain", output_type=".acme.v1.Plain")
    echo.method[0].options.deprecated = method_options.get("deprecated", False)
    old = file.service.add(name="EchoAsync")
    old.options.deprecated = True
    old.method.add(name="Import", input_type=".acme.v1.Plain", output_type=".acme.v1.Plain")
    location = file.source_code_info.location.add(path=[6, 0, 2, 0])
    location.leading_comments = ' Returns the "URL".\n'
    file.source_code_info.location.add(path=[6, 0], trailing_comments=" Echo. \n")
    return file


def build(package: str = "") -> model.FileModel:
    fds = descriptor_pb2.FileDescriptorSet(file=[messages_file(), services_file(deprecated=True)])
    modules = {"acme/v1/msgs.proto": "acme.v1.msgs_pb2", "acme/v1/svc.proto": "acme.v1.svc_pb2"}
    if package:
        modules = {name: f"{package}.{module}" for name, module in modules.items()}
    (file,), imports = model.build_files(
        model.DescriptorIndex(fds), ["acme/v1/svc.proto"], modules, package
    )
    assert file.imports == imports
    return file


def test_file_model_knows_its_place_and_imports() -> None:
    file = build("gen")
    assert (file.module, file.stem, file.directory) == ("gen.acme.v1.svc_pb2", "svc", "acme/v1")
    assert file.imports == (
        model.Import("gen.acme.v1.msgs_pb2", "msgs_pb2", "from gen.acme.v1 import msgs_pb2"),
    )
    assert (file.uses_request_streams, file.uses_response_streams, file.uses_deprecated) == (
        True,
        True,
        True,
    )


def test_methods_carry_shape_path_types_and_safe_unique_names() -> None:
    echo = build().services[0]
    shapes = [(m.py_name, m.kind, m.path) for m in echo.methods]
    assert shapes == [
        ("get_url", "unary_unary", "/acme.v1.Echo/GetURL"),
        ("watch", "unary_stream", "/acme.v1.Echo/Watch"),
        ("upload", "stream_unary", "/acme.v1.Echo/Upload"),
        ("chat", "stream_stream", "/acme.v1.Echo/Chat"),
        ("get_url_", "unary_unary", "/acme.v1.Echo/GetUrl"),
        ("msgs_pb2_", "unary_unary", "/acme.v1.Echo/MsgsPb2"),  # would hide the import alias
    ]
    first = echo.methods[0]
    assert first.input == model.MessageRef(
        "Plain", "acme.v1.Plain", "acme/v1/msgs.proto", "acme.v1.msgs_pb2", "msgs_pb2.Plain"
    )
    assert first.output.py_type == "msgs_pb2.Outer.Inner"


def test_comments_become_escaped_docstrings() -> None:
    echo = build().services[0]
    assert echo.methods[0].comments.leading == 'Returns the "URL".'
    assert echo.methods[0].docstring == 'Returns the "URL".'
    assert (echo.comments.trailing, echo.docstring) == ("Echo.", "Echo.")
    assert echo.methods[1].docstring == ""


def test_deprecation_comes_from_the_rpc_or_its_service() -> None:
    echo, old = build().services
    assert [m.deprecated for m in echo.methods] == [True, False, False, False, False, False]
    assert (old.deprecated, old.methods[0].deprecated, old.methods[0].py_name) == (
        True,
        True,
        "import_",
    )


def test_module_level_names_never_collide() -> None:
    echo, old = build().services
    assert (echo.client_name, echo.async_client_name) == ("EchoClient", "EchoAsyncClient")
    assert old.client_name == "EchoAsyncClient_"  # Echo's async client took the plain name
    assert echo.add_async_servicer_name == "add_echo_async_servicer_to_server"
    assert (old.py_name, old.add_servicer_name) == (
        "echo_async",
        "add_echo_async_servicer_to_server_",
    )
    fields = ["client_name", "async_client_name", "servicer_name", "async_servicer_name"]
    fields += ["add_servicer_name", "add_async_servicer_name", "handlers_name"]
    names = [getattr(service, field) for service in (echo, old) for field in fields]
    assert len(names) == len(set(names))


def test_unknown_message_or_module_is_a_bug() -> None:
    fds = descriptor_pb2.FileDescriptorSet(file=[services_file()])
    index = model.DescriptorIndex(fds)
    with pytest.raises(InternalError, match=r"message \.acme\.v1\.Plain is not in"):
        model.build_files(index, ["acme/v1/svc.proto"], {}, "")
    with pytest.raises(InternalError, match=r"missing\.proto is not in the descriptor set"):
        model.build_files(index, ["missing.proto"], {}, "")
