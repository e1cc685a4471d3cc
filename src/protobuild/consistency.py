"""Checks of a plan across its files and against the config, which each file on its own
would pass (part of the resolve stage): two protos that become one module, an import whose
module is not generated although the importing module needs it, and config entries (patterns,
[packages], snapshot prefixes) that match nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from protobuild import globs
from protobuild.config import Config, locate
from protobuild.errors import ConfigError, Location, ResolveError

if TYPE_CHECKING:
    from google.protobuf import descriptor_pb2

    from protobuild.resolve import ProtoFile


def reject_module_collisions(files: Sequence[ProtoFile]) -> None:
    """ResolveError when two protos would become the same Python module."""
    seen: dict[str, ProtoFile] = {}
    for proto in files:
        if proto.module in seen:
            raise ResolveError(
                f"{seen[proto.module].import_path} and {proto.import_path} both become module "
                f"{proto.module}, so their outputs would overwrite each other; rename one",
                Location(proto.source),
            )
        seen[proto.module] = proto


def reject_imports_without_python(config: Config, files: Sequence[ProtoFile]) -> None:
    """ResolveError at the import statement when a proto generated with `python` imports a
    proto of this tree that is not (an `[[overrides]]` table without python): its _pb2 module
    imports the other's, which would not exist; mypy finds the stubs and passes, and the code
    fails at import time."""
    by_path = {proto.import_path: proto for proto in files}
    for proto in (p for p in files if _has_python(p)):
        for found in proto.imports:
            imported = by_path.get(found.path)
            if imported is not None and not _has_python(imported):
                raise ResolveError(
                    f"imports {found.path}, whose generators leave out python, so "
                    f"{proto.module} would import {imported.module}, which is never written; "
                    f"add python = {{}} to {_generators_key(config, found.path)} in "
                    f"{config.path.name}",
                    Location(proto.source, found.line, found.column),
                )


def _generators_key(config: Config, import_path: str) -> str:
    """The config key whose generators `import_path` gets."""
    index = config.override_for(import_path)
    return "[generators]" if index is None else f"overrides[{index}].generators"


def _has_python(proto: ProtoFile) -> bool:
    return any(generator.name == "python" for generator in proto.generators)


def reject_unused_entries(
    config: Config, files: Sequence[ProtoFile], modules: Mapping[str, str]
) -> None:
    """An override pattern that matches no source proto, or a [packages] entry for a proto
    nothing imports, is a typo or a leftover that would otherwise be ignored without a word."""
    paths = [proto.import_path for proto in files]
    for index, override in enumerate(config.overrides):
        key = f"overrides[{index}].files"
        reject_unmatched(override.files, paths, config, key, "under the source roots")
    _reject_empty_snapshots(config, files)
    for proto, _module in config.packages:
        if proto not in modules:
            raise ConfigError(
                f"packages: no proto here imports {proto!r}; fix its import path or remove "
                "the entry",
                locate(config, f'packages."{proto}"'),
            )


def _reject_empty_snapshots(config: Config, files: Sequence[ProtoFile]) -> None:
    """A [[descriptors]] prefix under which there is no proto would write an empty snapshot
    over the API it recorded (and `breaking` against that passes everything)."""
    from protobuild.descriptors import under  # only here: it imports protobuf's text_format

    paths = {proto.import_path for proto in files}
    paths.update(item.path for proto in files for item in proto.imports)
    for index, entry in enumerate(config.snapshots):
        if not any(under(path, entry.prefix) for path in paths):
            key = f"descriptors[{index}].prefix"
            raise ConfigError(
                f"{key}: no proto has an import path under {entry.prefix!r}; a prefix is a "
                'path such as "acme/v1", not a package name such as "acme.v1"',
                locate(config, key),
            )


def reject_unmatched(
    patterns: Iterable[str], paths: list[str], config: Config, key: str, where: str, hint: str = ""
) -> None:
    """ConfigError at `key` for the first of `patterns` that matches none of `paths` (import
    paths): a typo must not make a pattern quietly do nothing."""
    for pattern in patterns:
        if not any(globs.match(pattern, path) for path in paths):
            raise ConfigError(
                f"{key}: {pattern!r} matches no proto {where}; fix the pattern{hint} or remove it",
                locate(config, key),
            )


def reject_unmatched_ignores(
    config: Config, files: Sequence[descriptor_pb2.FileDescriptorProto]
) -> None:
    """ConfigError for an ignore pattern that matches no file of either side: most often the
    path a finding shows (proto/acme/v1/x.proto) pasted where the import path goes."""
    names = sorted({file.name for file in files})
    example = f", such as {names[0]}" if names else ""
    hint = f" (it matches import paths{example}, not paths on disk)"
    for index, ignore in enumerate(config.breaking_ignores):
        key = f"breaking.ignore[{index}].files"
        reject_unmatched(ignore.files, names, config, key, "here or in the snapshot", hint)
