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

# At each position the first alternative that matches wins, scanning left to right. Only dotted
# names with a `_pb2`/`_pb2_grpc` segment at the end can be generated modules; that restriction
# keeps the scan cheap. String patterns are unrolled loops: they move through long literals
# (the serialized descriptor in every _pb2.py) without backtracking per character.
_LEXER = re.compile(
    r"""
    (?P<string>(?<!\w)[rRbBuUfF]{0,2}(?:
        '''[^\\']*(?:(?:\\.|'(?!''))[^\\']*)*'''
        |\"\"\"[^\\"]*(?:(?:\\.|"(?!""))[^\\"]*)*\"\"\"
        |'[^'\\\n]*(?:\\.[^'\\\n]*)*'
        |"[^"\\\n]*(?:\\.[^"\\\n]*)*"))
    |(?P<comment>\#[^\n]*)
    |(?P<import>^[ \t]*(?:from[ \t]+[\w.]+[ \t]+import[ \t]*(?:\([^)]*\)|[^\n#;]*)
        |import[ \t]+[^\n#;]*))
    |(?P<name>(?<![\w.])(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*_pb2(?:_grpc)?(?!\w))
    """,
    re.VERBOSE | re.MULTILINE | re.DOTALL,
)

# What the last characters of a module name string (before its closing quote) can be.
_MODULE_ENDINGS = ("_pb2", "grpc")


def rewrite_modules(source: str, renames: Mapping[str, str]) -> str:
    """`source` with each module named in `renames` (old dotted name -> new) renamed.

    Renamed: import statements in every form, dotted references (`a.b_pb2.X` where `a.b_pb2`
    was imported without an alias), and string literals whose whole value is a module name.
    """
    if not renames:
        return source
    return _LEXER.sub(lambda match: _replacement(match, renames), source)


def _replacement(match: re.Match[str], renames: Mapping[str, str]) -> str:
    text = match[0]
    kind = match.lastgroup
    if kind == "name":
        return _rename_chain(text, renames)
    if kind == "import":
        return _rewrite_statement(text, renames)
    if kind == "string" and text[-5:-1] in _MODULE_ENDINGS and text[0] == text[-1]:
        value = ast.literal_eval(text)
        if value in renames:
            return f"{text[0]}{renames[value]}{text[0]}"
    return text


def _rename_chain(chain: str, renames: Mapping[str, str]) -> str:
    """Rename the longest prefix of `chain` that is a renamed module."""
    parts = chain.split(".")
    for count in range(len(parts), 0, -1):
        prefix = ".".join(parts[:count])
        if prefix in renames:
            return ".".join([renames[prefix], *parts[count:]])
    return chain


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
