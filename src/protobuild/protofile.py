"""Just enough of the .proto syntax to find a file's imports before protoc runs.

protoc reports an unresolved import as "Import ... was not found", without saying where it
looked or what would provide it; reading the imports ourselves lets resolve explain that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Comments and string literals, in one alternation so that a `//` inside a string is not a
# comment and a quote inside a comment is not a string.
_LEXEMES = re.compile(
    r"""(?P<line>//[^\n]*)|(?P<block>/\*.*?\*/)|(?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""",
    re.DOTALL,
)
_IMPORT = re.compile(
    r"(?:^|(?<=[;}]))\s*import\s+(?P<kind>public\s+|weak\s+)?(?P<quote>\"|')(?P<path>[^\"'\n]*)(?P=quote)\s*;",
)

_SERVICE = re.compile(r"(?:^|(?<=[;}]))\s*service\s+\w+\s*\{")


@dataclass(frozen=True)
class ProtoImport:
    """One `import "path";` statement: where it stands and what it names."""

    path: str
    line: int
    column: int
    public: bool = False


@dataclass(frozen=True)
class ProtoSummary:
    """What resolve needs to know of a .proto before protoc reads it."""

    imports: tuple[ProtoImport, ...]
    has_services: bool


def summarize(text: str) -> ProtoSummary:
    """The imports of a .proto source and whether it declares a service (one pass over its
    comments, which both questions must skip)."""
    masked = _mask_comments(text)
    return ProtoSummary(_imports(text, masked), _SERVICE.search(masked) is not None)


def _imports(text: str, masked: str) -> tuple[ProtoImport, ...]:
    found = []
    for match in _IMPORT.finditer(masked):
        start = match.start("kind") if match["kind"] else match.start("quote")
        keyword_at = masked.rfind("import", 0, start)
        line, column = _position(text, keyword_at)
        public = (match["kind"] or "").strip() == "public"
        found.append(ProtoImport(match["path"], line, column, public))
    return tuple(found)


def _mask_comments(text: str) -> str:
    """Replace comments with spaces (newlines kept) so that offsets still match `text`."""

    def blank(match: re.Match[str]) -> str:
        if match.lastgroup == "string":
            return match[0]
        return re.sub(r"[^\n]", " ", match[0])

    return _LEXEMES.sub(blank, text)


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column
