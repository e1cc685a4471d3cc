"""The field rules of `protobuild breaking`: fields are matched by number within a message.

A number that disappeared is a deletion (FIELD_SAME_NUMBER instead when a field of the same
name now has another number); a number that survived must keep its name, type, cardinality,
oneof and JSON name. Cardinality follows presence, as generated code does: a proto3 scalar
without `optional` has implicit presence, `optional`, proto2 and message fields explicit.
"""

from __future__ import annotations

from collections.abc import Iterator

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


def check_fields(
    file: d.FileDescriptorProto, name: str, node: Node[d.DescriptorProto], old: d.DescriptorProto
) -> Iterator[Break]:
    """The breaks of the fields of message `name`, present in both versions."""
    numbers = {f.number: i for i, f in enumerate(node.proto.field)}
    names = {f.name: f.number for f in node.proto.field}
    reserved = [(r.start, r.end) for r in node.proto.reserved_range]
    for before in old.field:
        what = f'Field "{before.number}" with name "{before.name}" on message "{name}"'
        if before.number in numbers:
            path = (*node.path, MSG_FIELD, numbers[before.number])
            yield from _changed(file, what, path, _pair(node, path, old, before))
        elif before.name in names:
            path = (*node.path, MSG_FIELD, numbers[names[before.name]], FIELD_NUMBER)
            change = f'from "{before.number}" to "{names[before.name]}"'
            yield Break("FIELD_SAME_NUMBER", f"{what} changed number {change}.", file.name, path)
        else:
            yield _field_deleted(file.name, what, node.path, before.number, reserved)


def _field_deleted(
    file: str, what: str, at: Path, number: int, reserved: list[tuple[int, int]]
) -> Break:
    message = f"Previously present {what[0].lower()}{what[1:]} was deleted"
    if any(start <= number < end for start, end in reserved):
        return Break("FIELD_NO_DELETE", message + ".", file, at)
    message += f' without reserving the number "{number}".'
    return Break("FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED", message, file, at)


class _Pair:
    """One field number in both versions, with the messages that hold them."""

    def __init__(
        self, new: F, new_owner: d.DescriptorProto, old: F, old_owner: d.DescriptorProto
    ) -> None:
        self.new, self.new_owner, self.old, self.old_owner = new, new_owner, old, old_owner


def _pair(node: Node[d.DescriptorProto], path: Path, old: d.DescriptorProto, before: F) -> _Pair:
    return _Pair(node.proto.field[path[-1]], node.proto, before, old)


def _changed(file: d.FileDescriptorProto, what: str, path: Path, pair: _Pair) -> Iterator[Break]:
    new, old = pair.new, pair.old
    if new.name != old.name:
        change = f'from "{old.name}" to "{new.name}"'
        yield Break(
            "FIELD_SAME_NAME", f"{what} changed name {change}.", file.name, (*path, FIELD_NAME)
        )
    if _type(old) != _type(new):
        change = f'from "{_type(old)}" to "{_type(new)}"'
        step = FIELD_TYPE_NAME if new.type in _NAMED_TYPES else FIELD_TYPE
        yield Break("FIELD_SAME_TYPE", f"{what} changed type {change}.", file.name, (*path, step))
    oneofs = _oneof(pair.old_owner, old), _oneof(pair.new_owner, new)
    if oneofs[0] != oneofs[1]:
        message = f"{what} moved from {_where(oneofs[0])} to {_where(oneofs[1])}."
        yield Break("FIELD_SAME_ONEOF", message, file.name, (*path, FIELD_ONEOF))
    # Moving into or out of a oneof also changes presence; buf reports both, and so do we.
    if _cardinality(old, file) != _cardinality(new, file):
        change = f'from "{_cardinality(old, file)}" to "{_cardinality(new, file)}"'
        message = f"{what} changed cardinality {change}."
        yield Break("FIELD_SAME_CARDINALITY", message, file.name, (*path, FIELD_LABEL))
    if json_name(old) != json_name(new):
        change = f'from "{json_name(old)}" to "{json_name(new)}"'
        message = f"{what} changed json_name {change}."
        yield Break("FIELD_SAME_JSON_NAME", message, file.name, (*path, FIELD_JSON_NAME))


def _type(field: F) -> str:
    if field.type in _NAMED_TYPES:
        return field.type_name.lstrip(".")
    return F.Type.Name(field.type).removeprefix("TYPE_").lower()


def _oneof(owner: d.DescriptorProto, field: F) -> str | None:
    # The synthetic oneof of a proto3 `optional` field is presence, not a oneof.
    if not field.HasField("oneof_index") or field.proto3_optional:
        return None
    return owner.oneof_decl[field.oneof_index].name


def _where(oneof: str | None) -> str:
    return f'inside oneof "{oneof}"' if oneof else "outside of any oneof"


def _cardinality(field: F, file: d.FileDescriptorProto) -> str:
    if field.label == F.LABEL_REPEATED:
        return "repeated"
    presence = _presence(field, file)
    if field.label == F.LABEL_REQUIRED or presence == _FEATURES.LEGACY_REQUIRED:
        return "required"
    if presence == _FEATURES.IMPLICIT:
        return "optional with implicit presence"
    return "optional with explicit presence"


def _presence(field: F, file: d.FileDescriptorProto) -> int:
    if field.proto3_optional or field.HasField("oneof_index") or field.type in _MESSAGE_TYPES:
        return _FEATURES.EXPLICIT
    if file.syntax == "proto3":
        return _FEATURES.IMPLICIT
    if file.syntax == "editions":
        # Inherited features: the field's own, else the file's default, else EXPLICIT.
        for options in (field.options, file.options):
            if options.features.HasField("field_presence"):
                return options.features.field_presence
    return _FEATURES.EXPLICIT


def json_name(field: F) -> str:
    """The field's JSON name: its json_name, else protoc's lowerCamelCase of its name."""
    if field.HasField("json_name"):
        return field.json_name
    parts = field.name.split("_")
    return parts[0] + "".join(part[:1].upper() + part[1:] for part in parts[1:])
