"""Typed access to a parsed TOML table, for the config's decoder: each accessor checks the
type of one key and reports a wrong one as a ConfigError at the key's line and column."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from protobuild.errors import ConfigError, Location
from protobuild.tomlpos import find_key


class TableReader:
    """The accessors; `path` is the TOML file, whose `text` locates keys for errors."""

    def __init__(self, text: str, path: Path) -> None:
        self.lines = text.splitlines()
        self.path = path
        self.base = path.parent

    def keys(
        self, table: dict[str, Any], allowed: tuple[str, ...], where: str, what: str = "key"
    ) -> None:
        for name in table:
            if name not in allowed:
                full = f"{where}.{name}" if where else name
                hint = did_you_mean(name, allowed)
                raise self.error(
                    f"unknown {what} {full!r}; {hint}allowed: {', '.join(allowed) or 'none'}",
                    full,
                )

    def table(self, data: dict[str, Any], key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        table = data.get(key, {})
        if not isinstance(table, dict):
            raise self.error(f"{key}: expected a table, got {kind(table)}", key)
        self.keys(table, allowed, key)
        return table

    def array_of_tables(self, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error(f"{key}: expected an array of tables ([[{key}]])", key)
        return value

    def string(
        self, table: dict[str, Any], key: str, default: str = "", required: bool = False
    ) -> str:
        name = key.rsplit(".", 1)[-1]
        if name not in table:
            if required:
                raise self.error(f"{key} is required", key.rsplit(".", 1)[0])
            return default
        value = table[name]
        if not isinstance(value, str):
            raise self.error(f"{key}: expected a string, got {kind(value)}", key)
        return value

    def boolean(self, table: dict[str, Any], key: str, default: bool) -> bool:
        value = table.get(key.rsplit(".", 1)[-1], default)
        if not isinstance(value, bool):
            raise self.error(f"{key}: expected true or false, got {kind(value)}", key)
        return value

    def strings(self, table: dict[str, Any], key: str) -> tuple[str, ...]:
        value = table.get(key.rsplit(".", 1)[-1], [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(f"{key}: expected an array of strings, got {kind(value)}", key)
        return tuple(value)

    def dirs(self, table: dict[str, Any], key: str) -> tuple[Path, ...]:
        return tuple(self.proto_path(value, key) for value in self.strings(table, key))

    def proto_path(self, value: str, key: str) -> Path:
        """A directory protoc searches (`-I`): one whose path protoc would not misread."""
        directory = self.directory(value, key)
        misread = [c for c in (os.pathsep, "=") if c in str(directory)]
        if misread:
            raise self.error(
                f"{key}: protoc cannot search {str(directory)!r}: it reads {misread[0]!r} in an "
                "include path as a separator; rename the directory or move the project to a "
                "path without it",
                key,
            )
        return directory

    def directory(self, value: str, key: str) -> Path:
        if value.startswith("~"):  # a shell would expand it; TOML does not, nor do we
            raise self.error(
                f"{key}: {value!r} starts with '~', which is not expanded: paths are relative to "
                "the config file; write the path from there",
                key,
            )
        # Normalise without resolving symlinks, so that messages show the user's own paths.
        return Path(_normpath(self.base / value))

    def error(self, message: str, key: str) -> ConfigError:
        line, column = find_key(self.lines, key)
        return ConfigError(message, Location(self.path, line, column))


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    """`did you mean 'x'? ` for the candidate nearest to a misspelled `word`, or "" when
    none is near: the one way every message suggests a name."""
    import difflib  # only for an error message: a valid config never needs it

    near = difflib.get_close_matches(word, candidates, n=1)
    return f"did you mean {near[0]!r}? " if near else ""


def _normpath(path: Path) -> str:
    return os.path.normpath(path)


def kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    names.update({list: "an array", dict: "a table"})
    return names.get(type(value), type(value).__name__)
