"""mypy-protobuf stubs that refer to enums of an installed distribution with protoc's stubs.

mypy-protobuf types an enum field as `Enum.ValueType`, a name its own stubs declare. A
distribution such as googleapis-common-protos ships protoc's stubs instead, whose enum
classes (`class DayOfWeek(int, metaclass=EnumTypeWrapper)`) have no `ValueType`: every field
typed with one of their enums failed `mypy --strict` with "name-defined". In protoc's stubs
the enum's values are instances of the class itself, so the field is typed as the class.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from google.protobuf import descriptor_pb2

from protobuild.resolve import DISTRIBUTION, Plan

# An import in a stub: `from a.b import c_pb2 as _c_pb2`, `import a.b.c_pb2 as x`, or
# `import a.b.c_pb2` (readable stubs), as (module, the name code uses for it).
_IMPORT = re.compile(
    r"^(?:from ([\w.]+) import (\w+) as (\w+)|import ([\w.]+) as (\w+)|import ([\w.]+))$",
    re.MULTILINE,
)


def protoc_styled_enums(
    plan: Plan, fds: descriptor_pb2.FileDescriptorSet
) -> dict[str, frozenset[str]]:
    """Module -> the enums (`DayOfWeek`, `Message.Kind`) of each distribution proto that the
    plan imports and whose installed stub is protoc's (it declares no `ValueType`)."""
    roots = {
        found.path: found.root
        for proto in plan.files
        for found in proto.imports
        if found.root.kind == DISTRIBUTION
    }
    modules = plan.module_map()
    styled: dict[str, frozenset[str]] = {}
    for file in fds.file:
        root = roots.get(file.name)
        enums = frozenset(_enum_paths(file.enum_type, file.message_type, ""))
        if root is not None and enums and _protoc_stub(root.file_for(file.name).as_posix()):
            styled[modules[file.name]] = enums
    return styled


def _enum_paths(
    enums: Iterable[descriptor_pb2.EnumDescriptorProto],
    messages: Iterable[descriptor_pb2.DescriptorProto],
    prefix: str,
) -> Iterator[str]:
    for enum in enums:
        yield f"{prefix}{enum.name}"
    for message in messages:
        yield from _enum_paths(message.enum_type, message.nested_type, f"{prefix}{message.name}.")


def _protoc_stub(proto: str) -> bool:
    """Whether the stub installed beside `proto` is protoc's, told by how it declares enums
    (mypy-protobuf's derive from a class holding `ValueType`); False when there is none."""
    try:
        with open(proto.removesuffix(".proto") + "_pb2.pyi", encoding="utf-8") as stub:
            return _PROTOC_ENUM.search(stub.read()) is not None
    except OSError:
        return False


# How protoc's stubs declare an enum:
# `class Code(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):`.
_PROTOC_ENUM = re.compile(r"^\s*class \w+\(int, metaclass=[\w.]*EnumTypeWrapper\):", re.MULTILINE)


def retyped(stub: str, enums: Mapping[str, frozenset[str]]) -> str:
    """`stub` with `alias.Enum.ValueType` made `alias.Enum` for the enums in `enums`."""
    if not enums or ".ValueType" not in stub:
        return stub
    aliases = _aliases(stub, enums)
    if not aliases:
        return stub
    names = "|".join(re.escape(alias) for alias in sorted(aliases, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.])({names})\.([A-Za-z_][\w.]*)\.ValueType\b")

    def plain(match: re.Match[str]) -> str:
        known = match[2] in enums[aliases[match[1]]]
        return f"{match[1]}.{match[2]}" if known else match[0]

    return pattern.sub(plain, stub)


def _aliases(stub: str, enums: Mapping[str, frozenset[str]]) -> dict[str, str]:
    """The names `stub` gives the modules of `enums` (name -> module)."""
    found = {}
    for match in _IMPORT.finditer(stub):
        if match[1]:
            module, alias = f"{match[1]}.{match[2]}", match[3]
        else:
            module = match[4] or match[6]
            alias = match[5] or match[6]
        if module in enums:
            found[alias] = module
    return found
