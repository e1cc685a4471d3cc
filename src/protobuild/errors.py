"""The one exception hierarchy of protobuild.

    ProtobuildError            a user-facing error; `location` says where, `exit_code` how it ends
    +-- ConfigError            Protobuild.toml is wrong (exit 2)
    +-- ResolveError           a proto tree cannot be laid out: missing import, shadowing (exit 2)
    +-- CompileError           protoc or a plugin rejected the input (exit 3)
    +-- TemplateError          a jinja2 template failed to load or render (exit 3)
    +-- WriteError             the output tree could not be written (exit 3)
    InternalError              a bug in protobuild itself, never the user's fault

Every message is one or two lines; `str(error)` prefixes `path:line:col: ` when known.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple


class Location(NamedTuple):
    """A place in a file; line and column are 1-based, 0 when unknown."""

    path: Path | str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        text = str(self.path)
        if self.line:
            text += f":{self.line}"
            if self.column:
                text += f":{self.column}"
        return text


def shown(path: Path | str) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(Path(path).absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class ProtobuildError(Exception):
    """Base of every error a user can cause; carries an optional location."""

    exit_code = 2

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is None:
            return self.message
        return f"{self.location}: {self.message}"

    def __reduce__(self) -> tuple[type[ProtobuildError], tuple[str, Location | None]]:
        # Errors cross process boundaries (see parallel.py); keep the location when pickled.
        return type(self), (self.message, self.location)


class ConfigError(ProtobuildError):
    """Protobuild.toml cannot be read or does not validate."""


class ResolveError(ProtobuildError):
    """The proto files cannot be given import paths, include roots or modules."""


class CompileError(ProtobuildError):
    """protoc or a code generator plugin failed."""

    exit_code = 3


class TemplateError(ProtobuildError):
    """A jinja2 template could not be loaded or rendered."""

    exit_code = 3


class WriteError(ProtobuildError):
    """The output tree could not be written; the previous tree is left as it was."""

    exit_code = 3


class InternalError(Exception):
    """A bug in protobuild: an invariant broke. Never raised for bad input."""

    def __str__(self) -> str:
        return f"internal error (this is a bug in protobuild, please report it): {self.args[0]}"
