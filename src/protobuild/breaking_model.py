"""The shared vocabulary of the breaking rules: rule names, steps of SourceCodeInfo paths, the
`Break` every check yields (a finding before breaking.py gives it a line and column), and the
number ranges that reserved and extension ranges share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

# The file options buf's FILE category keeps fixed, one FILE_SAME_<NAME> rule each: every one
# of them moves or renames generated code in some language.
FILE_OPTION_NAMES = (
    "cc_enable_arenas",
    "cc_generic_services",
    "csharp_namespace",
    "go_package",
    "java_generic_services",
    "java_multiple_files",
    "java_outer_classname",
    "java_package",
    "objc_class_prefix",
    "optimize_for",
    "php_class_prefix",
    "php_metadata_namespace",
    "php_namespace",
    "py_generic_services",
    "ruby_package",
    "swift_prefix",
)

RULES: Mapping[str, str] = {
    "FILE_NO_DELETE": "a file was deleted or renamed",
    "FILE_SAME_PACKAGE": "a file's package changed",
    **{
        f"FILE_SAME_{name.upper()}": f'a file\'s option "{name}" changed'
        for name in FILE_OPTION_NAMES
    },
    "PACKAGE_NO_DELETE": "a package no longer has any file",
    "MESSAGE_NO_DELETE": "a message was deleted from its file",
    "MESSAGE_SAME_REQUIRED_FIELDS": "a message gained or lost a required field",
    "MESSAGE_SAME_JSON_FORMAT": "a message's json_format feature no longer allows JSON",
    "MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR": "a message dropped its descriptor accessor",
    "EXTENSION_NO_DELETE": "an extension was deleted from its file",
    "EXTENSION_SAME_NUMBER": "an extension kept its name but changed its number",
    "EXTENSION_SAME_EXTENDEE": "an extension kept its name but extends another message",
    "EXTENSION_MESSAGE_NO_DELETE": "an extension range of a message was deleted or shrunk",
    "FIELD_NO_DELETE": "a field was deleted (its number is reserved: generated code breaks)",
    "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED": "a field was deleted without reserving its number",
    "FIELD_SAME_NUMBER": "a field kept its name but changed its number",
    "FIELD_SAME_NAME": "a field number now has another name (renamed or reused)",
    "FIELD_SAME_TYPE": "a field changed type or encoding (group, delimited or length-prefixed)",
    "FIELD_SAME_CARDINALITY": "a field changed label or presence (optional, repeated, ...)",
    "FIELD_SAME_ONEOF": "a field moved into, out of or between oneofs",
    "FIELD_SAME_JSON_NAME": "a field's JSON name changed",
    "FIELD_SAME_DEFAULT": "a field's default value changed",
    "FIELD_SAME_JSTYPE": "a 64-bit integer field changed its jstype option",
    "FIELD_SAME_CPP_STRING_TYPE": "a string or bytes field changed its C++ string type (ctype)",
    "FIELD_SAME_UTF8_VALIDATION": "a string field changed its utf8_validation",
    "FIELD_SAME_JAVA_UTF8_VALIDATION": "a string field changed its UTF-8 validation in Java",
    "ONEOF_NO_DELETE": "a oneof was deleted",
    "RESERVED_MESSAGE_NO_DELETE": "a reserved number range or name was deleted from a message",
    "RESERVED_MESSAGE_NO_REUSE": "a field uses a number or name that was reserved",
    "ENUM_NO_DELETE": "an enum was deleted from its file",
    "ENUM_SAME_TYPE": "an enum changed between open and closed",
    "ENUM_SAME_JSON_FORMAT": "an enum's json_format feature no longer allows JSON",
    "ENUM_VALUE_NO_DELETE": "an enum value was deleted (its number is reserved)",
    "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED": "an enum value was deleted, number not reserved",
    "ENUM_VALUE_SAME_NAME": "an enum number now has another name",
    "RESERVED_ENUM_NO_DELETE": "a reserved number range or name was deleted from an enum",
    "RESERVED_ENUM_NO_REUSE": "an enum value uses a number or name that was reserved",
    "SERVICE_NO_DELETE": "a service was deleted from its file",
    "RPC_NO_DELETE": "an rpc was deleted from its service",
    "RPC_SAME_REQUEST_TYPE": "an rpc changed its request type",
    "RPC_SAME_RESPONSE_TYPE": "an rpc changed its response type",
    "RPC_SAME_CLIENT_STREAMING": "an rpc changed whether the client streams",
    "RPC_SAME_SERVER_STREAMING": "an rpc changed whether the server streams",
    "RPC_SAME_IDEMPOTENCY_LEVEL": "an rpc changed its idempotency_level option",
}

# Field numbers of descriptor.proto, the steps of a SourceCodeInfo path.
PACKAGE, FILE_MESSAGE, FILE_ENUM, FILE_SERVICE, FILE_EXTENSION, FILE_OPTIONS = 2, 4, 5, 6, 7, 8
MSG_FIELD, MSG_NESTED, MSG_ENUM, MSG_ONEOF, MSG_RESERVED, MSG_RESERVED_NAME = 2, 3, 4, 8, 9, 10
MSG_EXTENSION, MSG_OPTIONS, MSG_NO_STANDARD_DESCRIPTOR_ACCESSOR, MSG_FEATURES = 6, 7, 2, 12
FIELD_NAME, FIELD_EXTENDEE, FIELD_NUMBER, FIELD_LABEL, FIELD_TYPE = 1, 2, 3, 4, 5
FIELD_TYPE_NAME, FIELD_DEFAULT, FIELD_OPTIONS, FIELD_ONEOF, FIELD_JSON_NAME = 6, 7, 8, 9, 10
FIELD_CTYPE, FIELD_JSTYPE, FIELD_FEATURES = 1, 6, 21  # inside FieldOptions
ENUM_VALUE, ENUM_OPTIONS, ENUM_RESERVED, ENUM_RESERVED_NAME, VALUE_NAME = 2, 3, 4, 5, 1
ENUM_FEATURES = 7  # inside EnumOptions
SERVICE_METHOD, METHOD_INPUT, METHOD_OUTPUT, METHOD_CLIENT, METHOD_SERVER = 2, 2, 3, 5, 6
METHOD_OPTIONS, METHOD_IDEMPOTENCY_LEVEL = 4, 34
FEATURE_ENUM_TYPE, FEATURE_UTF8_VALIDATION, FEATURE_JSON_FORMAT = 2, 4, 6  # inside FeatureSet

P = TypeVar("P")
Path = tuple[int, ...]


@dataclass(frozen=True)
class Break:
    """One break before it is located: `at` is a SourceCodeInfo path in the current `file`."""

    rule: str
    message: str
    file: str
    at: Path = ()


@dataclass(frozen=True)
class Node(Generic[P]):
    """A descriptor and its SourceCodeInfo path inside its file."""

    proto: P
    path: Path


class Ranges:
    """A union of end-exclusive number ranges, for "is this number in one" questions."""

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        self.ranges = ranges

    def contains(self, number: int) -> bool:
        return any(start <= number < end for start, end in self.ranges)

    def covers(self, start: int, end: int) -> bool:
        return not self.missing(start, end)

    def missing(self, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of [start, end) outside every range, in order.

        A range that grew, or was split in two or merged with its neighbour, still covers
        what it did: only numbers that left every range are missing.
        """
        gaps: list[tuple[int, int]] = []
        for low, high in sorted(self.ranges):
            if high <= start or low >= end:
                continue
            if low > start:
                gaps.append((start, low))
            start = max(start, high)
        if start < end:
            gaps.append((start, end))
        return gaps
