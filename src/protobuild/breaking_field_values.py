"""The field rules about values rather than shape: default, jstype, C++ string type, UTF-8.

Each compares what a reader of either version observes, every side resolved with the rules of
its own file (breaking_features), for fields and extensions alike. The C++ and Java rules read
the standard options only: the `(pb.cpp)` and `(pb.java)` features are custom options, which
snapshots do not keep, so comparing them would report every snapshot as changed.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from google.protobuf import descriptor_pb2 as d
from google.protobuf import text_encoding

from protobuild.breaking_features import Pair, Scope, feature_name, field_feature
from protobuild.breaking_model import (
    FEATURE_UTF8_VALIDATION,
    FIELD_CTYPE,
    FIELD_DEFAULT,
    FIELD_FEATURES,
    FIELD_JSTYPE,
    FIELD_OPTIONS,
    FILE_OPTIONS,
    Break,
    Path,
)

F = d.FieldDescriptorProto
FS = d.FeatureSet
_INT64 = (F.TYPE_INT64, F.TYPE_SINT64, F.TYPE_UINT64, F.TYPE_FIXED64, F.TYPE_SFIXED64)
_STRINGS = (F.TYPE_STRING, F.TYPE_BYTES)
_NO_DEFAULT = (F.TYPE_MESSAGE, F.TYPE_GROUP)
_JAVA_STRING_CHECK_UTF8 = d.FileOptions.JAVA_STRING_CHECK_UTF8_FIELD_NUMBER


def check_values(what: str, path: Path, pair: Pair) -> Iterator[Break]:
    """The value breaks of one field or extension present in both versions, at `path` now."""
    checks: tuple[Callable[[str, Path, Pair], Iterator[Break]], ...] = (
        _default_change,
        _jstype_change,
        _cpp_string_type_change,
        _utf8_change,
        _java_utf8_change,
    )
    for each in checks:
        yield from each(what, path, pair)


@dataclass(frozen=True)
class _Default:
    """A default as readers see it (`value`), as a message shows it, and for an enum the name
    of its value.

    `value` is None for an enum whose file is not in the set (a snapshot of one prefix leaves
    other prefixes out): the name of an explicit default is all that is known.
    """

    value: bytes | int | float | None
    shown: str
    name: str | None = None


def _default_change(what: str, path: Path, pair: Pair) -> Iterator[Break]:
    # What an unset field reads as: changing it changes what every old message means.
    before, after = _default(pair.old, pair.was), _default(pair.new, pair.now)
    if before is None or after is None or _same_default(before, after, pair):
        return
    message = f"{what} changed default value from {before.shown} to {after.shown}."
    yield Break("FIELD_SAME_DEFAULT", message, pair.now.file.name, (*path, FIELD_DEFAULT))


def _default(field: F, scope: Scope) -> _Default | None:
    """The field's default, explicit or implied (zero, empty, the enum's first value); None
    when it cannot have one (repeated, message) or it cannot be known."""
    if field.label == F.LABEL_REPEATED or field.type in _NO_DEFAULT:
        return None
    if field.type == F.TYPE_ENUM:
        return _enum_default(field, scope)
    return _PARSE.get(field.type, _integer)(field.default_value)


def _integer(text: str) -> _Default:
    return _Default(int(text or 0), text or "0")


def _floating(text: str) -> _Default:
    return _Default(float(text or 0), text or "0")  # protoc writes inf, -inf and nan


# default_value as protoc writes it: text as is, bytes C-escaped, numbers in decimal.
_PARSE: Mapping[int, Callable[[str], _Default]] = {
    F.TYPE_STRING: lambda text: _Default(text.encode(), json.dumps(text, ensure_ascii=False)),
    F.TYPE_BYTES: lambda text: _Default(text_encoding.CUnescape(text), f'"{text}"'),
    F.TYPE_BOOL: lambda text: _Default(int(text == "true"), text or "false"),
    F.TYPE_FLOAT: _floating,
    F.TYPE_DOUBLE: _floating,
}


def _enum_default(field: F, scope: Scope) -> _Default | None:
    enum = scope.enum_types.get(field.type_name)
    name = field.default_value
    if enum is None:
        return _Default(None, name, name) if name else None
    numbers = {value.name: value.number for value in enum.value}
    chosen = name or (enum.value[0].name if enum.value else "")
    if chosen not in numbers:
        return None
    shown = f"{field.type_name.rpartition('.')[2]}.{chosen}"
    return _Default(numbers[chosen], shown, chosen)


def _same_default(before: _Default, after: _Default, pair: Pair) -> bool:
    """Equal as buf compares defaults: numbers by value across types (float against double at
    float precision), text against text; a type change between zero values is no change."""
    if before.value is None or after.value is None:
        return before.name == after.name  # an enum known on one side by value name only
    if _zero(before.value) and _zero(after.value):
        return True
    if isinstance(before.value, float) and isinstance(after.value, float):
        return _same_float(before.value, after.value, pair)
    return before.value == after.value


def _same_float(before: float, after: float, pair: Pair) -> bool:
    if math.isnan(before) and math.isnan(after):
        return True
    if F.TYPE_FLOAT in (pair.old.type, pair.new.type):
        return _float32(before) == _float32(after)
    return before == after


def _zero(value: object) -> bool:
    return value == b"" or (isinstance(value, (int, float)) and value == 0)


def _float32(value: float) -> float:
    try:
        rounded: float = struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:  # beyond float's range: what a float field would hold is infinity
        return math.copysign(math.inf, value)
    return rounded


def _jstype_change(what: str, path: Path, pair: Pair) -> Iterator[Break]:
    # JS_STRING turns a 64-bit integer into a string in JavaScript code; only those have one.
    if pair.old.type not in _INT64 or pair.new.type not in _INT64:
        return
    before, after = pair.old.options.jstype, pair.new.options.jstype
    if before != after:
        change = f'from "{_jstype_name(before)}" to "{_jstype_name(after)}"'
        message = f'{what} changed option "jstype" {change}.'
        at = (*path, FIELD_OPTIONS, FIELD_JSTYPE)
        yield Break("FIELD_SAME_JSTYPE", message, pair.now.file.name, at)


def _jstype_name(value: d.FieldOptions.JSType.ValueType) -> str:
    return d.FieldOptions.JSType.Name(value)


def _cpp_string_type_change(what: str, path: Path, pair: Pair) -> Iterator[Break]:
    if pair.old.type not in _STRINGS or pair.new.type not in _STRINGS:
        return
    if pair.was.message.options.map_entry and pair.now.message.options.map_entry:
        return  # a map's keys and values cannot choose a string type
    before, after = _cpp_string_type(pair.old, pair.was), _cpp_string_type(pair.new, pair.now)
    # STRING_PIECE has always been read as STRING: giving it up is safe.
    if before != after and (before, after) != ("STRING_PIECE", "STRING"):
        message = f'{what} changed C++ string type from "{before}" to "{after}".'
        at = (*path, FIELD_OPTIONS, FIELD_CTYPE)
        yield Break("FIELD_SAME_CPP_STRING_TYPE", message, pair.now.file.name, at)


def _cpp_string_type(field: F, scope: Scope) -> str:
    """`ctype` where it is set (edition 2024 has no ctype), else the default of the edition."""
    editions_2024 = scope.file.syntax == "editions" and scope.file.edition >= d.EDITION_2024
    if not editions_2024 and field.options.HasField("ctype"):
        return d.FieldOptions.CType.Name(field.options.ctype)
    return "VIEW" if editions_2024 else "STRING"


def _utf8_change(what: str, path: Path, pair: Pair) -> Iterator[Break]:
    # A parser that starts verifying rejects messages it used to accept, and one that stops
    # hands invalid text to code that relied on it.
    if pair.old.type != F.TYPE_STRING or pair.new.type != F.TYPE_STRING:
        return
    before = field_feature("utf8_validation", pair.old, pair.was)
    after = field_feature("utf8_validation", pair.new, pair.now)
    if before != after:
        change = f"from {_utf8_name(before)} to {_utf8_name(after)}"
        at = (*path, FIELD_OPTIONS, FIELD_FEATURES, FEATURE_UTF8_VALIDATION)
        message = f"{what} changed UTF-8 validation {change}."
        yield Break("FIELD_SAME_UTF8_VALIDATION", message, pair.now.file.name, at)


def _java_utf8_change(what: str, path: Path, pair: Pair) -> Iterator[Break]:
    if pair.old.type != F.TYPE_STRING or pair.new.type != F.TYPE_STRING:
        return
    before, after = _java_utf8(pair.old, pair.was), _java_utf8(pair.new, pair.now)
    if before != after:
        change = f"from {_utf8_name(before)} to {_utf8_name(after)}"
        message = f"{what} changed Java string UTF-8 validation {change}."
        at = path
        if pair.now.file.options.HasField("java_string_check_utf8"):
            at = (FILE_OPTIONS, _JAVA_STRING_CHECK_UTF8)
        yield Break("FIELD_SAME_JAVA_UTF8_VALIDATION", message, pair.now.file.name, at)


def _java_utf8(field: F, scope: Scope) -> int:
    # java_string_check_utf8 (proto2 and proto3 only) turns verification on in Java; otherwise
    # Java verifies as utf8_validation says.
    if scope.file.options.java_string_check_utf8:
        return FS.VERIFY
    return field_feature("utf8_validation", field, scope)


def _utf8_name(value: int) -> str:
    return feature_name("utf8_validation", value)
