"""Where a key stands in a TOML file, for error messages.

tomllib reports positions only for syntax errors, never for the keys of a valid document, so
config errors find the line and column by scanning the text: the header of the (n-th) table
for each part of the key path, then the key's assignment, then parts inside inline tables.
"""

from __future__ import annotations

import re


def find_key(lines: list[str], key: str) -> tuple[int, int]:
    """Best-effort line and column of a dotted key path such as `roots[1].prefix`.

    tomllib reports no positions for valid documents, so this scans the text: the header of
    the (n-th) table for each part while there is one, then the key's assignment, then any
    further parts inside its inline table. (0, 0) when it cannot tell.
    """
    # Parts are separated by dots, except inside a quoted part (`packages."a/b.proto"`).
    parts = re.findall(r'"[^"]*"|[^."]+', key)
    names: list[str] = []
    line, matched = 0, 0  # the innermost table header found, and how many parts it covers
    for depth, part in enumerate(parts):
        name, index = _split_index(part)
        names.append(name)
        header = _find_header(lines, ".".join(names), index, line)
        if header is not None:
            line, matched = header + 1, depth + 1
    rest = [_split_index(p)[0] for p in parts[matched:]]
    if not rest:
        return line, 1 if line else 0
    return _find_inline(lines, rest, line)


def _split_index(part: str) -> tuple[str, int]:
    found = re.fullmatch(r"(.+)\[(\d+)\]", part)
    return (found[1], int(found[2])) if found else (part.strip('"'), 0)


def _find_header(lines: list[str], name: str, index: int, after: int) -> int | None:
    pattern = re.compile(rf"^\s*\[\[?\s*{re.escape(name)}\s*\]\]?\s*(#.*)?$")
    hits = [i for i, line in enumerate(lines) if i >= after and pattern.match(line)]
    return hits[index] if index < len(hits) else None


def _find_inline(lines: list[str], names: list[str], after: int) -> tuple[int, int]:
    """The position of `a = { b = { c = ...` for names [a, b, c], searching from line `after`."""
    position: tuple[int, int] | None = None
    row, column = after, 0
    for name in names:
        pattern = re.compile(rf"(?:^|[\s{{,])\"?{re.escape(name)}\"?\s*=")
        found = _search_from(lines, pattern, row, column)
        if found is None:
            break
        position = row, column = found
    if position is None:
        return after, 1 if after else 0
    return position[0] + 1, position[1] + 1


def _search_from(
    lines: list[str], pattern: re.Pattern[str], row: int, column: int
) -> tuple[int, int] | None:
    for index in range(row, len(lines)):
        start = column if index == row else 0
        found = pattern.search(lines[index], start)
        if found:
            offset = found.start() + (0 if found[0][0] not in " \t{," else 1)
            return index, offset
    return None
