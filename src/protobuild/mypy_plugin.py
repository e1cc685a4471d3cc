"""mypy-protobuf, run in-process from a descriptor set instead of as a protoc plugin.

The plugin's options are booleans it finds by substring in one parameter string; here they
come from the validated config, so a misspelled option never reaches it.

Its module writer is driven directly rather than through its `generate_*` functions: those
copy every descriptor into a request and every stub into a response, and build the message
index again for each generator. The driver below mirrors theirs (mypy-protobuf is pinned in
constraints.txt; tests/test_differential.py holds the output byte for byte to the plugin's).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2

from protobuild.config import Generator
from protobuild.errors import CompileError, Location
from protobuild.resolve import ProtoFile

if TYPE_CHECKING:
    from mypy_protobuf import main as mypy_protobuf

    from protobuild.compile import Commented

# What the module writer is built with before it is given its file: its constructor indexes
# the file's every source location, which the writer below takes from Stubs instead.
_NO_SOURCE_INFO = descriptor_pb2.FileDescriptorProto()
_FLAVOURS = {"both": "BOTH", "sync": "SYNC", "async": "ASYNC"}
_OPTIONS = (
    "readable_stubs",
    "relax_strict_optional_primitives",
    "use_default_deprecation_warnings",
    "generate_concrete_servicer_stubs",
)
_Field = descriptor_pb2.FieldDescriptorProto
# The builtin each scalar field type is typed as (mypy-protobuf's table, PkgWriter.python_type).
_BUILTINS = {
    _Field.TYPE_DOUBLE: "float",
    _Field.TYPE_FLOAT: "float",
    _Field.TYPE_INT64: "int",
    _Field.TYPE_UINT64: "int",
    _Field.TYPE_FIXED64: "int",
    _Field.TYPE_SFIXED64: "int",
    _Field.TYPE_SINT64: "int",
    _Field.TYPE_INT32: "int",
    _Field.TYPE_UINT32: "int",
    _Field.TYPE_FIXED32: "int",
    _Field.TYPE_SFIXED32: "int",
    _Field.TYPE_SINT32: "int",
    _Field.TYPE_BOOL: "bool",
    _Field.TYPE_STRING: "str",
    _Field.TYPE_BYTES: "bytes",
}


class _Request(NamedTuple):
    """The two attributes of a CodeGeneratorRequest that mypy-protobuf's index reads."""

    proto_file: Sequence[descriptor_pb2.FileDescriptorProto]
    file_to_generate: Sequence[str]


class Stubs:
    """mypy-protobuf over one descriptor set, which must hold every target and all of its
    dependencies; its index of messages is built once for every generator run over the set."""

    def __init__(
        self, fds: descriptor_pb2.FileDescriptorSet, commented: Mapping[str, Commented]
    ) -> None:
        """`commented` has the commented source locations of each file stubs are asked for
        (compile.commented_locations): all the writer looks up, as a location without
        comments writes nothing."""
        from mypy_protobuf import main as mypy_protobuf

        # The index only reads these two fields: no copy of the descriptors into a request.
        request = cast(plugin_pb2.CodeGeneratorRequest, _Request(fds.file, ()))
        self._descriptors = mypy_protobuf.Descriptors(request)
        self._writer = _writer_class()
        self._commented = commented

    def generate(self, targets: Sequence[ProtoFile], generator: Generator) -> dict[str, bytes]:
        """Run generator `mypy` or `mypy_grpc` for `targets`; returns import path -> stub.

        Raises CompileError, at the proto, when mypy-protobuf fails.
        """
        make = self._maker(generator)
        stubs = {}
        for proto in targets:
            try:
                stubs[proto.import_path] = make(self._descriptors.files[proto.import_path])
            except Exception as exc:  # the plugin is third-party code: report, do not crash
                raise CompileError(
                    f"mypy-protobuf failed: {type(exc).__name__}: {exc}; if the file is right, "
                    f"leave {generator.name} out for it with an [[overrides]] table",
                    Location(proto.source),
                ) from exc
        return stubs

    def _maker(self, generator: Generator) -> Callable[[descriptor_pb2.FileDescriptorProto], bytes]:
        """What makes the stub of one file for `generator`."""
        from mypy_protobuf import main as mypy_protobuf

        flags: dict[str, Any] = {name: bool(generator.option(name, False)) for name in _OPTIONS}
        if generator.name == "mypy":
            write, flags["grpc"] = _write_messages_module, False
        else:
            flavour = _FLAVOURS[str(generator.option("flavour", "both"))]
            write, flags["grpc"] = _write_grpc_module, True
            flags["grpc_type"] = mypy_protobuf.GRPCType(flavour)

        def make(fd: descriptor_pb2.FileDescriptorProto) -> bytes:
            writer = self._writer(fd, self._descriptors, self._commented[fd.name], **flags)
            write(writer, fd)
            return cast(str, writer.write()).encode("utf-8")

        return make


def _write_messages_module(
    writer: mypy_protobuf.PkgWriter, fd: descriptor_pb2.FileDescriptorProto
) -> None:
    """What generate_mypy_stubs writes for one file."""
    deprecated = fd.options.deprecated
    writer.write_module_attributes()
    writer.write_enums(fd.enum_type, "", [fd.ENUM_TYPE_FIELD_NUMBER], deprecated)
    presence = fd.options.features.field_presence
    writer.write_messages(fd.message_type, "", [fd.MESSAGE_TYPE_FIELD_NUMBER], deprecated, presence)
    writer.write_extensions(fd.extension, [fd.EXTENSION_FIELD_NUMBER])


def _write_grpc_module(
    writer: mypy_protobuf.PkgWriter, fd: descriptor_pb2.FileDescriptorProto
) -> None:
    """What generate_mypy_grpc_stubs writes for one file."""
    writer.write_grpc_iterator_type()
    writer.write_grpc_servicer_context()
    writer.write_grpc_services(fd.service, [fd.SERVICE_FIELD_NUMBER], fd.options.deprecated)


@functools.cache
def _writer_class() -> type[mypy_protobuf.PkgWriter]:
    """mypy-protobuf's module writer with a faster python_type (made here: the import of
    mypy-protobuf waits until stubs are generated)."""
    from mypy_protobuf import main as mypy_protobuf

    class Writer(mypy_protobuf.PkgWriter):  # type: ignore[misc]  # untyped upstream
        def __init__(
            self,
            fd: descriptor_pb2.FileDescriptorProto,
            descriptors: mypy_protobuf.Descriptors,
            comments: Commented,
            **flags: Any,
        ) -> None:
            super().__init__(_NO_SOURCE_INFO, descriptors, **flags)
            self.fd = fd
            self.source_code_info_by_scl = comments
            self._imported_messages: dict[str, str] = {}

        # The writer asks for each field's message type anew (the import path of its file,
        # the prefix stripped, keywords escaped): the answer never changes within one file,
        # and asking again only records the same import again. (Memoising `_import` as well
        # saved nothing: its Python-level override costs what it saves.)
        def _import_message(self, name: str) -> str:
            handle = self._imported_messages.get(name)
            if handle is None:
                handle = self._imported_messages[name] = super()._import_message(name)
            return handle

        def python_type(self, field: _Field, generic_container: bool = False) -> str:
            # The original builds a table of 18 closures and reads two extension options
            # for every call, a fifth of the stubs' time. A singular field without options
            # (so without mypy-protobuf's casttype) gets the same answer from this.
            if field.label == _Field.LABEL_REPEATED or field.HasField("options"):
                return cast(str, super().python_type(field, generic_container))
            builtin = _BUILTINS.get(field.type)
            if builtin is not None:
                return cast(str, self._builtin(builtin))
            if field.type == _Field.TYPE_ENUM:
                return self._import_message(field.type_name + ".ValueType")
            return self._import_message(field.type_name)  # a message or group

    return Writer


def reject_stub_clashes(
    fds: descriptor_pb2.FileDescriptorSet, group: Sequence[ProtoFile], generator: Generator
) -> None:
    """Raise CompileError for services whose gRPC stubs mypy-protobuf would name alike.

    With both flavours, its asyncio stub of service `X` is `XAsyncStub`, which is also the
    stub of a service `XAsync` in the same file: the second definition fails mypy.
    """
    if generator.option("flavour", "both") != "both":
        return
    sources = {proto.import_path: proto.source for proto in group}
    for file in fds.file:
        names = {service.name for service in file.service}
        clash = sorted(n for n in names if n.endswith("Async") and n[: -len("Async")] in names)
        if file.name in sources and clash:
            raise CompileError(
                f"services {clash[0][: -len('Async')]} and {clash[0]} would both have a stub "
                f"named {clash[0]}Stub in mypy-protobuf's gRPC stubs (its asyncio stub of "
                f"{clash[0][: -len('Async')]} has that name too), which then fail mypy; rename "
                'one of the services, or set flavour = "sync" or "async" on mypy_grpc',
                Location(sources[file.name]),
            )
