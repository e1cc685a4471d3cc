"""The shared vocabulary of the breaking rules: rule names, steps of SourceCodeInfo paths, and
the `Break` every check yields (a finding before breaking.py gives it a line and column).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

RULES: Mapping[str, str] = {
    "FILE_NO_DELETE": "a file was deleted or renamed",
    "FILE_SAME_PACKAGE": "a file's package changed",
    "PACKAGE_NO_DELETE": "a package no longer has any file",
    "MESSAGE_NO_DELETE": "a message was deleted from its file",
    "FIELD_NO_DELETE": "a field was deleted (its number is reserved: generated code breaks)",
    "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED": "a field was deleted without reserving its number",
    "FIELD_SAME_NUMBER": "a field kept its name but changed its number",
    "FIELD_SAME_NAME": "a field number now has another name (renamed or reused)",
    "FIELD_SAME_TYPE": "a field changed type or encoding (group, delimited or length-prefixed)",
    "FIELD_SAME_CARDINALITY": "a field changed label or presence (optional, repeated, ...)",
    "FIELD_SAME_ONEOF": "a field moved into, out of or between oneofs",
    "FIELD_SAME_JSON_NAME": "a field's JSON name changed",
    "ONEOF_NO_DELETE": "a oneof was deleted",
    "RESERVED_MESSAGE_NO_DELETE": "a reserved number range or name was deleted from a message",
    "RESERVED_MESSAGE_NO_REUSE": "a field uses a number or name that was reserved",
    "ENUM_NO_DELETE": "an enum was deleted from its file",
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
}

# Field numbers of descriptor.proto, the steps of a SourceCodeInfo path.
PACKAGE, FILE_MESSAGE, FILE_ENUM, FILE_SERVICE = 2, 4, 5, 6
MSG_FIELD, MSG_NESTED, MSG_ENUM, MSG_ONEOF, MSG_RESERVED, MSG_RESERVED_NAME = 2, 3, 4, 8, 9, 10
FIELD_NAME, FIELD_NUMBER, FIELD_LABEL, FIELD_TYPE, FIELD_TYPE_NAME = 1, 3, 4, 5, 6
FIELD_ONEOF, FIELD_JSON_NAME = 9, 10
ENUM_VALUE, ENUM_RESERVED, ENUM_RESERVED_NAME, VALUE_NAME = 2, 4, 5, 1
SERVICE_METHOD, METHOD_INPUT, METHOD_OUTPUT, METHOD_CLIENT, METHOD_SERVER = 2, 2, 3, 5, 6

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
