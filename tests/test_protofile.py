"""Reading a .proto's imports and services before protoc: examples, and protoc as the oracle."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from hypothesis import given
from hypothesis import strategies as st

from protobuild.compile import run_protoc
from protobuild.protofile import ProtoImport, summarize
from protobuild.resolve import well_known_types_dir

HEADER = 'syntax = "proto3";\npackage p;\n'


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('import "a/b.proto";\n', [ProtoImport("a/b.proto", 1, 1)]),
        ("  import 'a.proto' ;\n", [ProtoImport("a.proto", 1, 3)]),
        ('import public "a.proto";\n', [ProtoImport("a.proto", 1, 1, public=True)]),
        ('import weak "a.proto";\n', [ProtoImport("a.proto", 1, 1)]),
        (
            'import "a.proto"; import "b.proto";\n',
            [ProtoImport("a.proto", 1, 1), ProtoImport("b.proto", 1, 19)],
        ),
        (HEADER + 'import\n  "a.proto";\n', [ProtoImport("a.proto", 3, 1)]),
        ('// import "a.proto";\nimport "b.proto";\n', [ProtoImport("b.proto", 2, 1)]),
        ('/* import "a.proto";\n */ import "b.proto";\n', [ProtoImport("b.proto", 2, 5)]),
        ('/* "unclosed string */ import "b.proto";\n', [ProtoImport("b.proto", 1, 24)]),
        ('option (x) = "import \\"a.proto\\";";\n', []),
        ("option (x) = \"x; import 'a.proto';\";\n", []),
        ('message M { string import = 1; }\nimport "a.proto";\n', [ProtoImport("a.proto", 2, 1)]),
        ("message important {}\n", []),
        ('import "a/" "b.proto";\n', [ProtoImport("a/b.proto", 1, 1)]),
        ("import 'a/' /* c */\n \"b.proto\";\n", [ProtoImport("a/b.proto", 1, 1)]),
        ('import "a\\x2fb\\056proto";\n', [ProtoImport("a/b.proto", 1, 1)]),
        ('import option "o.proto";\n', [ProtoImport("o.proto", 1, 1)]),
    ],
)
def test_imports(source: str, expected: list[ProtoImport]) -> None:
    assert list(summarize(source).imports) == expected


@pytest.mark.parametrize(
    ("source", "has_services"),
    [
        ("service S {}\n", True),
        (HEADER + "message M {}\nservice S { rpc A(M) returns (M); }\n", True),
        ("message M {} service S{}\n", True),
        ("// service S {}\nmessage M {}\n", False),
        ("/* service S {} */\n", False),
        ("message M { string service = 1; }\n", False),
        ('option (o) = "service S {";\n', False),
        ("option (o) = ';service S {';\n", False),
        ("message services {}\n", False),
    ],
)
def test_services(source: str, has_services: bool) -> None:
    assert summarize(source).has_services is has_services


def _googleapis() -> list[tuple[str, Path]]:
    dist = importlib.metadata.distribution("googleapis-common-protos")
    names = sorted(str(f) for f in dist.files or () if str(f).endswith(".proto"))
    return [(name, Path(str(dist.locate_file(name)))) for name in names]


def test_agrees_with_protoc_on_every_googleapis_proto(tmp_path: Path) -> None:
    protos = _googleapis()
    root = protos[0][1].parents[len(Path(protos[0][0]).parts) - 1]
    out = tmp_path / "set.binpb"
    code, errors = run_protoc(
        [
            "protoc",
            f"-I{root}",
            f"-I{well_known_types_dir()}",
            f"--descriptor_set_out={out}",
            *(name for name, _ in protos),
        ]
    )
    assert code == 0, errors
    parsed = {f.name: f for f in descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file}
    for name, path in protos:
        summary = summarize(path.read_text())
        descriptor = parsed[name]
        assert [i.path for i in summary.imports] == list(descriptor.dependency), name
        public = [n for n, i in enumerate(summary.imports) if i.public]
        assert public == list(descriptor.public_dependency), name
        assert summary.has_services is bool(descriptor.service), name


def test_agrees_with_protoc_on_split_literals_and_option_imports(tmp_path: Path) -> None:
    (tmp_path / "o").mkdir()
    (tmp_path / "o/opts.proto").write_text(
        'edition = "2024";\npackage o;\nimport "google/protobuf/descriptor.proto";\n'
        "extend google.protobuf.MessageOptions { string table = 50002; }\n"
    )
    (tmp_path / "o/m.proto").write_text('edition = "2024";\npackage o;\nmessage M {}\n')
    source = (
        'edition = "2024";\npackage u;\nimport "o/" /* joined */ "m.proto";\n'
        'import option "o\\x2fopts.proto";\nmessage U { option (o.table) = "us"; o.M m = 1; }\n'
    )
    (tmp_path / "u.proto").write_text(source)
    out = tmp_path / "set.binpb"
    argv = ["protoc", f"-I{tmp_path}", f"-I{well_known_types_dir()}", f"--descriptor_set_out={out}"]
    code, errors = run_protoc([*argv, "u.proto"])
    assert code == 0, errors
    (descriptor,) = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    found = [i.path for i in summarize(source).imports]
    assert found == [*descriptor.dependency, *descriptor.option_dependency]


# Text that comments and strings may hold: keywords, quotes, escapes and comment markers.
_TRICKY = st.lists(
    st.sampled_from(["a", " ", "/", "*", '"', "'", "\\", "import", "service S {", ";", "}"]),
    max_size=12,
).map("".join)


def _line_comment(body: str) -> str:
    return f"// {body}\n"


def _block_comment(body: str) -> str:
    return "/* " + body.replace("*/", "* /") + "\n*/"


def _string_option(body: str) -> str:
    quote = '"' if len(body) % 2 else "'"
    escaped = body.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return f"option (o) = {quote}{escaped}{quote};"


_NOISE = st.one_of(
    _TRICKY.map(_line_comment),
    _TRICKY.map(_block_comment),
    _TRICKY.map(_string_option),
    st.just("message M { string import = 1; }"),
)
_PATH = st.from_regex(r"[a-z]{1,3}(/[a-z]{1,3}){0,2}\.proto", fullmatch=True)


@given(
    st.lists(
        st.one_of(
            _NOISE.map(lambda text: ("noise", text)),
            _PATH.map(lambda path: ("import", path)),
            st.just(("service", "service S { }")),
        ),
        max_size=12,
    ),
    st.sampled_from(["\n", " ", "\n\n  "]),
)
def test_summaries_find_the_statements_around_any_comments_and_strings(
    parts: list[tuple[str, str]], separator: str
) -> None:
    source, expected, services = "", [], False
    for kind, text in parts:
        if source:
            source += separator
        if kind == "import":
            line = source.count("\n") + 1
            column = len(source) - (source.rfind("\n") + 1) + 1
            expected.append(ProtoImport(text, line, column))
            text = f'import "{text}";'
        services = services or kind == "service"
        source += text
    summary = summarize(source)
    assert list(summary.imports) == expected
    assert summary.has_services is services
