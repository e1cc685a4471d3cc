"""`protobuild breaking`: compare the current protos with a committed descriptor set.

The against side is any FileDescriptorSet: a `[[descriptors]]` snapshot (text format), a
binary set from `protoc --descriptor_set_out` or an image from `buf build -o x.binpb`. Every
change that breaks wire or generated-code compatibility is a `Finding` with a rule name (buf's
where buf has one; see breaking_model.RULES) and the line and column of the element, or of its
closest surviving parent, in the current file, whose descriptor set carries source info.
Additions are never findings, but for a new required field, which old writers never send.
Rules can be switched off per file pattern with an `Ignore`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from google.protobuf import descriptor_pb2, text_format, unknown_fields
from google.protobuf.message import DecodeError

from protobuild import globs
from protobuild.breaking_model import PACKAGE, RULES, Break
from protobuild.breaking_rules import check
from protobuild.errors import Location, ProtobuildError

__all__ = [
    "RULES",
    "BreakingError",
    "Finding",
    "Ignore",
    "compare",
    "format_findings",
    "load_descriptor_set",
]

# The well-known types ship with every compiler: they are nobody's API, and a descriptor set
# built with imports may or may not carry them.
_WELL_KNOWN = "google/protobuf/**"
# buf images mark each file with an extension (field 8042) whose field 1 says "imported".
_BUF_IMAGE_EXTENSION = 8042


class BreakingError(ProtobuildError):
    """A descriptor set cannot be read, or an ignore names no rule."""


@dataclass(frozen=True)
class Finding:
    """One breaking change, located in the current file (or the against file if it is gone).

    `path` is an import path; `line` and `column` are 1-based, 0 when the element and all of its
    parents are gone from the current version.
    """

    rule: str
    message: str
    path: str
    line: int
    column: int


@dataclass(frozen=True)
class Ignore:
    """Rule `rule` switched off for files matching any of `files` (globs.match), with a reason."""

    rule: str
    files: tuple[str, ...]
    reason: str


def load_descriptor_set(path: Path) -> descriptor_pb2.FileDescriptorSet:
    """Read a FileDescriptorSet in binary or text format, whichever parses.

    Binary is tried first and accepted only if it looks like a set (every file named, nothing
    unknown at the top), so that text is never misread as binary. Files a buf image marks as
    imports are left out: they are not part of the API it describes. Raises BreakingError naming
    the file when it cannot be read, is neither format, or holds no file.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BreakingError(f"cannot read descriptor set: {exc.strerror}", Location(path)) from exc
    fds = _from_binary(data)
    if fds is None:
        fds = _from_text(data, path)
    kept = [proto for proto in fds.file if not _buf_import(proto)]
    if not kept:  # empty, truncated, or a Git LFS pointer: comparing would pass everything
        message = "holds no proto file to compare against; is it the snapshot you meant?"
        raise BreakingError(message, Location(path))
    return descriptor_pb2.FileDescriptorSet(file=kept)


def _from_binary(data: bytes) -> descriptor_pb2.FileDescriptorSet | None:
    try:
        fds = descriptor_pb2.FileDescriptorSet.FromString(data)
    except DecodeError:
        return None
    if len(unknown_fields.UnknownFieldSet(fds)) or not all(f.name for f in fds.file):
        return None
    return fds


def _from_text(data: bytes, path: Path) -> descriptor_pb2.FileDescriptorSet:
    try:
        return text_format.Parse(data.decode(), descriptor_pb2.FileDescriptorSet())
    except (UnicodeDecodeError, text_format.ParseError) as exc:
        message = f"not a FileDescriptorSet in binary or text format ({exc})"
        raise BreakingError(message, Location(path)) from exc


def _buf_import(proto: descriptor_pb2.FileDescriptorProto) -> bool:
    extensions = unknown_fields.UnknownFieldSet(proto)
    for unknown in (extensions[i] for i in range(len(extensions))):
        if unknown.field_number == _BUF_IMAGE_EXTENSION and isinstance(unknown.data, bytes):
            # ImageFileExtension: `is_import` is field 1, a varint: tag 0x08, value 1.
            return unknown.data[:2] == b"\x08\x01"
    return False


def compare(
    current: descriptor_pb2.FileDescriptorSet,
    against: descriptor_pb2.FileDescriptorSet,
    ignores: Sequence[Ignore] = (),
) -> list[Finding]:
    """Every breaking change from `against` to `current`, sorted by (path, line, column, rule).

    Files are matched by import path; files only in `current` are additions, and the
    well-known types (google/protobuf/...) are never compared. Findings are located with
    `current`'s source info (build it with --include_source_info; without it every line is 0).
    Raises BreakingError when an ignore names an unknown rule.
    """
    for ignore in ignores:
        _validate(ignore)
    now, was = _by_name(current), _by_name(against)
    findings = {_locate(found, now) for found in check(now, was)}
    kept = [found for found in findings if not _ignored(found, ignores)]
    return sorted(kept, key=lambda f: (f.path, f.line, f.column, f.rule, f.message))


def _validate(ignore: Ignore) -> None:
    if ignore.rule not in RULES:
        known = ", ".join(sorted(RULES))
        raise BreakingError(f"unknown breaking rule {ignore.rule!r}; known rules: {known}")


def _by_name(
    fds: descriptor_pb2.FileDescriptorSet,
) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    return {f.name: f for f in fds.file if not globs.match(_WELL_KNOWN, f.name)}


def _ignored(finding: Finding, ignores: Sequence[Ignore]) -> bool:
    return any(
        ignore.rule == finding.rule and any(globs.match(p, finding.path) for p in ignore.files)
        for ignore in ignores
    )


def _locate(found: Break, current: Mapping[str, descriptor_pb2.FileDescriptorProto]) -> Finding:
    proto = current.get(found.file)
    line, column = _position(proto, found.at) if proto is not None else (0, 0)
    return Finding(found.rule, found.message, found.file, line, column)


def _position(proto: descriptor_pb2.FileDescriptorProto, at: tuple[int, ...]) -> tuple[int, int]:
    """The 1-based start of `at` in `proto`, else of its closest parent, else of the package.

    A file-level element falls back on the package statement, then the syntax statement.
    """
    spans = {tuple(loc.path): loc.span for loc in proto.source_code_info.location}
    candidates = [at[:end] for end in range(len(at), 0, -1)] + [(PACKAGE,), (12,)]
    for path in candidates:
        span = spans.get(path)
        if span:
            return span[0] + 1, span[1] + 1
    return 0, 0


def format_findings(
    findings: Sequence[Finding],
    fmt: Literal["text", "json", "github"],
    show_path: Callable[[str], str],
) -> str:
    """Render findings for people (`path:line:col: message (RULE)`), tools or GitHub Actions.

    `show_path` maps an import path to the path the user sees. "json" is one JSON array;
    "github" prints workflow commands (`::error file=...,line=...,col=...,title=RULE::message`).
    The text and github formats end with a newline unless there is nothing to print.
    """
    if fmt == "json":
        rows = [{**asdict(f), "path": show_path(f.path)} for f in findings]
        return json.dumps(rows, indent=2) + "\n"
    render = _github if fmt == "github" else _text
    return "".join(render(f, show_path(f.path)) + "\n" for f in findings)


def _text(finding: Finding, path: str) -> str:
    where = str(Location(path, finding.line, finding.column))
    return f"{where}: {finding.message} ({finding.rule})"


def _github(finding: Finding, path: str) -> str:
    # Workflow command properties need `,` `:` `%` and newlines escaped; the message only `%`
    # and newlines.
    props = f"file={_escape(path, True)}"
    if finding.line:  # 0 for a deleted file: the annotation goes on the file as a whole
        props += f",line={finding.line},col={finding.column}"
    return f"::error {props},title={_escape(finding.rule, True)}::{_escape(finding.message)}"


def _escape(value: str, is_property: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if is_property:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value
