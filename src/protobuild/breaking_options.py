"""The option and feature rules of `protobuild breaking` for files, messages, enums and rpcs.

File options name the generated code of other languages (go_package, java_package, ...): buf's
FILE category keeps each one fixed. Features are compared as resolved, each version with the
rules of its own file (breaking_features), so a proto2 enum is closed and a proto3 one open
without either saying so.
"""

from __future__ import annotations

from collections.abc import Iterator

from google.protobuf import descriptor_pb2 as d

from protobuild.breaking_features import Scope, enclosing, feature_name, resolve
from protobuild.breaking_model import (
    ENUM_FEATURES,
    ENUM_OPTIONS,
    FEATURE_ENUM_TYPE,
    FEATURE_JSON_FORMAT,
    FILE_OPTION_NAMES,
    FILE_OPTIONS,
    METHOD_IDEMPOTENCY_LEVEL,
    METHOD_OPTIONS,
    MSG_FEATURES,
    MSG_NO_STANDARD_DESCRIPTOR_ACCESSOR,
    MSG_OPTIONS,
    Break,
    Node,
    Path,
)

FS = d.FeatureSet


def check_file_options(file: str, now: d.FileOptions, was: d.FileOptions) -> Iterator[Break]:
    """FILE_SAME_<OPTION>: each option of FILE_OPTION_NAMES, unset read as its default."""
    for name in FILE_OPTION_NAMES:
        before, after = _shown(was, name), _shown(now, name)
        if before != after:
            step = d.FileOptions.DESCRIPTOR.fields_by_name[name].number
            message = f'File option "{name}" changed from "{before}" to "{after}".'
            yield Break(f"FILE_SAME_{name.upper()}", message, file, (FILE_OPTIONS, step))


def _shown(options: d.FileOptions, name: str) -> str:
    value = getattr(options, name)
    if isinstance(value, bool):
        return "true" if value else "false"
    if name == "optimize_for":
        return d.FileOptions.OptimizeMode.Name(value)
    return str(value)


def check_message_options(
    name: str, node: Node[d.DescriptorProto], now: Scope, was: Scope
) -> Iterator[Break]:
    """The option and feature breaks of message `name`; `now` and `was` are its scopes."""
    file = now.file.name
    if node.proto.options.no_standard_descriptor_accessor and not (
        was.message.options.no_standard_descriptor_accessor
    ):
        # C++ code generated before the change calls the accessor this option removes.
        message = f'Message "{name}" option "no_standard_descriptor_accessor" changed from '
        message += '"false" to "true".'
        at = (*node.path, MSG_OPTIONS, MSG_NO_STANDARD_DESCRIPTOR_ACCESSOR)
        yield Break("MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR", message, file, at)
    if not node.proto.options.map_entry:  # a map's entry follows the message holding it
        at = (*node.path, MSG_OPTIONS, MSG_FEATURES, FEATURE_JSON_FORMAT)
        before, after = _json_format(was, enclosing(was)), _json_format(now, enclosing(now))
        yield from _json_format_break("MESSAGE", f'Message "{name}"', before, after, file, at)


def check_enum_features(
    name: str, node: Node[d.EnumDescriptorProto], old: d.EnumDescriptorProto, now: Scope, was: Scope
) -> Iterator[Break]:
    """ENUM_SAME_TYPE and ENUM_SAME_JSON_FORMAT for enum `name`; `now` and `was` are the scopes
    of the message that holds it (the file's, with no message, for a top-level enum)."""
    file, features = now.file.name, (*node.path, ENUM_OPTIONS, ENUM_FEATURES)
    before, after = _closed(old, was), _closed(node.proto, now)
    if before != after:
        # A closed enum keeps unknown numbers out of the field (in its unknown fields); an open
        # one keeps them in it: readers of either see other values for the same bytes.
        change = f"from {_closed_name(before)} to {_closed_name(after)}"
        message = f'Enum "{name}" changed {change}.'
        yield Break("ENUM_SAME_TYPE", message, file, (*features, FEATURE_ENUM_TYPE))
    before_json = _json_format(was, _enum_chain(old, was))
    after_json = _json_format(now, _enum_chain(node.proto, now))
    at = (*features, FEATURE_JSON_FORMAT)
    yield from _json_format_break("ENUM", f'Enum "{name}"', before_json, after_json, file, at)


def _closed(enum: d.EnumDescriptorProto, scope: Scope) -> bool:
    return resolve("enum_type", scope.file, _enum_chain(enum, scope)) == FS.CLOSED


def _closed_name(closed: bool) -> str:
    return "closed" if closed else "open"


def _enum_chain(enum: d.EnumDescriptorProto, scope: Scope) -> Iterator[FS]:
    yield enum.options.features
    yield from enclosing(scope)


def _json_format(scope: Scope, chain: Iterator[FS]) -> int:
    return resolve("json_format", scope.file, chain)


def _json_format_break(
    kind: str, what: str, before: int, after: int, file: str, at: Path
) -> Iterator[Break]:
    # Only losing ALLOW breaks: JSON that was guaranteed to work may no longer.
    if before == FS.ALLOW and after != FS.ALLOW:
        change = (
            f"from {feature_name('json_format', before)} to {feature_name('json_format', after)}"
        )
        message = f"{what} JSON format support changed {change}."
        yield Break(f"{kind}_SAME_JSON_FORMAT", message, file, at)


def check_method_options(
    file: str, what: str, path: Path, new: d.MethodDescriptorProto, old: d.MethodDescriptorProto
) -> Iterator[Break]:
    """RPC_SAME_IDEMPOTENCY_LEVEL: clients and proxies choose GET or retries by it."""
    before, after = old.options.idempotency_level, new.options.idempotency_level
    if before != after:
        name = d.MethodOptions.IdempotencyLevel.Name
        change = f'from "{name(before)}" to "{name(after)}"'
        message = f'{what} changed option "idempotency_level" {change}.'
        at = (*path, METHOD_OPTIONS, METHOD_IDEMPOTENCY_LEVEL)
        yield Break("RPC_SAME_IDEMPOTENCY_LEVEL", message, file, at)
