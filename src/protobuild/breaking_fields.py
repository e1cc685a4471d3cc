"""The field rules of `protobuild breaking`: fields are matched by number within a message.

A number that disappeared is a deletion (FIELD_SAME_NUMBER instead when a field of the same
name now has another number); a number that survived must keep its name, type, cardinality,
oneof, JSON name and the values breaking_field_values compares. Type and cardinality are
compared as the wire and generated code see them, so each side is read with the rules of its
own file: a group and a delimited message (editions `message_encoding = DELIMITED`) are one
encoding, a length-prefixed message another; presence is implicit for a proto3 scalar without
`optional`, and otherwise follows the `field_presence` feature an editions field resolves (see
breaking_features). Extensions go through the same `check_pair`, less what they cannot have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from google.protobuf import descriptor_pb2 as d

from protobuild.breaking_features import Pair, Scope, field_feature
from protobuild.breaking_field_values import check_values
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
    Ranges,
)

F = d.FieldDescriptorProto
_NAMED_TYPES = (F.TYPE_MESSAGE, F.TYPE_ENUM, F.TYPE_GROUP)
_MESSAGE_TYPES = (F.TYPE_MESSAGE, F.TYPE_GROUP)  # always explicit presence
_FEATURES = d.FeatureSet


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
            index = numbers[before.number]
            path = (*node.path, MSG_FIELD, index)
            yield from check_pair(what, path, Pair(node.proto.field[index], now, before, was))
        elif before.name in names:
            path = (*node.path, MSG_FIELD, numbers[names[before.name]], FIELD_NUMBER)
            change = f'from "{before.number}" to "{names[before.name]}"'
            yield Break("FIELD_SAME_NUMBER", f"{what} changed number {change}.", file, path)
        else:
            yield _field_deleted(file, what, node.path, before.number, reserved)
    yield from _required_fields(node, now, was)


def _field_deleted(
    file: str, what: str, at: Path, number: int, reserved: list[tuple[int, int]]
) -> Break:
    message = f"Previously present {what[0].lower()}{what[1:]} was deleted"
    if Ranges(reserved).contains(number):
        return Break("FIELD_NO_DELETE", message + ".", file, at)
    message += f' without reserving the number "{number}".'
    return Break("FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED", message, file, at)


def check_pair(what: str, path: Path, pair: Pair) -> Iterator[Break]:
    """The breaks of one field or extension present in both versions, at `path` now.

    `what` names it in messages (`Field "7" with name "note" on message "Thing"`). Extensions
    are never in a oneof and have no JSON name of their own (JSON spells their full name).
    """
    checks: list[Callable[[str, Path, Pair], Iterator[Break]]] = [
        _name_change,
        _type_change_break,
        _cardinality_break,
        check_values,
    ]
    if not pair.old.HasField("extendee"):
        checks += [_oneof_change, _json_name_change]
    for each in checks:
        yield from each(what, path, pair)


def _file(pair: Pair) -> str:
    return pair.now.file.name


def _name_change(what: str, path: Path, pair: Pair) -> Iterator[Break]:
    before, after = full_name(pair.old, pair.was), full_name(pair.new, pair.now)
    if before != after:
        message = f'{what} changed name from "{before}" to "{after}".'
        yield Break("FIELD_SAME_NAME", message, _file(pair), (*path, FIELD_NAME))


def full_name(field: F, scope: Scope) -> str:
    """A field's name; an extension's full name (`pkg.Outer.ext`), the name code knows it by."""
    if not field.HasField("extendee"):
        return field.name
    return ".".join(part for part in (scope.file.package, scope.name, field.name) if part)


def _type_change_break(what: str, path: Path, pair: Pair) -> Iterator[Break]:
    change_of_type = _type_change(pair)
    if change_of_type:
        step = FIELD_TYPE_NAME if pair.new.type in _NAMED_TYPES else FIELD_TYPE
        message = f"{what} changed type {change_of_type}."
        yield Break("FIELD_SAME_TYPE", message, _file(pair), (*path, step))


def _cardinality_break(what: str, path: Path, pair: Pair) -> Iterator[Break]:
    # Moving into or out of a oneof also changes presence; buf reports both, and so do we.
    cardinality = _cardinality_change(pair)
    if cardinality:
        message = f"{what} changed cardinality {cardinality}."
        yield Break("FIELD_SAME_CARDINALITY", message, _file(pair), (*path, FIELD_LABEL))


def _json_name_change(what: str, path: Path, pair: Pair) -> Iterator[Break]:
    before, after = json_name(pair.old), json_name(pair.new)
    if before != after:
        message = f'{what} changed json_name from "{before}" to "{after}".'
        yield Break("FIELD_SAME_JSON_NAME", message, _file(pair), (*path, FIELD_JSON_NAME))


def _oneof_change(what: str, path: Path, pair: Pair) -> Iterator[Break]:
    oneofs = _oneof(pair.was.message, pair.old), _oneof(pair.now.message, pair.new)
    if oneofs[0] != oneofs[1]:
        message = f"{what} moved from {_where(oneofs[0])} to {_where(oneofs[1])}."
        yield Break("FIELD_SAME_ONEOF", message, _file(pair), (*path, FIELD_ONEOF))


def _type_change(pair: Pair) -> str | None:
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
    if field.type != F.TYPE_MESSAGE:
        return False
    if scope.message.options.map_entry or _is_map(field, scope):
        return False
    return field_feature("message_encoding", field, scope) == _FEATURES.DELIMITED


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


def _cardinality_change(pair: Pair) -> str | None:
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
    # A map and a repeated field of entry messages share their wire format, not their JSON
    # (an object against an array) nor their generated code (a dict against a list); buf
    # words it so. Presence means nothing to either.
    if field.label == F.LABEL_REPEATED:
        return "map" if _is_map(field, scope) else "repeated"
    presence = _presence(field, scope)
    if field.label == F.LABEL_REQUIRED or presence == _FEATURES.LEGACY_REQUIRED:
        return "required"
    if presence == _FEATURES.IMPLICIT:
        return "optional with implicit presence"
    return "optional with explicit presence"


def _presence(field: F, scope: Scope) -> int:
    """The field_presence a field has, with the rules of its own file.

    proto2 and proto3 cannot set features: their presence is their syntax's. A oneof member,
    a proto3 `optional`, a message field and an extension always track presence, whatever is
    inherited. LEGACY_REQUIRED (protoc takes it on fields only, message fields too) is returned
    as is.
    """
    presence = field_feature("field_presence", field, scope)
    explicit = field.proto3_optional or field.HasField("oneof_index") or field.HasField("extendee")
    if presence == _FEATURES.IMPLICIT and (explicit or field.type in _MESSAGE_TYPES):
        return _FEATURES.EXPLICIT
    return presence


def _required_fields(node: Node[d.DescriptorProto], now: Scope, was: Scope) -> Iterator[Break]:
    """MESSAGE_SAME_REQUIRED_FIELDS: a parser rejects a message that lacks a required field,
    so one added or removed on either side breaks every exchange with the other.

    Required is read as cardinality is: a proto2 `required` or an editions LEGACY_REQUIRED.
    """
    before = {f.number: f.name for f in was.message.field if _required(f, was)}
    after = {f.number: i for i, f in enumerate(node.proto.field) if _required(f, now)}
    for number in sorted(before.keys() - after.keys()):
        yield _required_removed(node, now, number, before[number])
    for number in sorted(after.keys() - before.keys()):
        yield _required_added(node, now, after[number])


def _required_removed(node: Node[d.DescriptorProto], now: Scope, number: int, name: str) -> Break:
    kept = any(f.number == number for f in node.proto.field)
    change = "is no longer required" if kept else "was deleted"
    message = f'Required field "{number}" with name "{name}" on message "{now.name}" {change}: '
    message += "readers of the previous version reject messages without it."
    return Break("MESSAGE_SAME_REQUIRED_FIELDS", message, now.file.name, node.path)


def _required_added(node: Node[d.DescriptorProto], now: Scope, index: int) -> Break:
    field = node.proto.field[index]
    message = f'Message "{now.name}" has a new required field "{field.number}" with name '
    message += f'"{field.name}": messages from writers that do not set it no longer parse.'
    at = (*node.path, MSG_FIELD, index)
    return Break("MESSAGE_SAME_REQUIRED_FIELDS", message, now.file.name, at)


def _required(field: F, scope: Scope) -> bool:
    return not scope.message.options.map_entry and _cardinality(field, scope) == "required"


def json_name(field: F) -> str:
    """The field's JSON name: its json_name, else protoc's lowerCamelCase of its name."""
    if field.HasField("json_name"):
        return field.json_name
    parts = field.name.split("_")
    return parts[0] + "".join(part[:1].upper() + part[1:] for part in parts[1:])
