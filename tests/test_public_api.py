"""The public surface of the package is pinned: removing or renaming a name is a decision."""

from __future__ import annotations

import protobuild


def test_public_names() -> None:
    assert sorted(protobuild.__all__) == sorted(
        [
            "__version__",
            "generate",
            "check",
            "build",
            "plan",
            "breaking",
            "Outcome",
            "ProtobuildError",
            "ConfigError",
            "ResolveError",
            "CompileError",
            "TemplateError",
            "WriteError",
            "InternalError",
        ]
    )
    for name in protobuild.__all__:
        assert hasattr(protobuild, name), name


def test_errors_form_one_tree() -> None:
    for error in (
        protobuild.ConfigError,
        protobuild.ResolveError,
        protobuild.CompileError,
        protobuild.TemplateError,
        protobuild.WriteError,
    ):
        assert issubclass(error, protobuild.ProtobuildError)
    assert not issubclass(protobuild.InternalError, protobuild.ProtobuildError)
