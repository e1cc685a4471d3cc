"""The comments of proto elements as the service templates show them: cleaned of their
indent and blank edges, and escaped for a docstring."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from google.protobuf import descriptor_pb2


@dataclass(frozen=True)
class Comments:
    """Comments attached to a proto element, cleaned: common indent and blank edges removed."""

    leading: str = ""  # the comment right above the element
    trailing: str = ""  # the comment after it on the same line (or right below)
    detached: tuple[str, ...] = ()  # comments above, separated from it by a blank line


def clean_comment(text: str) -> str:
    """A proto comment as prose: common indent removed, trailing spaces and blank edges gone."""
    # Lines end at "\n" only, and only blanks are trimmed: str.splitlines() and str.rstrip()
    # would also take form feeds, \x1c-\x1e, \x85 and \u2028 for line ends, which a
    # comment may hold as text (its docstring must read back as the comment).
    lines = [line.rstrip(" \t\r") for line in textwrap.dedent(text).split("\n")]
    return "\n".join(lines).strip("\n")


def escape_docstring(text: str) -> str:
    """`text` escaped so that `\"\"\"` + result + `\"\"\"` is a Python literal equal to `text`.

    Backslashes, quotes that could close the string, and unprintable characters other than a
    newline are escaped; everything else is kept as written.
    """
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == "\n" or char.isprintable():
            out.append(char)
        else:
            out.append(repr(char)[1:-1])
    # A quote next to another, or last, could end the literal early: escape all of those.
    escaped = "".join(out)
    escaped = re.sub(r'"(?=")', lambda _: '\\"', escaped)
    return escaped[:-1] + '\\"' if escaped.endswith('"') else escaped


def docstring(comments: Comments) -> str:
    """The escaped docstring text of an element: its leading comment, else its trailing one."""
    return escape_docstring(comments.leading or comments.trailing)


def comments_by_path(
    file: descriptor_pb2.FileDescriptorProto,
    commented: Iterable[descriptor_pb2.SourceCodeInfo.Location] | None = None,
) -> dict[tuple[int, ...], Comments]:
    """Cleaned comments of every commented element of `file`, keyed by SourceCodeInfo path.
    `commented` are its locations that carry comments, when known (the compile stage found
    them): going through all of them again would cost more than the rest of this."""
    found = {}
    for location in file.source_code_info.location if commented is None else commented:
        # Most locations carry no comment; skipping them early is most of this function's speed.
        if not (
            location.leading_comments
            or location.trailing_comments
            or location.leading_detached_comments
        ):
            continue
        comments = Comments(
            leading=clean_comment(location.leading_comments),
            trailing=clean_comment(location.trailing_comments),
            detached=tuple(clean_comment(c) for c in location.leading_detached_comments),
        )
        if comments != Comments():
            found[tuple(location.path)] = comments
    return found
