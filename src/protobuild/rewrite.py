"""Move generated modules under a package by renaming the modules they refer to.

protoc and mypy-protobuf name modules after import paths (`acme.v1.thing_pb2`); the output
lives under a package (`mypkg.gen.acme.v1.thing_pb2`). This rewrites every place a generated
file names a module: import statements in all their forms, dotted references such as
`acme.v1.thing_pb2.Thing`, and the module name string baked into `_pb2.py` (which becomes the
classes' `__module__`, so that pickling finds them). Everything else is left byte for byte.

A single lexical pass does it: strings and comments are recognised as such, so a module name
inside a docstring or a comment is never taken for code, and a longer name that merely
contains a module name is never cut. (The tokenize module did the same job ten times slower.)
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping

# The scan stops only where something can start that matters: a quote (a string, which hides
# what is inside it), `#` (a comment, likewise), a newline (an import statement may follow)
# or `_pb2` (the end of a generated module's name). Every alternative begins with one of those
# characters, so the regex engine skips everything else in a tight loop instead of trying each
# alternative at every position: that made renaming several times faster on large trees. The
# skip needs every alternative at the top level, starting with a literal: any group around
# some of them (capturing or not) disables it, so the kind of a match is told by its first
# character instead (quote, '#', newline or '_'). String
# patterns are unrolled loops: they move through long literals (the serialized descriptor in
# every _pb2.py) without backtracking per character. A string prefix (b, r, f...) does not
# change where a literal ends, so the scan starts at the quote.
_LEXER = re.compile(
    r"""
    '''[^\\']*(?:(?:\\.|'(?!''))[^\\']*)*'''
    |\"\"\"[^\\"]*(?:(?:\\.|"(?!""))[^\\"]*)*\"\"\"
    |'[^'\\\n]*(?:\\.[^'\\\n]*)*'
    |"[^"\\\n]*(?:\\.[^"\\\n]*)*"
    |\#[^\n]*
    |\n[ \t]*(?:(?:from[ \t]+[\w.]+[ \t]+import[ \t]*(?:\([^)]*\)|[^\n#;]*)
        |import[ \t]+[^\n#;]*))
    |_pb2(?:_grpc)?(?!\w)
    """,
    re.VERBOSE | re.DOTALL,
)
_IMPORT_LINE = re.compile(r"^[ \t]*import[ \t]+([^\n#;]*)", re.MULTILINE)
_CHAIN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_."

# What the last characters of a module name string (before its closing quote) can be.
_MODULE_ENDINGS = ("_pb2", "grpc")


# Where a generated module's name can end in code: `_pb2` or `_pb2_grpc`, not followed by more
# of a name (the lexer's last alternative, on its own).
_MODULE_END = re.compile(r"_pb2(?:_grpc)?(?!\w)")


def rewrite_modules(source: str, renames: Mapping[str, str]) -> str:
    """`source` with each module named in `renames` (old dotted name -> new) renamed.

    Renamed: import statements in every form, dotted references (`a.b_pb2.X` where `a.b_pb2`
    was imported without an alias), and string literals whose whole value is a module name.
    (For many files with the same renames, a Renamer prepares them once.)
    """
    return Renamer(renames).rewrite(source)


class Renamer:
    """Renames the modules in `renames` (old dotted name -> new) in generated sources."""

    def __init__(self, renames: Mapping[str, str]) -> None:
        self.renames = renames
        # The names an import statement can give a renamed module by (`from a.b import c_pb2`).
        self._leaves = frozenset(name.rpartition(".")[2] for name in renames)
        # protoc's aliases of imported modules end in `__pb2` (`a_dot_b__pb2`), and a generated
        # gRPC module names them hundreds of times; unless a module's own name ends so (a proto
        # named `x_.proto`), such a name is never renamed and need not be looked at.
        self._aliases_too = any(name.endswith(("__pb2", "__pb2_grpc")) for name in renames)

    def rewrite(self, source: str) -> str:
        """`source` with the modules renamed (see rewrite_modules)."""
        if not self.renames:
            return source
        text = "\n" + source  # so that a statement on the first line starts after a newline
        # Lexing costs 10-15 ns per character in the regex engine. Past the last name that
        # could be renamed there is nothing to change: in most stubs and gRPC modules that is
        # the import block at the top, the rest referring to modules by their aliases.
        last = self._last_candidate(text)
        return source if last < 0 else _rewrite(text, self.renames, last)[1:]

    def _last_candidate(self, text: str) -> int:
        """Where the last module name that may be renamed ends in `text` (-1: nowhere).

        Every replacement covers one: a renamed module's dotted name (a reference, a string,
        `import a.b_pb2`) or its last part (`from a import b_pb2`, parentheses or not).
        """
        position = len(text)
        while (position := text.rfind("_pb2", 0, position)) >= 0:
            if position and text[position - 1] == "_" and not self._aliases_too:
                continue
            end = _MODULE_END.match(text, position)
            if end is not None:
                name = text[_chain_start(text, position, 0) : end.end()]
                if name in self.renames or name in self._leaves:
                    return end.end()
        return -1


def _rewrite(text: str, renames: Mapping[str, str], last: int) -> str:
    """`text` with modules renamed in the tokens that start before `last`."""
    pieces: list[str] = []
    done = 0  # text[:done] is in pieces
    plain: frozenset[str] | None = None  # found when first needed: most files never need it
    for match in _LEXER.finditer(text):
        start, end = match.span()
        if start >= last:
            break
        kind = text[start]
        if kind == "#" or (kind in "'\"" and text[end - 5 : end - 1] not in _MODULE_ENDINGS):
            continue  # the common case, kept cheap: a comment, or a string naming no module
        if kind == "_":
            start = _chain_start(text, start, done)
            if "." not in text[start:end]:
                plain = _plainly_imported(text) if plain is None else plain
                if text[start:end] not in plain:
                    continue
        elif kind == "\n":
            start += 1  # the newline before the statement stays
        replacement = _replacement(text, kind, start, end, renames)
        if replacement is not None:
            pieces += (text[done:start], replacement)
            done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _plainly_imported(text: str) -> frozenset[str]:
    """The modules `text` imports without an alias (`import types_pb2`).

    Only through such an import does a bare `types_pb2.X` name the top-level module: after
    `from acme.v1 import types_pb2` the same name is another module, not to be renamed.
    """
    names: set[str] = set()
    for match in _IMPORT_LINE.finditer(text):
        words = match[1].replace(",", " , ").split()
        names.update(name for name, alias in _parse_names(words) if alias is None)
    return frozenset(names)


def _chain_start(text: str, end_of_module: int, floor: int) -> int:
    """Where the dotted name ending in `_pb2` at `end_of_module` begins (not before floor)."""
    start = end_of_module
    while start > floor:  # str.rstrip finds the run in C; windows keep the copies short
        window = text[max(floor, start - 128) : start]
        rest = window.rstrip(_CHAIN_CHARS)
        start -= len(window) - len(rest)
        if rest:
            break
    return start


def _replacement(
    text: str, kind: str, start: int, end: int, renames: Mapping[str, str]
) -> str | None:
    """What replaces text[start:end], a token of `kind` (its first character), or None."""
    token = text[start:end]
    if kind == "_":
        # The dotted name ends at `_pb2`, so only the whole of it can name a generated module
        # (every key of `renames` does); one ending in a dot is an attribute of something else.
        return renames.get(token) if text[start - 1] != "." else None
    if kind == "\n":
        return _rewrite_statement(token, renames) if "_pb2" in token else None
    if kind in "'\"" and not text[start - 1].isalnum():  # prefixed (b'...') strings are not names
        value = ast.literal_eval(token)
        if value in renames:
            return f"{token[0]}{renames[value]}{token[0]}"
    return None


def _rewrite_statement(statement: str, renames: Mapping[str, str]) -> str:
    body = statement.strip()
    indent = statement[: len(statement) - len(statement.lstrip())]
    trailing = statement[len(statement.rstrip()) :]
    words = body.replace("(", " ").replace(")", " ").replace(",", " , ").split()
    if words[0] == "from":
        module, names = _parse_from(words)
        statements = _rewrite_from(module, names, renames)
    else:
        statements = _rewrite_import(_parse_names(words[1:]), renames)
    if statements is None:
        return statement
    return indent + ("\n" + indent).join(statements) + trailing


def _parse_from(words: list[str]) -> tuple[str, list[tuple[str, str | None]]]:
    split = words.index("import")
    return "".join(words[1:split]), _parse_names(words[split + 1 :])


def _parse_names(words: list[str]) -> list[tuple[str, str | None]]:
    """`a.b as c , d` (as words) -> [("a.b", "c"), ("d", None)]."""
    names: list[tuple[str, str | None]] = []
    for chunk in " ".join(words).split(","):
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
