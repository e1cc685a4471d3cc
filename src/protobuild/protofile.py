"""Just enough of the .proto syntax to find a file's imports before protoc runs.

protoc reports an unresolved import as "Import ... was not found", without saying where it
looked or what would provide it; reading the imports ourselves lets resolve explain that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Comments and string literals, in one alternation so that a `//` inside a string is not a
# comment and a quote inside a comment is not a string. No capturing group around the
# alternatives: that lets the regex engine skip straight to the next '/', '"' or "'". A
# string's characters are matched run by run (`[^"\\\n]*`), escapes between the runs: one
# alternation per character took a third longer on a large tree.
_STRING = r"""(?:"[^"\\\n]*(?:\\.[^"\\\n]*)*"|'[^'\\\n]*(?:\\.[^'\\\n]*)*')"""
_LEXEMES = re.compile(rf"/(?:/[^\n]*|\*.*?\*/)|{_STRING}", re.DOTALL)
_NOT_NEWLINE = re.compile(r"[^\n]")
# Statements start with a keyword (a literal the engine searches for quickly); that the keyword
# begins a statement (after `;`, `}` or nothing) is checked around each match.
# The path may be split into adjacent literals (`"a/" "b.proto"`), which protoc joins; edition
# 2024's `import option` names a file whose options this one uses: a change there changes it.
_IMPORT = re.compile(rf"import\s*(?:(public|weak|option)\s+)?((?:{_STRING}\s*)+);")
_LITERAL = re.compile(_STRING)
_SERVICE = re.compile(r"service\s+\w+\s*\{")
_STATEMENT_ENDS = ("", ";", "}")


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
    comments and strings, which both questions must skip)."""
    masked = _mask_comments_and_strings(text)
    services = any(_starts_statement(masked, m.start()) for m in _SERVICE.finditer(masked))
    return ProtoSummary(_imports(text, masked), services)


def _imports(text: str, masked: str) -> tuple[ProtoImport, ...]:
    found = []
    for match in _IMPORT.finditer(masked):
        if _starts_statement(masked, match.start()):
            line, column = _position(text, match.start())
            # The literals as written: masked, only their quotes are left.
            literals = _LITERAL.finditer(masked, match.start(2), match.end(2))
            path = "".join(_unquote(text[m.start() : m.end()]) for m in literals)
            found.append(ProtoImport(path, line, column, match[1] == "public"))
    return tuple(found)


def _unquote(literal: str) -> str:
    """The text of one string literal, its escapes (`\\x2f`, `\\057`, `\\"`) decoded."""
    body = literal[1:-1]
    if "\\" not in body:
        return body
    try:  # the escapes are C's, as in Python's unicode_escape; other characters pass as UTF-8
        return body.encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
    except (UnicodeError, ValueError):
        return body  # protoc rejects such a literal and says where


def _starts_statement(masked: str, keyword_at: int) -> bool:
    """Whether the keyword at `keyword_at` is a word of its own that begins a statement."""
    return _previous_char(masked, keyword_at) in _STATEMENT_ENDS


def _previous_char(text: str, index: int) -> str:
    """The last non-whitespace character before `index` ("" if none). Masked comments are long
    runs of spaces, so the search strips windows rather than stepping one character at a
    time; small ones first, as the character is nearly always a line or two back."""
    size = 32
    while index > 0:
        window = text[max(0, index - size) : index].rstrip()
        if window:
            return window[-1]
        index -= size
        size = min(size * 8, 4096)
    return ""


def _mask_comments_and_strings(text: str) -> str:
    """Replace comments, and what strings hold, with spaces (newlines kept) so that offsets
    still match `text`: a keyword inside either is not one (`"; service S {"`)."""

    def blank(match: re.Match[str]) -> str:
        lexeme = match[0]
        if lexeme[0] != "/":  # a string: its quotes stay, for the import statement's pattern
            return lexeme[0] + " " * (len(lexeme) - 2) + lexeme[-1]
        if lexeme[1] == "/":
            return " " * len(lexeme)  # a line comment holds no newline
        return _NOT_NEWLINE.sub(" ", lexeme)

    return _LEXEMES.sub(blank, text)


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column
