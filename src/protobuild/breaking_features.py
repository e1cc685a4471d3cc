"""How the breaking rules see a field, enum or message: through the features it resolves.

proto2 and proto3 cannot set features: each behaves as its syntax always has (a proto2 enum is
closed, a proto3 string validates UTF-8, ...). An editions element takes each feature from the
innermost place that sets it (the field, its oneof, each enclosing message, the file), else its
edition's default. Reading both versions this way lets a file move between syntaxes and
editions without a finding as long as nothing anyone can observe changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from google.protobuf import descriptor_pb2 as d

F = d.FieldDescriptorProto
FS = d.FeatureSet
Feature = Literal[
    "field_presence", "enum_type", "utf8_validation", "message_encoding", "json_format"
]

# What each syntax behaves as. Editions 2023 and 2024 share these defaults; proto2 and proto3
# are the editions they were before there were features.
_DEFAULTS: Mapping[str, Mapping[Feature, int]] = {
    "proto2": {
        "field_presence": FS.EXPLICIT,
        "enum_type": FS.CLOSED,
        "utf8_validation": FS.NONE,
        "message_encoding": FS.LENGTH_PREFIXED,
        "json_format": FS.LEGACY_BEST_EFFORT,
    },
    "proto3": {
        "field_presence": FS.IMPLICIT,
        "enum_type": FS.OPEN,
        "utf8_validation": FS.VERIFY,
        "message_encoding": FS.LENGTH_PREFIXED,
        "json_format": FS.ALLOW,
    },
    "editions": {
        "field_presence": FS.EXPLICIT,
        "enum_type": FS.OPEN,
        "utf8_validation": FS.VERIFY,
        "message_encoding": FS.LENGTH_PREFIXED,
        "json_format": FS.ALLOW,
    },
}

# The message a file-level extension sits in: none, so nothing to inherit and no oneofs or map
# entries. Never modified.
_NO_MESSAGE = d.DescriptorProto()


@dataclass(frozen=True)
class Scope:
    """Where a field is declared, as it inherits features: its messages, then its file.

    `enum_types` holds every enum of the same version of the set by full name (".pkg.Enum"),
    for the defaults of enum fields; an enum from a file outside the set is not in it.
    """

    file: d.FileDescriptorProto
    name: str  # the message inside the package, `Outer.Inner`; "" at file level
    messages: tuple[d.DescriptorProto, ...]  # the message itself, then each enclosing one
    enum_types: Mapping[str, d.EnumDescriptorProto] = field(default_factory=dict)

    @property
    def message(self) -> d.DescriptorProto:
        return self.messages[0] if self.messages else _NO_MESSAGE


@dataclass(frozen=True)
class Pair:
    """One field (or extension) in both versions, each with the scope that declares it."""

    new: F
    now: Scope
    old: F
    was: Scope


def resolve(feature: Feature, file: d.FileDescriptorProto, chain: Iterable[FS]) -> int:
    """The value of `feature` in `file` for an element whose features are `chain`, innermost
    first: the first one set, else the default of the file's edition or syntax."""
    if file.syntax != "editions":
        return _DEFAULTS["proto3" if file.syntax == "proto3" else "proto2"][feature]
    for features in chain:
        if features.HasField(feature):
            value: int = getattr(features, feature)
            return value
    return _DEFAULTS["editions"][feature]


def feature_name(feature: Feature, value: int) -> str:
    """The name of a value of `feature`, `VERIFY` for utf8_validation 2."""
    enum = FS.DESCRIPTOR.fields_by_name[feature].enum_type
    assert enum is not None  # every standard feature is an enum
    return enum.values_by_number[value].name


def field_feature(feature: Feature, field: F, scope: Scope) -> int:
    """The value of `feature` for `field`, declared in `scope`."""
    return resolve(feature, scope.file, _field_chain(field, scope))


def _field_chain(field: F, scope: Scope) -> Iterator[FS]:
    yield field.options.features
    if field.HasField("oneof_index"):
        yield scope.message.oneof_decl[field.oneof_index].options.features
    yield from enclosing(scope)


def enclosing(scope: Scope) -> Iterator[FS]:
    """The features of each message of `scope`, innermost first, then the file's."""
    for message in scope.messages:
        yield message.options.features
    yield scope.file.options.features


def enum_types(files: Iterable[d.FileDescriptorProto]) -> dict[str, d.EnumDescriptorProto]:
    """Every enum of `files`, nested ones too, by full name with a leading dot."""
    found: dict[str, d.EnumDescriptorProto] = {}
    for proto in files:
        prefix = f".{proto.package}" if proto.package else ""
        _collect_enums(found, prefix, proto.enum_type, proto.message_type)
    return found


def _collect_enums(
    found: dict[str, d.EnumDescriptorProto],
    prefix: str,
    enums: Iterable[d.EnumDescriptorProto],
    messages: Iterable[d.DescriptorProto],
) -> None:
    for enum in enums:
        found[f"{prefix}.{enum.name}"] = enum
    for message in messages:
        _collect_enums(found, f"{prefix}.{message.name}", message.enum_type, message.nested_type)
