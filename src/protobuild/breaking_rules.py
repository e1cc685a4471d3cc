"""The rules of `protobuild breaking`: what counts as a break, and where it is reported.

Elements are matched the way generated code sees them: files by import path, messages, enums
and extensions by their name inside the package (nested ones as `Outer.Inner`) within one file,
fields and enum values by number, services by name within one file, rpcs by name within a
service; extensions are also compared by extendee and number across files (see
breaking_extensions). Each check yields a `Break` that names the file it belongs to and the
SourceCodeInfo path of the element in the current file (or of its closest surviving parent);
breaking.py turns that path into a line and column. Nothing that exists only in the current
version is ever a break, but for a required field (MESSAGE_SAME_REQUIRED_FIELDS).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from google.protobuf import descriptor_pb2 as d

from protobuild.breaking_extensions import Extension, check_extension_ranges, check_extensions
from protobuild.breaking_features import Scope, enum_types
from protobuild.breaking_fields import check_fields
from protobuild.breaking_model import (
    ENUM_VALUE,
    FILE_ENUM,
    FILE_EXTENSION,
    FILE_MESSAGE,
    FILE_SERVICE,
    METHOD_CLIENT,
    METHOD_INPUT,
    METHOD_OUTPUT,
    METHOD_SERVER,
    MSG_ENUM,
    MSG_EXTENSION,
    MSG_FIELD,
    MSG_NESTED,
    PACKAGE,
    SERVICE_METHOD,
    VALUE_NAME,
    Break,
    Node,
    Path,
    Ranges,
)
from protobuild.breaking_options import (
    check_enum_features,
    check_file_options,
    check_message_options,
    check_method_options,
)


@dataclass
class FileIndex:
    """Every message, enum, extension and service of one file, by name inside the package.

    `enum_types` holds every enum of the file's version of the set (see Scope).
    """

    proto: d.FileDescriptorProto
    enum_types: Mapping[str, d.EnumDescriptorProto] = field(default_factory=dict)
    messages: dict[str, Node[d.DescriptorProto]] = field(default_factory=dict)
    enums: dict[str, Node[d.EnumDescriptorProto]] = field(default_factory=dict)
    extensions: dict[str, Extension] = field(default_factory=dict)
    services: dict[str, Node[d.ServiceDescriptorProto]] = field(default_factory=dict)


def index(proto: d.FileDescriptorProto, types: Mapping[str, d.EnumDescriptorProto]) -> FileIndex:
    """Index `proto`'s messages (nested ones too), enums, extensions and services; `types` is
    every enum of its set by full name (breaking_features.enum_types)."""
    found = FileIndex(proto, types)
    _index_messages(found, proto.message_type, "", (FILE_MESSAGE,))
    for i, enum in enumerate(proto.enum_type):
        found.enums[enum.name] = Node(enum, (FILE_ENUM, i))
    _index_extensions(found)
    for i, service in enumerate(proto.service):
        found.services[service.name] = Node(service, (FILE_SERVICE, i))
    return found


def _index_extensions(found: FileIndex) -> None:
    top = Scope(found.proto, "", (), found.enum_types)
    for i, extension in enumerate(found.proto.extension):
        found.extensions[extension.name] = Extension(Node(extension, (FILE_EXTENSION, i)), top)
    for name, node in found.messages.items():
        for i, extension in enumerate(node.proto.extension):
            where = Node(extension, (*node.path, MSG_EXTENSION, i))
            found.extensions[f"{name}.{extension.name}"] = Extension(where, _scope(found, name))


def _index_messages(
    found: FileIndex, messages: Iterable[d.DescriptorProto], scope: str, path: Path
) -> None:
    for i, message in enumerate(messages):
        name, here = scope + message.name, (*path, i)
        found.messages.setdefault(name, Node(message, here))  # a map entry may be in already
        _index_map_entries(found, message, name, here)
        _index_messages(found, message.nested_type, name + ".", (*here, MSG_NESTED))
        for j, enum in enumerate(message.enum_type):
            found.enums[f"{name}.{enum.name}"] = Node(enum, (*here, MSG_ENUM, j))


def _index_map_entries(found: FileIndex, message: d.DescriptorProto, name: str, at: Path) -> None:
    """A map's entry message is located at the map field: protoc writes no source location
    for it, and a change of the map's key or value would otherwise point at the enclosing
    message, whichever of its maps it was."""
    entries = {m.name: m for m in message.nested_type if m.options.map_entry}
    for j, member in enumerate(message.field):
        entry = entries.get(member.type_name.rpartition(".")[2])
        if entry is not None and member.label == d.FieldDescriptorProto.LABEL_REPEATED:
            found.messages[f"{name}.{entry.name}"] = Node(entry, (*at, MSG_FIELD, j))


def check(
    current: Mapping[str, d.FileDescriptorProto], against: Mapping[str, d.FileDescriptorProto]
) -> Iterator[Break]:
    """Every break between two sets of files keyed by import path, in no particular order."""
    for name in sorted(against.keys() - current.keys()):
        yield Break("FILE_NO_DELETE", f'Previously present file "{name}" was deleted.', name)
    yield from _packages(current, against)
    now, was = _index_all(current), _index_all(against)
    for name in sorted(against.keys() & current.keys()):
        yield from check_file(now[name], was[name])
    yield from _moved(now, was)
    yield from check_extensions(_extensions(now), _extensions(was))


def _moved(now: Mapping[str, FileIndex], was: Mapping[str, FileIndex]) -> Iterator[Break]:
    """Messages and enums that left their file for another of the same package, compared
    where they are now, as buf matches them by full name: the move itself is reported as a
    deletion, and accepting it must not hide later breaks inside them."""
    for kind, compare_pair in (("messages", check_message), ("enums", _enum_pair)):
        where = {(i.proto.package, name): i for i in now.values() for name in getattr(i, kind)}
        for file in sorted(was):
            old, stayed = was[file], now.get(file)
            for name in sorted(getattr(old, kind)):
                cur = where.get((old.proto.package, name))
                if cur is not None and cur.proto.name != file and not _kept(stayed, kind, name):
                    yield from compare_pair(cur, old, name)


def _kept(found: FileIndex | None, kind: str, name: str) -> bool:
    """Whether the file `found` (None: deleted) still declares `name` among its `kind`."""
    return found is not None and name in getattr(found, kind)


def _index_all(files: Mapping[str, d.FileDescriptorProto]) -> dict[str, FileIndex]:
    types = enum_types(files.values())
    return {name: index(proto, types) for name, proto in files.items()}


def _extensions(found: Mapping[str, FileIndex]) -> Iterator[Extension]:
    for name in sorted(found):
        yield from found[name].extensions.values()


def _packages(
    current: Mapping[str, d.FileDescriptorProto], against: Mapping[str, d.FileDescriptorProto]
) -> Iterator[Break]:
    left = {proto.package for proto in current.values()}
    first: dict[str, str] = {}
    for name in sorted(against):
        first.setdefault(against[name].package, name)
    for package, name in sorted(first.items()):
        if package not in left:
            message = f'Previously present package "{package}" was deleted.'
            yield Break("PACKAGE_NO_DELETE", message, name, (PACKAGE,))


def check_file(cur: FileIndex, old: FileIndex) -> Iterator[Break]:
    """The breaks inside one file present in both versions."""
    file = cur.proto.name
    if cur.proto.package != old.proto.package:
        change = f'from "{old.proto.package}" to "{cur.proto.package}"'
        yield Break("FILE_SAME_PACKAGE", f"File package changed {change}.", file, (PACKAGE,))
    yield from check_file_options(file, cur.proto.options, old.proto.options)
    yield from _deleted(cur, old, "messages", "MESSAGE_NO_DELETE", "message")
    yield from _deleted(cur, old, "enums", "ENUM_NO_DELETE", "enum")
    yield from _deleted(cur, old, "extensions", "EXTENSION_NO_DELETE", "extension")
    yield from _deleted(cur, old, "services", "SERVICE_NO_DELETE", "service")
    for name in old.messages.keys() & cur.messages.keys():
        yield from check_message(cur, old, name)
    for name in old.enums.keys() & cur.enums.keys():
        yield from _enum_pair(cur, old, name)
    for name in old.services.keys() & cur.services.keys():
        yield from check_service(file, name, cur.services[name], old.services[name].proto)


def _enum_pair(cur: FileIndex, old: FileIndex, name: str) -> Iterator[Break]:
    node, was = cur.enums[name], old.enums[name].proto
    yield from check_enum(cur.proto.name, name, node, was)
    scopes = _parent_scope(cur, name), _parent_scope(old, name)
    yield from check_enum_features(name, node, was, *scopes)


def _deleted(cur: FileIndex, old: FileIndex, kind: str, rule: str, noun: str) -> Iterator[Break]:
    # Only the outermost deleted element is reported: its nested elements went with it.
    before: dict[str, object] = getattr(old, kind)
    after: dict[str, object] = getattr(cur, kind)
    for name in sorted(before.keys() - after.keys()):
        parent = name.rpartition(".")[0]
        if parent and parent not in cur.messages:
            continue
        at = cur.messages[parent].path if parent else ()
        message = f'Previously present {noun} "{name}" was deleted from file.'
        yield Break(rule, message, cur.proto.name, at)


def check_message(cur: FileIndex, old: FileIndex, name: str) -> Iterator[Break]:
    """The breaks of message `name`, present in both versions: fields, oneofs, reserved and
    extension ranges, options."""
    file, node, was = cur.proto.name, cur.messages[name], old.messages[name].proto
    scopes = _scope(cur, name), _scope(old, name)
    yield from check_fields(node, *scopes)
    yield from _deleted_oneofs(file, name, node, was)
    reserved = _message_reserved(node.proto), _message_reserved(was)
    yield from _reserved(file, f'message "{name}"', node.path, *reserved, "RESERVED_MESSAGE")
    yield from check_extension_ranges(file, name, node, was)
    yield from check_message_options(name, node, *scopes)


def _scope(found: FileIndex, name: str) -> Scope:
    # Editions features are inherited through every enclosing message, so the fields of
    # `Outer.Inner` need `Outer` too; both are in the index under their own names.
    parts = name.split(".")
    enclosing = [found.messages[".".join(parts[:end])].proto for end in range(len(parts), 0, -1)]
    return Scope(found.proto, name, tuple(enclosing), found.enum_types)


def _parent_scope(found: FileIndex, name: str) -> Scope:
    # The scope an enum `Outer.Kind` inherits from: `Outer`'s, or the file's at top level.
    parent = name.rpartition(".")[0]
    return _scope(found, parent) if parent else Scope(found.proto, "", (), found.enum_types)


def _deleted_oneofs(
    file: str, name: str, node: Node[d.DescriptorProto], old: d.DescriptorProto
) -> Iterator[Break]:
    left = {oneof.name for oneof in node.proto.oneof_decl}
    synthetic = _synthetic_oneofs(old)
    for i, oneof in enumerate(old.oneof_decl):
        if oneof.name not in left and i not in synthetic:
            message = f'Previously present oneof "{oneof.name}" on message "{name}" was deleted.'
            yield Break("ONEOF_NO_DELETE", message, file, node.path)


def _synthetic_oneofs(message: d.DescriptorProto) -> set[int]:
    # proto3 `optional` wraps each field in a oneof of its own that no code can name.
    return {f.oneof_index for f in message.field if f.proto3_optional}


def check_enum(
    file: str, name: str, node: Node[d.EnumDescriptorProto], old: d.EnumDescriptorProto
) -> Iterator[Break]:
    """The breaks of one enum present in both versions: values by number, reserved."""
    names = _value_names(node.proto)
    reserved = _enum_reserved(node.proto).ranges
    for number, old_names in sorted(_value_names(old).items()):
        if number not in names:
            yield _value_deleted(file, name, node, number, old_names, reserved)
        elif not old_names <= names[number]:
            change = f'from "{_join(old_names)}" to "{_join(names[number])}"'
            message = f'Enum value "{number}" on enum "{name}" changed name {change}.'
            yield Break("ENUM_VALUE_SAME_NAME", message, file, _value_path(node, number))
    now, was = _enum_reserved(node.proto), _enum_reserved(old)
    yield from _reserved(file, f'enum "{name}"', node.path, now, was, "RESERVED_ENUM")


def _value_deleted(
    file: str,
    name: str,
    node: Node[d.EnumDescriptorProto],
    number: int,
    old_names: set[str],
    reserved: Ranges,
) -> Break:
    message = f'Previously present enum value "{number}" ("{_join(old_names)}") on enum "{name}"'
    if reserved.contains(number):
        return Break("ENUM_VALUE_NO_DELETE", message + " was deleted.", file, node.path)
    message += f' was deleted without reserving the number "{number}".'
    return Break("ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED", message, file, node.path)


def _value_names(enum: d.EnumDescriptorProto) -> dict[int, set[str]]:
    # allow_alias gives one number several names; each must survive.
    names: dict[int, set[str]] = {}
    for value in enum.value:
        names.setdefault(value.number, set()).add(value.name)
    return names


def _value_path(node: Node[d.EnumDescriptorProto], number: int) -> Path:
    index = next(i for i, value in enumerate(node.proto.value) if value.number == number)
    return (*node.path, ENUM_VALUE, index, VALUE_NAME)


def _join(names: set[str]) -> str:
    return ", ".join(sorted(names))


def check_service(
    file: str, name: str, node: Node[d.ServiceDescriptorProto], old: d.ServiceDescriptorProto
) -> Iterator[Break]:
    """The breaks of one service present in both versions: rpcs and their signatures."""
    methods = {method.name: i for i, method in enumerate(node.proto.method)}
    for method in old.method:
        if method.name not in methods:
            message = f'Previously present RPC "{method.name}" on service "{name}" was deleted.'
            yield Break("RPC_NO_DELETE", message, file, node.path)
            continue
        index = methods[method.name]
        path = (*node.path, SERVICE_METHOD, index)
        what = f'RPC "{method.name}" on service "{name}"'
        yield from _rpc(file, what, path, node.proto.method[index], method)
        yield from check_method_options(file, what, path, node.proto.method[index], method)


def _rpc(
    file: str, what: str, path: Path, new: d.MethodDescriptorProto, old: d.MethodDescriptorProto
) -> Iterator[Break]:
    pairs = (
        ("RPC_SAME_REQUEST_TYPE", "request type", METHOD_INPUT, old.input_type, new.input_type),
        (
            "RPC_SAME_RESPONSE_TYPE",
            "response type",
            METHOD_OUTPUT,
            old.output_type,
            new.output_type,
        ),
    )
    for rule, noun, step, before, after in pairs:
        if before != after:
            change = f'from "{before.lstrip(".")}" to "{after.lstrip(".")}"'
            yield Break(rule, f"{what} changed {noun} {change}.", file, (*path, step))
    flags = (
        ("RPC_SAME_CLIENT_STREAMING", "client", METHOD_CLIENT, "client_streaming"),
        ("RPC_SAME_SERVER_STREAMING", "server", METHOD_SERVER, "server_streaming"),
    )
    for rule, side, step, attribute in flags:
        before_flag, after_flag = getattr(old, attribute), getattr(new, attribute)
        if before_flag != after_flag:
            change = f"from {_streaming(before_flag)} to {_streaming(after_flag)}"
            yield Break(rule, f"{what} changed {side} streaming {change}.", file, (*path, step))


def _streaming(flag: bool) -> str:
    return "streaming" if flag else "unary"


@dataclass(frozen=True)
class _Reserved:
    """What a message or enum reserves, and its members, in one shape for both."""

    ranges: Ranges
    names: frozenset[str]
    members: tuple[tuple[int, str], ...]  # (number, name) of each field or value, in order
    kind: str  # "Field" or "Enum value"
    step: int  # the SourceCodeInfo step from the parent to a member


def _message_reserved(message: d.DescriptorProto) -> _Reserved:
    ranges = Ranges([(r.start, r.end) for r in message.reserved_range])
    members = tuple((f.number, f.name) for f in message.field)
    return _Reserved(ranges, frozenset(message.reserved_name), members, "Field", MSG_FIELD)


def _enum_reserved(enum: d.EnumDescriptorProto) -> _Reserved:
    # Enum reserved ranges are end-inclusive in descriptors, message ones end-exclusive.
    ranges = Ranges([(r.start, r.end + 1) for r in enum.reserved_range])
    members = tuple((v.number, v.name) for v in enum.value)
    return _Reserved(ranges, frozenset(enum.reserved_name), members, "Enum value", ENUM_VALUE)


def _reserved(
    file: str, what: str, at: Path, now: _Reserved, was: _Reserved, rule: str
) -> Iterator[Break]:
    for start, end in was.ranges.ranges:
        missing = now.ranges.missing(start, end)
        if missing:
            # A range only narrowed names what it lost: "was deleted" sent users looking for
            # a range that is still there.
            lost = ", ".join(f'"{_numbers(a, b)}"' for a, b in missing)
            change = "was deleted" if missing == [(start, end)] else f"lost {lost}"
            message = (
                f'Previously present reserved range "{start} to {end - 1}" on {what} {change}.'
            )
            yield Break(rule + "_NO_DELETE", message, file, at)
    for name in sorted(was.names - now.names):
        message = f'Previously present reserved name "{name}" on {what} was deleted.'
        yield Break(rule + "_NO_DELETE", message, file, at)
    yield from _reuse(file, what, at, now, was, rule)


def _numbers(start: int, end: int) -> str:
    """An end-exclusive range of numbers as a proto declares it: `13`, or `10 to 12`."""
    return str(start) if end - start == 1 else f"{start} to {end - 1}"


def _reuse(
    file: str, what: str, at: Path, now: _Reserved, was: _Reserved, rule: str
) -> Iterator[Break]:
    # protoc forbids reserved numbers and names in use, so reuse always comes with a deleted
    # reservation; this finding points at the member that took it.
    for i, (number, name) in enumerate(now.members):
        if was.ranges.contains(number) or name in was.names:
            message = (
                f'{now.kind} "{number}" with name "{name}" on {what} '
                "uses a number or name reserved in the previous version."
            )
            yield Break(rule + "_NO_REUSE", message, file, (*at, now.step, i))
