"""Move generated modules under a package by renaming the modules they refer to.

protoc and mypy-protobuf name modules after import paths (`acme.v1.thing_pb2`); the output
lives under a package (`mypkg.gen.acme.v1.thing_pb2`). This rewrites, token by token, every
place a generated file names a module: import statements in all their forms, dotted references
such as `acme.v1.thing_pb2.Thing`, and the module name string baked into `_pb2.py` (which
becomes the classes' `__module__`, so that pickling finds them). Everything else is left byte
for byte as it was. Unlike a regular expression over lines, the tokenizer never mistakes a
comment, a string or a longer name for a module.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from protobuild.errors import InternalError

_Pos = tuple[int, int]
_SKIP = (tokenize.NL, tokenize.COMMENT)


@dataclass(frozen=True)
class _Edit:
    start: _Pos
    end: _Pos
    text: str


def rewrite_modules(source: str, renames: Mapping[str, str]) -> str:
    """`source` with each module named in `renames` (old dotted name -> new) renamed.

    Raises InternalError if `source` is not Python that the tokenizer accepts: generated
    code always is.
    """
    if not renames:
        return source
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        raise InternalError(f"generated code does not tokenize: {exc}") from exc
    return _apply(source, _edits(tokens, renames))


def _edits(tokens: Sequence[tokenize.TokenInfo], renames: Mapping[str, str]) -> list[_Edit]:
    edits: list[_Edit] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if (
            token.type == tokenize.NAME
            and token.string in ("from", "import")
            and _starts_line(tokens, index)
        ):
            end = _line_end(tokens, index)
            edit = _import_edit(tokens[index:end], renames)
            edits.extend([edit] if edit else [])
            index = end
            continue
        if token.type == tokenize.NAME and not _after_dot(tokens, index):
            edit, index = _chain_edit(tokens, index, renames)
            edits.extend([edit] if edit else [])
            continue
        if token.type == tokenize.STRING:
            edits.extend(_string_edit(token, renames))
        index += 1
    return edits


def _starts_line(tokens: Sequence[tokenize.TokenInfo], index: int) -> bool:
    before = [t for t in tokens[:index][-3:] if t.type not in _SKIP]
    return not before or before[-1].type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)


def _after_dot(tokens: Sequence[tokenize.TokenInfo], index: int) -> bool:
    return index > 0 and tokens[index - 1].string == "."


def _line_end(tokens: Sequence[tokenize.TokenInfo], index: int) -> int:
    while index < len(tokens) and tokens[index].type not in (tokenize.NEWLINE, tokenize.ENDMARKER):
        index += 1
    return index


def _chain_edit(
    tokens: Sequence[tokenize.TokenInfo], index: int, renames: Mapping[str, str]
) -> tuple[_Edit | None, int]:
    """Rename the longest prefix of the dotted name starting at `index` that is a module."""
    names = [tokens[index]]
    end = index + 1
    while (
        end + 1 < len(tokens)
        and tokens[end].string == "."
        and tokens[end + 1].type == tokenize.NAME
    ):
        names.append(tokens[end + 1])
        end += 2
    for count in range(len(names), 0, -1):
        dotted = ".".join(t.string for t in names[:count])
        if dotted in renames:
            return _Edit(names[0].start, names[count - 1].end, renames[dotted]), end
    return None, end


def _string_edit(token: tokenize.TokenInfo, renames: Mapping[str, str]) -> list[_Edit]:
    if token.string[:1] not in ("'", '"'):
        return []  # prefixed strings (b'', f'') never hold module names
    value = ast.literal_eval(token.string)
    if value not in renames:
        return []
    quote = token.string[0]
    return [_Edit(token.start, token.end, f"{quote}{renames[value]}{quote}")]


# -- import statements ---------------------------------------------------------------------


def _import_edit(line: Sequence[tokenize.TokenInfo], renames: Mapping[str, str]) -> _Edit | None:
    words = [t.string for t in line if t.type not in _SKIP and t.string not in ("(", ")")]
    if words[0] == "from":
        module, names = _parse_from(words)
        statements = _rewrite_from(module, names, renames)
    else:
        statements = _rewrite_import(_parse_names(words[1:]), renames)
    if statements is None:
        return None
    indent = " " * line[0].start[1]
    return _Edit(line[0].start, line[-1].end, ("\n" + indent).join(statements))


def _parse_from(words: list[str]) -> tuple[str, list[tuple[str, str | None]]]:
    split = words.index("import")
    return "".join(words[1:split]), _parse_names(words[split + 1 :])


def _parse_names(words: list[str]) -> list[tuple[str, str | None]]:
    """`a.b as c, d` (as words) -> [("a.b", "c"), ("d", None)]."""
    names: list[tuple[str, str | None]] = []
    for chunk in " ".join(words).replace(" . ", ".").split(","):
        parts = chunk.split()
        if parts:
            names.append((parts[0], parts[2] if len(parts) == 3 else None))
    return names


def _rewrite_from(
    module: str, names: list[tuple[str, str | None]], renames: Mapping[str, str]
) -> list[str] | None:
    if module in renames:
        return [f"from {renames[module]} import {_join(names)}"]
    moved = [(n, a) for n, a in names if f"{module}.{n}" in renames]
    if not moved or module.startswith("."):
        return None
    kept = [(n, a) for n, a in names if (n, a) not in moved]
    statements = [f"from {module} import {_join(kept)}"] if kept else []
    for name, alias in moved:
        statements.append(_import_as(renames[f"{module}.{name}"], alias or name))
    return statements


def _rewrite_import(
    names: list[tuple[str, str | None]], renames: Mapping[str, str]
) -> list[str] | None:
    if not any(name in renames for name, _ in names):
        return None
    statements = []
    for name, alias in names:
        if name not in renames:
            statements.append(f"import {_join([(name, alias)])}")
        elif alias is None:
            statements.append(f"import {renames[name]}")  # dotted uses are renamed too
        else:
            statements.append(_import_as(renames[name], alias))
    return statements


def _import_as(module: str, alias: str) -> str:
    parent, _, leaf = module.rpartition(".")
    if not parent:
        return f"import {leaf} as {alias}" if leaf != alias else f"import {leaf}"
    return f"from {parent} import {leaf}" + (f" as {alias}" if alias != leaf else "")


def _join(names: list[tuple[str, str | None]]) -> str:
    return ", ".join(f"{n} as {a}" if a else n for n, a in names)


def _apply(source: str, edits: list[_Edit]) -> str:
    if not edits:
        return source
    starts = _line_offsets(source)
    out = []
    cursor = 0
    for edit in edits:
        begin = starts[edit.start[0] - 1] + edit.start[1]
        out.append(source[cursor:begin])
        out.append(edit.text)
        cursor = starts[edit.end[0] - 1] + edit.end[1]
    out.append(source[cursor:])
    return "".join(out)


def _line_offsets(source: str) -> list[int]:
    offsets = [0]
    for line in source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    return offsets
