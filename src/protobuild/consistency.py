"""Checks of a plan across its files, which each file on its own would pass (part of the
resolve stage): two protos that become one module, and an import whose module is not
generated although the importing module needs it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from protobuild.config import Config
from protobuild.errors import Location, ResolveError

if TYPE_CHECKING:
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
