"""The field rules of `protobuild breaking`: fields are matched by number within a message.

A number that disappeared is a deletion (FIELD_SAME_NUMBER instead when a field of the same
name now has another number); a number that survived must keep its name, type, cardinality,
oneof and JSON name. Type and cardinality are compared as the wire and generated code see
them, so each side is read with the rules of its own file: a group and a delimited message
(editions `message_encoding = DELIMITED`) are one encoding, a length-prefixed message another;
presence is implicit for a proto3 scalar without `optional`, and otherwise follows the
`field_presence` feature an editions field resolves (see `Scope`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from google.protobuf import descriptor_pb2 as d

from protobuild.breaking_model import (
    FIELD_JSON_NAME,
    FIELD_LABEL,
    FIELD_NAME,
    FIELD_NUMBER,
    FIELD_ONEOF,
    FIELD_TYPE,
    FIELD_TYPE_NAME,
    MSG_FIELD,
    Break,
    Node,
    Path,
)

F = d.FieldDescriptorProto
_NAMED_TYPES = (F.TYPE_MESSAGE, F.TYPE_ENUM, F.TYPE_GROUP)
_MESSAGE_TYPES = (F.TYPE_MESSAGE, F.TYPE_GROUP)  # always explicit presence
_FEATURES = d.FeatureSet
_Feature = Literal["field_presence", "message_encoding"]


@dataclass(frozen=True)
class Scope:
    """A message as its fields inherit features: from it, its enclosing messages, its file.

    Editions resolve each feature from the innermost place that sets it, so one field can
    change presence or encoding without a character of it changing.
    """

    file: d.FileDescriptorProto
    name: str  # inside the package, nested ones as `Outer.Inner`
    messages: tuple[d.DescriptorProto, ...]  # the message itself, then each enclosing one

    @property
    def message(self) -> d.DescriptorProto:
        return self.messages[0]


def check_fields(node: Node[d.DescriptorProto], now: Scope, was: Scope) -> Iterator[Break]:
    """The breaks of the fields of a message present in both versions.

    `node` is the message in the current file, `now` and `was` where it sits in each version.
    """
    file, name = now.file.name, now.name
    numbers = {f.number: i for i, f in enumerate(node.proto.field)}
    names = {f.name: f.number for f in node.proto.field}
    reserved = [(r.start, r.end) for r in node.proto.reserved_range]
    for before in was.message.field:
        what = f'Field "{before.number}" with name "{before.name}" on message "{name}"'
        if before.number in numbers:
            path = (*node.path, MSG_FIELD, numbers[before.number])
            yield from _changed(what, path, _Pair(node.proto.field[path[-1]], now, before, was))
        elif before.name in names:
            path = (*node.path, MSG_FIELD, numbers[names[before.name]], FIELD_NUMBER)
            change = f'from "{before.number}" to "{names[before.name]}"'
            yield Break("FIELD_SAME_NUMBER", f"{what} changed number {change}.", file, path)
        else:
            yield _field_deleted(file, what, node.path, before.number, reserved)


def _field_deleted(
    file: str, what: str, at: Path, number: int, reserved: list[tuple[int, int]]
) -> Break:
    message = f"Previously present {what[0].lower()}{what[1:]} was deleted"
    if any(start <= number < end for start, end in reserved):
        return Break("FIELD_NO_DELETE", message + ".", file, at)
    message += f' without reserving the number "{number}".'
    return Break("FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED", message, file, at)


@dataclass(frozen=True)
class _Pair:
    """One field number in both versions, each with the scope of the message that holds it."""

    new: F
    now: Scope
    old: F
    was: Scope


def _changed(what: str, path: Path, pair: _Pair) -> Iterator[Break]:
    new, old, file = pair.new, pair.old, pair.now.file.name
    if new.name != old.name:
        change = f'from "{old.name}" to "{new.name}"'
        yield Break("FIELD_SAME_NAME", f"{what} changed name {change}.", file, (*path, FIELD_NAME))
    change_of_type = _type_change(pair)
    if change_of_type:
        step = FIELD_TYPE_NAME if new.type in _NAMED_TYPES else FIELD_TYPE
        message = f"{what} changed type {change_of_type}."
        yield Break("FIELD_SAME_TYPE", message, file, (*path, step))
    oneofs = _oneof(pair.was.message, old), _oneof(pair.now.message, new)
    if oneofs[0] != oneofs[1]:
        message = f"{what} moved from {_where(oneofs[0])} to {_where(oneofs[1])}."
        yield Break("FIELD_SAME_ONEOF", message, file, (*path, FIELD_ONEOF))
    # Moving into or out of a oneof also changes presence; buf reports both, and so do we.
    cardinality = _cardinality_change(pair)
    if cardinality:
        message = f"{what} changed cardinality {cardinality}."
        yield Break("FIELD_SAME_CARDINALITY", message, file, (*path, FIELD_LABEL))
    if json_name(old) != json_name(new):
        change = f'from "{json_name(old)}" to "{json_name(new)}"'
        message = f"{what} changed json_name {change}."
        yield Break("FIELD_SAME_JSON_NAME", message, file, (*path, FIELD_JSON_NAME))


def _type_change(pair: _Pair) -> str | None:
    """How the field's type changed (`from "x" to "y"`), or None when it did not.

    A message type that kept its name can still change encoding: a group or delimited field
    is framed by start and end tags, a message field by its length, and neither side can
    read the other. The words are buf's.
    """
    before, after = _type(pair.old), _type(pair.new)
    if before == after and _delimited(pair.old, pair.was) != _delimited(pair.new, pair.now):
        before, after = _encoding(pair.old, pair.was), _encoding(pair.new, pair.now)
    return f'from "{before}" to "{after}"' if before != after else None


def _type(field: F) -> str:
    if field.type in _NAMED_TYPES:
        return field.type_name.lstrip(".")
    return F.Type.Name(field.type).removeprefix("TYPE_").lower()


def _encoding(field: F, scope: Scope) -> str:
    if field.type == F.TYPE_GROUP:
        return "group"
    return "message (delimited encoding)" if _delimited(field, scope) else "message"


def _delimited(field: F, scope: Scope) -> bool:
    # protoc keeps TYPE_MESSAGE in an editions descriptor and leaves the encoding to the
    # resolved feature; map entries and the fields inside them are always length-prefixed.
    if field.type == F.TYPE_GROUP:
        return True
    if field.type != F.TYPE_MESSAGE or scope.file.syntax != "editions":
        return False
    if scope.message.options.map_entry or _is_map(field, scope):
        return False
    encoding = _resolve("message_encoding", field, scope, _FEATURES.LENGTH_PREFIXED)
    return encoding == _FEATURES.DELIMITED


def _is_map(field: F, scope: Scope) -> bool:
    # A map's entry type is always nested in the message that holds the map field.
    owner = f".{scope.file.package}.{scope.name}" if scope.file.package else f".{scope.name}"
    entries = {f"{owner}.{m.name}" for m in scope.message.nested_type if m.options.map_entry}
    return field.label == F.LABEL_REPEATED and field.type_name in entries


def _oneof(owner: d.DescriptorProto, field: F) -> str | None:
    # The synthetic oneof of a proto3 `optional` field is presence, not a oneof.
    if not field.HasField("oneof_index") or field.proto3_optional:
        return None
    return owner.oneof_decl[field.oneof_index].name


def _where(oneof: str | None) -> str:
    return f'inside oneof "{oneof}"' if oneof else "outside of any oneof"


def _cardinality_change(pair: _Pair) -> str | None:
    """How the field's cardinality changed (`from "x" to "y"`), or None when it did not.

    The key and value of a map entry are written by the map, never declared: their presence
    follows the file's syntax, and a file moving from proto3 to editions changes nothing of it
    that anyone can observe.
    """
    if pair.now.message.options.map_entry or pair.was.message.options.map_entry:
        return None
    before, after = _cardinality(pair.old, pair.was), _cardinality(pair.new, pair.now)
    return f'from "{before}" to "{after}"' if before != after else None


def _cardinality(field: F, scope: Scope) -> str:
    if field.label == F.LABEL_REPEATED:  # maps too; presence means nothing to either
        return "repeated"
    presence = _presence(field, scope)
    if field.label == F.LABEL_REQUIRED or presence == _FEATURES.LEGACY_REQUIRED:
        return "required"
    if presence == _FEATURES.IMPLICIT:
        return "optional with implicit presence"
    return "optional with explicit presence"


def _presence(field: F, scope: Scope) -> int:
    """The field_presence a field has, with the rules of its own file.

    proto2 and proto3 cannot set features: their presence is their syntax's. A oneof member,
    a proto3 `optional` and a message field always track presence, whatever is inherited.
    LEGACY_REQUIRED (protoc takes it on fields only, message fields too) is returned as is.
    """
    if scope.file.syntax == "editions":
        # Every edition so far (2023, 2024) defaults to EXPLICIT.
        presence = _resolve("field_presence", field, scope, _FEATURES.EXPLICIT)
    elif scope.file.syntax == "proto3":
        presence = _FEATURES.IMPLICIT
    else:
        presence = _FEATURES.EXPLICIT
    explicit = field.proto3_optional or field.HasField("oneof_index")
    if presence == _FEATURES.IMPLICIT and (explicit or field.type in _MESSAGE_TYPES):
        return _FEATURES.EXPLICIT
    return presence


def _resolve(feature: _Feature, field: F, scope: Scope, default: int) -> int:
    """The value of an editions feature for `field`: the innermost one set, else `default`.

    Features are inherited file -> each enclosing message -> the message -> the field's oneof
    -> the field, and the one set closest to the field wins.
    """
    for features in _features(field, scope):
        if features.HasField(feature):
            value: int = getattr(features, feature)
            return value
    return default


def _features(field: F, scope: Scope) -> Iterator[d.FeatureSet]:
    # Innermost first.
    yield field.options.features
    if field.HasField("oneof_index"):
        yield scope.message.oneof_decl[field.oneof_index].options.features
    for message in scope.messages:
        yield message.options.features
    yield scope.file.options.features


def json_name(field: F) -> str:
    """The field's JSON name: its json_name, else protoc's lowerCamelCase of its name."""
    if field.HasField("json_name"):
        return field.json_name
    parts = field.name.split("_")
    return parts[0] + "".join(part[:1].upper() + part[1:] for part in parts[1:])
