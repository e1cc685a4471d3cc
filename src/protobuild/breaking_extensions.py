"""The extension rules of `protobuild breaking`: extensions and the ranges that admit them.

Extensions are matched as buf matches them: a deletion by the name inside the package within
its file (EXTENSION_NO_DELETE, reported by breaking_rules with the messages and enums), and
every other change by the message extended and the number, across the whole set, since that
pair is what the wire and every `Extensions[...]` lookup use. What survives goes through the
field rules (breaking_fields.check_pair). An extension that kept its full name but lost its
number or extendee is a break buf does not report (its FIELD_SAME_* rules only see a number
that disappeared): protobuild reports EXTENSION_SAME_NUMBER or EXTENSION_SAME_EXTENDEE.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from google.protobuf import descriptor_pb2 as d

from protobuild.breaking_features import Pair, Scope
from protobuild.breaking_fields import check_pair, full_name
from protobuild.breaking_model import FIELD_EXTENDEE, FIELD_NUMBER, Break, Node, Ranges

# The largest field number, and the largest in a message_set_wire_format message, whose
# ranges `max` ends at.
_MAX, _MAX_MESSAGE_SET = 536_870_911, 2_147_483_646


@dataclass(frozen=True)
class Extension:
    """One extension: where it is declared (`node` in the file of `scope`) and the scope."""

    node: Node[d.FieldDescriptorProto]
    scope: Scope

    @property
    def key(self) -> tuple[str, int]:
        return self.node.proto.extendee, self.node.proto.number

    @property
    def full_name(self) -> str:
        return full_name(self.node.proto, self.scope)

    def what(self) -> str:
        extendee, number = self.node.proto.extendee.lstrip("."), self.node.proto.number
        return f'Extension "{number}" with name "{self.full_name}" on message "{extendee}"'


def check_extensions(now: Iterable[Extension], was: Iterable[Extension]) -> Iterator[Break]:
    """The breaks of every extension of the previous set that the current set still has."""
    by_key = {extension.key: extension for extension in now}
    by_name = {extension.full_name: extension for extension in by_key.values()}
    for old in was:
        new = by_key.get(old.key)
        if new is not None:
            pair = Pair(new.node.proto, new.scope, old.node.proto, old.scope)
            yield from check_pair(old.what(), new.node.path, pair)
        elif old.full_name in by_name:
            yield _moved(old, by_name[old.full_name])


def _moved(old: Extension, new: Extension) -> Break:
    # Code that names the extension still compiles, and reads or writes another field.
    file, path = new.scope.file.name, new.node.path
    if old.key[0] != new.key[0]:
        change = f'from "{old.key[0].lstrip(".")}" to "{new.key[0].lstrip(".")}"'
        message = f"{old.what()} changed the message it extends {change}."
        return Break("EXTENSION_SAME_EXTENDEE", message, file, (*path, FIELD_EXTENDEE))
    message = f'{old.what()} changed number from "{old.key[1]}" to "{new.key[1]}".'
    return Break("EXTENSION_SAME_NUMBER", message, file, (*path, FIELD_NUMBER))


def check_extension_ranges(
    file: str, name: str, node: Node[d.DescriptorProto], old: d.DescriptorProto
) -> Iterator[Break]:
    """EXTENSION_MESSAGE_NO_DELETE: every number an extension range of `old` admitted must
    still be admitted, or the extensions declared on them elsewhere stop compiling."""
    now = Ranges([(r.start, r.end) for r in node.proto.extension_range])
    top = _MAX_MESSAGE_SET if node.proto.options.message_set_wire_format else _MAX
    for extension_range in old.extension_range:
        missing = now.missing(extension_range.start, extension_range.end)
        if missing:
            lost = ", ".join(f'"{_span(start, end, top)}"' for start, end in missing)
            was = _span(extension_range.start, extension_range.end, top)
            message = f'Previously present extension range "{was}" on message "{name}" lost {lost}.'
            yield Break("EXTENSION_MESSAGE_NO_DELETE", message, file, node.path)


def _span(start: int, end: int, top: int) -> str:
    """An end-exclusive range the way a proto declares it: `5`, `5 to 9`, `5 to max`."""
    last = "max" if end - 1 >= top else str(end - 1)
    return str(start) if last == str(start) else f"{start} to {last}"
