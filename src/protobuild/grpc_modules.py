"""grpc's generated modules, made clean Python or rejected at the proto that breaks them.

grpc's generator writes service and rpc names and their comments into Python as they are:
`rpc async` becomes `self.async = ...`, a `\"\"\"` in a comment ends the docstring it is copied
into (the text after it becomes code, a syntax error or, worse, statements that run), a
backslash (`\\d+`) becomes an invalid escape sequence, and a comment written with CRLF line
ends leaves carriage returns in an LF file. The last two are repaired; the others are errors
that name the proto, line and column, before anything is written.
"""

from __future__ import annotations

import ast
import dataclasses
import keyword
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from google.protobuf import descriptor_pb2

from protobuild.errors import CompileError, Location, shown
from protobuild.resolve import ProtoFile
from protobuild.tree import as_lf

if TYPE_CHECKING:
    from protobuild.compile import GeneratedFile

_SERVICE = descriptor_pb2.FileDescriptorProto.SERVICE_FIELD_NUMBER
_METHOD = descriptor_pb2.ServiceDescriptorProto.METHOD_FIELD_NUMBER


def tidied(
    outputs: Sequence[GeneratedFile],
    fds: descriptor_pb2.FileDescriptorSet,
    group: Sequence[ProtoFile],
    serialized: bytes,
) -> list[GeneratedFile]:
    """`outputs` with grpc's modules repaired; raises CompileError for a proto whose grpc
    module cannot be made valid (a keyword name, triple quotes in a comment). `serialized`
    is `fds` as protoc wrote it."""
    if b'"""' in serialized:  # one scan of the bytes spares walking every comment's location
        _reject_quoted_comments(fds, group)
    repaired = [_tidy(out) if out.generator == "grpc" else out for out in outputs]
    _check(repaired, _keyword_names(fds), group)
    return repaired


# The generators whose code defines a method per rpc.
SERVICE_GENERATORS = ("grpc", "mypy_grpc", "services")


def reject_special_rpc_names(
    fds: descriptor_pb2.FileDescriptorSet, group: Sequence[ProtoFile]
) -> None:
    """Raise CompileError for an rpc named like Python's own methods (`__init__`): every
    generator of service code makes it a method, which then replaces the class's own (a
    servicer that cannot be constructed, stubs that fail mypy)."""
    sources = _sources(group, SERVICE_GENERATORS)
    for file in fds.file:
        for service in file.service if file.name in sources else ():
            special = [m.name for m in service.method if _is_dunder(m.name)]
            if special:
                raise CompileError(
                    f"rpc {service.name}.{special[0]}: names with leading and trailing double "
                    "underscores are Python's own, and the generated method would replace the "
                    "class's; rename the rpc",
                    Location(sources[file.name]),
                )


def _sources(group: Sequence[ProtoFile], generators: Sequence[str]) -> dict[str, Path]:
    """The file of each proto in `group` that one of `generators` runs on, by import path."""
    return {
        proto.import_path: proto.source
        for proto in group
        if any(g.name in generators for g in proto.generators)
    }


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _reject_quoted_comments(
    fds: descriptor_pb2.FileDescriptorSet, group: Sequence[ProtoFile]
) -> None:
    """Raise CompileError at a service's or rpc's comment holding `\"\"\"`. Checked on the
    descriptors, not the module: `\"\"\"` on lines of their own leave valid Python whose
    docstring ends early and whose next comment line is a statement that runs."""
    sources = _sources(group, ("grpc",))
    for file in fds.file:
        if not file.service or file.name not in sources:
            continue
        for location in file.source_code_info.location:
            path = location.path
            if path and path[0] == _SERVICE and len(path) in (2, 4) and _quoted(location):
                raise _quoted_comment_error(file, location, sources[file.name])


def _quoted(location: descriptor_pb2.SourceCodeInfo.Location) -> bool:
    comments = (location.leading_comments, location.trailing_comments)
    return any('"""' in text for text in (*comments, *location.leading_detached_comments))


def _quoted_comment_error(
    file: descriptor_pb2.FileDescriptorProto,
    location: descriptor_pb2.SourceCodeInfo.Location,
    source: Path,
) -> CompileError:
    service = file.service[location.path[1]]
    what = f"service {service.name}"
    if len(location.path) == 4 and location.path[2] == _METHOD:
        what = f"rpc {service.name}.{service.method[location.path[3]].name}"
    return CompileError(
        f'a comment on {what} holds """, which grpc\'s generator copies into a docstring '
        "as it is: the docstring would end there and the rest of the comment become code; "
        "write the quotes another way (''' or a single \")",
        Location(source, *_quotes_position(source, location)),
    )


def _quotes_position(
    source: Path, location: descriptor_pb2.SourceCodeInfo.Location
) -> tuple[int, int]:
    """Line and column (from 1) of the first `\"\"\"` in the comments around `location`'s
    element: the comment lines just above it, its own lines, the comment lines just below.
    (Descriptors only hold the element's position.) The element's own position otherwise."""
    start, column = location.span[0], location.span[1]
    try:
        lines = source.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return start + 1, column + 1
    first, last = start, location.span[2] if len(location.span) == 4 else start
    while first > 0 and _comment_or_blank(lines[first - 1]):
        first -= 1
    while last + 1 < len(lines) and _comment_or_blank(lines[last + 1]):
        last += 1
    for number in range(first, min(last + 1, len(lines))):
        found = lines[number].find('"""')
        if found >= 0:
            return number + 1, found + 1
    return start + 1, column + 1


def _comment_or_blank(line: str) -> bool:
    return line.lstrip().startswith(("//", "/*", "*")) or not line.strip()


def _tidy(out: GeneratedFile) -> GeneratedFile:
    """grpc's module with its comment-made docstrings as Python reads them cleanly: carriage
    returns dropped, and docstrings holding a backslash made raw strings, which show the
    comment exactly as written. grpc's own code has neither character, so other modules are
    returned as they are, unscanned."""
    content = as_lf(out.content)
    if b"\\" in content:
        content = _raw_docstrings(content)
    return out if content == out.content else dataclasses.replace(out, content=content)


def _raw_docstrings(content: bytes) -> bytes:
    """Each docstring of grpc's module holding a backslash made raw. Triple quotes appear in
    grpc's code only around docstrings (comments holding them are rejected first), so every
    other piece between them is one."""
    pieces = content.split(b'"""')
    if len(pieces) % 2 == 0:
        return content
    for index in range(1, len(pieces), 2):
        body = pieces[index]
        ends_escaped = (len(body) - len(body.rstrip(b"\\"))) % 2  # `\"""` ends no string
        if b"\\" in body and not ends_escaped:
            pieces[index - 1] += b"r"
    return b'"""'.join(pieces)


def _keyword_names(fds: descriptor_pb2.FileDescriptorSet) -> set[str]:
    """The files with a service or rpc named like a Python keyword (`service lambda`,
    `rpc async`): grpc's module then names a class or attribute after it."""
    return {
        proto.name
        for proto in fds.file
        for service in proto.service
        if keyword.iskeyword(service.name)
        or any(keyword.iskeyword(method.name) for method in service.method)
    }


def _check(
    outputs: Sequence[GeneratedFile], suspects: set[str], group: Sequence[ProtoFile]
) -> None:
    """Raise CompileError for a gRPC module that is not valid Python.

    Parsing every module would cost a third of a build, so only those where it can happen are
    parsed: a keyword name, or a backslash (a docstring made raw).
    """
    for out in outputs:
        if out.generator != "grpc":
            continue
        if out.proto in suspects or b"\\" in out.content:
            try:
                compile(out.content, out.path, "exec", ast.PyCF_ONLY_AST)
            except SyntaxError as exc:
                raise _invalid(out, exc, group) from exc


def _invalid(out: GeneratedFile, error: SyntaxError, group: Sequence[ProtoFile]) -> CompileError:
    source = next(p.source for p in group if p.import_path == out.proto)
    return CompileError(
        f"{shown(source)}: grpc's generator wrote {out.path}, which is not valid Python "
        f"({error.msg}, its line {error.lineno}): rename a service or rpc named like a Python "
        "keyword, or leave grpc out for this file in an [[overrides]] entry"
    )
