"""protobuild: the protobuf build toolchain for Python repositories.

The library behind the `protobuild` command. Each function takes the path of a Protobuild.toml;
none of them prints or exits, and every user error is a `ProtobuildError` (see errors.py for
the tree) whose `str()` starts with `path:line:col` where a location is known.
"""

__version__ = "0.1.0"

from protobuild.errors import (
    CompileError,
    ConfigError,
    InternalError,
    ProtobuildError,
    ResolveError,
    TemplateError,
    WriteError,
)
from protobuild.pipeline import Outcome, breaking, build, check, generate, plan

__all__ = [
    "__version__",
    # running the pipeline
    "generate",
    "check",
    "build",
    "plan",
    "breaking",
    "Outcome",
    # errors
    "ProtobuildError",
    "ConfigError",
    "ResolveError",
    "CompileError",
    "TemplateError",
    "WriteError",
    "InternalError",
]
