"""Patterns over proto import paths, as `[[overrides]] files` uses them.

A pattern is matched against the whole import path, segment by segment (segments are separated
by `/`): `*` matches any run of characters inside one segment, `?` one character inside a
segment, `**` as a whole segment matches zero or more segments, and any other character matches
itself. So `acme/*.proto` matches `acme/a.proto` but not `acme/v1/a.proto`, `acme/**` matches
everything under acme/, and `**/legacy_*.proto` matches a legacy_ file at any depth.
"""

from __future__ import annotations

import functools
import re


def match(pattern: str, import_path: str) -> bool:
    """True when `import_path` matches `pattern` (see the module docstring)."""
    return _compile(pattern).fullmatch(import_path) is not None


@functools.cache
def _compile(pattern: str) -> re.Pattern[str]:
    parts = pattern.strip("/").split("/")
    regex = ""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            # Zero or more whole segments, with the separator they need.
            regex += ".*" if last else "(?:[^/]+/)*"
        else:
            regex += _segment(part) + ("" if last else "/")
    return re.compile(regex)


def _segment(part: str) -> str:
    pieces = []
    for char in part:
        if char == "*":
            pieces.append("[^/]*")
        elif char == "?":
            pieces.append("[^/]")
        else:
            pieces.append(re.escape(char))
    return "".join(pieces)
