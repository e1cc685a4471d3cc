"""The descriptor model that service templates read: small frozen dataclasses, names precomputed.

A template never touches protobuf descriptors: `build_files` turns a FileDescriptorSet into
FileModel values whose every name is already a valid, collision-free Python identifier and
whose every message type is already an expression (`echo_pb2.SayRequest`) valid in the module
being rendered. Templates only loop and print. docs/templates.md documents every field.

Names are allocated per *unit*, the set of files one rendered output covers (one file, one
proto package or the whole run): inside a unit, import aliases, class names and helper names
never collide with each other, with Python keywords or builtins, or with the names the stock
templates import (`STOCK_NAMES`).
"""

from __future__ import annotations

import builtins
import keyword
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from google.protobuf import descriptor_pb2

from protobuild.comments import Comments, comments_by_path, docstring
from protobuild.errors import InternalError, TemplateError

# Module-level names of the stock templates; a model name never takes one of them.
STOCK_NAMES = frozenset(
    {
        "annotations",
        "grpc",
        "deprecated",
        "AsyncIterable",
        "AsyncIterator",
        "Iterable",
        "Iterator",
        "Sequence",
        "Any",
        "Never",
        "TypeVar",
    }
)
_RESERVED = STOCK_NAMES | frozenset(keyword.kwlist) | frozenset(dir(builtins))

# SourceCodeInfo paths: FileDescriptorProto.service = 6, ServiceDescriptorProto.method = 2,
# FileDescriptorProto.package = 2.
_SERVICE_FIELD = 6
_METHOD_FIELD = 2
_PACKAGE_FIELD = 2


@dataclass(frozen=True)
class Import:
    """One module the rendered code imports, under an alias unique in its unit."""

    module: str  # fully qualified: "acme.echo.v1.echo_pb2"
    alias: str  # "echo_pb2"
    statement: str  # "from acme.echo.v1 import echo_pb2" (with " as alias" when it differs)


@dataclass(frozen=True)
class MessageRef:
    """A message used as an rpc input or output."""

    name: str  # name inside its file, nested ones dotted: "Labelled.Kind"
    full_name: str  # "acme.common.v1.Labelled.Kind"
    proto: str  # import path of the defining file: "acme/common/v1/types.proto"
    module: str  # fully qualified _pb2 module: "acme.common.v1.types_pb2"
    py_type: (
        str  # the expression naming the class in the rendered module: "types_pb2.Labelled.Kind"
    )


@dataclass(frozen=True)
class MethodModel:
    """One rpc of a service."""

    name: str  # proto name: "GetURL"
    full_name: str  # "acme.echo.v1.Echo.GetURL"
    path: str  # the gRPC method path: "/acme.echo.v1.Echo/GetURL"
    py_name: str  # snake_case, keyword/builtin safe, unique in its service: "get_url"
    input: MessageRef
    output: MessageRef
    client_streaming: bool
    server_streaming: bool
    kind: str  # grpc's name of the shape: unary_unary, unary_stream, stream_unary, stream_stream
    deprecated: bool  # option deprecated on the rpc or on its service
    comments: Comments
    docstring: str  # leading comment (else trailing), escaped for a \"\"\" string; "" if none


@dataclass(frozen=True)
class ServiceModel:
    """One service with the module-level names the stock templates give it."""

    name: str  # proto name: "HTTPStatus"
    full_name: str  # "acme.echo.v1.HTTPStatus", as in method paths
    py_name: str  # snake_case, unique in the unit: "http_status"
    client_name: str  # "HTTPStatusClient"
    async_client_name: str  # "HTTPStatusAsyncClient"
    servicer_name: str  # "HTTPStatusServicer"
    async_servicer_name: str  # "HTTPStatusAsyncServicer"
    add_servicer_name: str  # "add_http_status_servicer_to_server"
    add_async_servicer_name: str  # "add_http_status_async_servicer_to_server"
    handlers_name: str  # private helper building the handler table: "_http_status_handlers"
    methods: tuple[MethodModel, ...]
    deprecated: bool  # option deprecated on the service
    comments: Comments
    docstring: str  # like MethodModel.docstring


@dataclass(frozen=True)
class FileModel:
    """One target proto file and what the rendered code needs to speak for it."""

    proto: str  # import path: "acme/echo/v1/echo.proto"
    package: str  # proto package: "acme.echo.v1" ("" when none)
    module: str  # fully qualified _pb2 module: "acme.echo.v1.echo_pb2"
    stem: str  # module basename without _pb2: "echo"
    directory: str  # posix directory of the module, relative to the output directory
    imports: tuple[Import, ...]  # the _pb2 modules its services' messages live in, sorted
    services: tuple[ServiceModel, ...]  # in proto order
    comments: Comments  # comments of the `package` statement
    deprecated: bool  # option deprecated on the file
    uses_request_streams: bool  # some rpc is client-streaming
    uses_response_streams: bool  # some rpc is server-streaming
    uses_deprecated: bool  # some rpc is deprecated (its own option or its service's)


@dataclass(frozen=True)
class PackageModel:
    """The target files of one proto package, rendered together."""

    name: str  # "acme.echo.v1" ("" for files without a package)
    path: str  # "acme/echo/v1" ("" for files without a package)
    files: tuple[FileModel, ...]  # sorted by import path
    imports: tuple[Import, ...]  # union of the files' imports, one alias each
    services: tuple[ServiceModel, ...]  # every service of every file, in file order


def snake_case(name: str) -> str:
    """`GetURL` -> `get_url`, `HTTPStatus` -> `http_status`; a run of capitals is one word.

    Existing underscores are kept; the result may still be a keyword (see `py_identifier`).
    """
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower()


def py_identifier(name: str, taken: Iterable[str] = ()) -> str:
    """`name` made public and safe: leading underscores dropped, `_` appended while it is a
    keyword, a builtin, a stock template name or in `taken`.

    Dropping leading underscores avoids private names and class-private name mangling.
    """
    used = set(taken)
    name = name.lstrip("_") or "rpc"
    while name in _RESERVED or name in used:
        name += "_"
    return name


def method_kind(client_streaming: bool, server_streaming: bool) -> str:
    """grpc's name of a streaming shape, as in `channel.unary_stream` and its handlers."""
    return (
        f"{'stream' if client_streaming else 'unary'}_{'stream' if server_streaming else 'unary'}"
    )


def module_import(module: str, alias: str) -> str:
    """The import statement that binds `alias` to `module`."""
    parent, _, base = module.rpartition(".")
    suffix = "" if alias == base else f" as {alias}"
    return f"from {parent} import {base}{suffix}" if parent else f"import {base}{suffix}"


def assign_aliases(modules: Iterable[str], taken: Iterable[str] = ()) -> dict[str, str]:
    """Short, unique aliases: the basename (`echo_pb2`), else the shortest dotted suffix joined
    by `_` (`v1_types_pb2`) that no other module could also claim; never a name in `taken` or
    a reserved one. The result does not depend on the order of `modules`.
    """
    candidates = {m: _alias_candidates(m) for m in sorted(set(modules))}
    used = set(taken)
    aliases = {}
    for module, own in candidates.items():
        others = {c for m, theirs in candidates.items() if m != module for c in theirs}
        free = [c for c in own if c not in others and c not in used and c not in _RESERVED]
        aliases[module] = py_identifier(free[0] if free else own[-1], used)
        used.add(aliases[module])
    return aliases


def _alias_candidates(module: str) -> list[str]:
    """`a.b.c_pb2` -> [`c_pb2`, `b_c_pb2`, `a_b_c_pb2`]: shortest first."""
    parts = module.split(".")
    return ["_".join(parts[-n:]) for n in range(1, len(parts) + 1)]


class DescriptorIndex:
    """Lookups over a FileDescriptorSet: files by import path, messages by full name."""

    def __init__(
        self,
        fds: descriptor_pb2.FileDescriptorSet,
        commented: Mapping[str, Mapping[tuple[int, ...], descriptor_pb2.SourceCodeInfo.Location]]
        | None = None,
    ) -> None:
        """`commented`: the source locations with comments of some files, by file (see
        compile.commented_locations), known already."""
        self.files = {file.name: file for file in fds.file}
        self.commented = commented or {}
        self.messages: dict[str, tuple[str, str]] = {}  # full name -> (file, local name)
        for file in fds.file:
            prefix = f"{file.package}." if file.package else ""
            self._add_messages(file.name, prefix, "", file.message_type)

    def _add_messages(
        self,
        file: str,
        prefix: str,
        outer: str,
        messages: Iterable[descriptor_pb2.DescriptorProto],
    ) -> None:
        for message in messages:
            local = f"{outer}{message.name}"
            self.messages[prefix + local] = (file, local)
            self._add_messages(file, prefix, f"{local}.", message.nested_type)

    def file(self, proto: str) -> descriptor_pb2.FileDescriptorProto:
        """The descriptor of `proto`; a missing one is the caller's bug (InternalError)."""
        if proto not in self.files:
            raise InternalError(f"{proto} is not in the descriptor set")
        return self.files[proto]

    def message(self, type_name: str) -> tuple[str, str]:
        """(defining file, local name) of a `.pkg.Message` type name."""
        found = self.messages.get(type_name.lstrip("."))
        if found is None:
            raise InternalError(f"message {type_name} is not in the descriptor set")
        return found


def module_location(module: str, package: str) -> tuple[str, str]:
    """(directory relative to the output directory, stem) of a target's _pb2 module."""
    if package and not module.startswith(f"{package}."):
        raise InternalError(f"module {module} is outside the output package {package}")
    relative = module[len(package) + 1 :] if package else module
    directory, _, base = relative.rpartition(".")
    stem = base[: -len("_pb2")] if base.endswith("_pb2") else base
    return posixpath.join(*directory.split(".")) if directory else "", stem


def package_path(package: str) -> str:
    """`acme.echo.v1` -> `acme/echo/v1` (the path a per-package template writes under)."""
    return package.replace(".", "/")


def needed_modules(
    index: DescriptorIndex, protos: Iterable[str], modules: Mapping[str, str]
) -> set[str]:
    """The _pb2 modules defining every input and output message of `protos`' services."""
    needed = set()
    for proto in protos:
        for service in index.file(proto).service:
            for method in service.method:
                for type_name in (method.input_type, method.output_type):
                    needed.add(_module_of(modules, index.message(type_name)[0]))
    return needed


def _module_of(modules: Mapping[str, str], proto: str) -> str:
    if proto not in modules:
        raise InternalError(f"no Python module was given for {proto}")
    return modules[proto]


def build_files(
    index: DescriptorIndex, protos: Sequence[str], modules: Mapping[str, str], package: str
) -> tuple[tuple[FileModel, ...], tuple[Import, ...]]:
    """Models of `protos` rendered as one unit, with the unit's imports (sorted by module).

    Aliases, service names and method names are allocated once for the whole unit, so files
    of one unit can be rendered into a single module without clashes.
    """
    aliases = assign_aliases(needed_modules(index, protos, modules))
    imports = tuple(Import(m, a, module_import(m, a)) for m, a in sorted(aliases.items()))
    builder = _UnitBuilder(index, modules, package, aliases)
    return tuple(builder.file(proto) for proto in protos), imports


class _UnitBuilder:
    """Builds the models of one unit; holds the names the unit has used so far."""

    def __init__(
        self,
        index: DescriptorIndex,
        modules: Mapping[str, str],
        package: str,
        aliases: Mapping[str, str],
    ) -> None:
        self.index = index
        self.modules = modules
        self.package = package
        self.aliases = aliases
        self.used = set(aliases.values())

    def file(self, proto: str) -> FileModel:
        descriptor = self.index.file(proto)
        known = self.index.commented.get(proto)
        comments = comments_by_path(descriptor, None if known is None else known.values())
        services = tuple(
            self.service(descriptor, number, comments) for number in range(len(descriptor.service))
        )
        methods = [method for service in services for method in service.methods]
        module = _module_of(self.modules, proto)
        directory, stem = module_location(module, self.package)
        own = {self.aliases[m.input.module] for m in methods} | {
            self.aliases[m.output.module] for m in methods
        }
        return FileModel(
            proto=proto,
            package=descriptor.package,
            module=module,
            stem=stem,
            directory=directory,
            imports=tuple(
                Import(m, a, module_import(m, a))
                for m, a in sorted(self.aliases.items())
                if a in own
            ),
            services=services,
            comments=comments.get((_PACKAGE_FIELD,), Comments()),
            deprecated=descriptor.options.deprecated,
            uses_request_streams=any(m.client_streaming for m in methods),
            uses_response_streams=any(m.server_streaming for m in methods),
            uses_deprecated=any(m.deprecated for m in methods),
        )

    def service(
        self,
        file: descriptor_pb2.FileDescriptorProto,
        number: int,
        comments: Mapping[tuple[int, ...], Comments],
    ) -> ServiceModel:
        descriptor = file.service[number]
        full_name = f"{file.package}.{descriptor.name}" if file.package else descriptor.name
        py_name = self._claim(py_identifier(snake_case(descriptor.name)))
        title = descriptor.name[:1].upper() + descriptor.name[1:]
        path = (_SERVICE_FIELD, number)
        deprecated = descriptor.options.deprecated
        methods = self.methods(full_name, descriptor, deprecated, comments, path)
        return ServiceModel(
            name=descriptor.name,
            full_name=full_name,
            py_name=py_name,
            client_name=self._claim(f"{title}Client"),
            async_client_name=self._claim(f"{title}AsyncClient"),
            servicer_name=self._claim(f"{title}Servicer"),
            async_servicer_name=self._claim(f"{title}AsyncServicer"),
            add_servicer_name=self._claim(f"add_{py_name}_servicer_to_server"),
            add_async_servicer_name=self._claim(f"add_{py_name}_async_servicer_to_server"),
            handlers_name=self._claim(f"_{py_name}_handlers"),
            methods=methods,
            deprecated=deprecated,
            comments=comments.get(path, Comments()),
            docstring=docstring(comments.get(path, Comments())),
        )

    def methods(
        self,
        service: str,
        descriptor: descriptor_pb2.ServiceDescriptorProto,
        deprecated: bool,
        comments: Mapping[tuple[int, ...], Comments],
        path: tuple[int, ...],
    ) -> tuple[MethodModel, ...]:
        """The service's methods, py_names unique in the service.

        A method name must not shadow an import alias either: inside a class body it would
        hide the module from the annotations of the methods after it.
        """
        taken = set(self.aliases.values())
        methods = []
        for number, method in enumerate(descriptor.method):
            py_name = py_identifier(snake_case(method.name), taken)
            taken.add(py_name)
            found = comments.get((*path, _METHOD_FIELD, number), Comments())
            methods.append(self.method(service, method, py_name, deprecated, found))
        return tuple(methods)

    def method(
        self,
        service: str,
        descriptor: descriptor_pb2.MethodDescriptorProto,
        py_name: str,
        service_deprecated: bool,
        comments: Comments,
    ) -> MethodModel:
        return MethodModel(
            name=descriptor.name,
            full_name=f"{service}.{descriptor.name}",
            path=f"/{service}/{descriptor.name}",
            py_name=py_name,
            input=self.message(descriptor.input_type),
            output=self.message(descriptor.output_type),
            client_streaming=descriptor.client_streaming,
            server_streaming=descriptor.server_streaming,
            kind=method_kind(descriptor.client_streaming, descriptor.server_streaming),
            deprecated=descriptor.options.deprecated or service_deprecated,
            comments=comments,
            docstring=docstring(comments),
        )

    def message(self, type_name: str) -> MessageRef:
        proto, local = self.index.message(type_name)
        _check_nameable(type_name.lstrip("."), proto, local)
        module = _module_of(self.modules, proto)
        return MessageRef(
            name=local,
            full_name=type_name.lstrip("."),
            proto=proto,
            module=module,
            py_type=f"{self.aliases[module]}.{local}",
        )

    def _claim(self, name: str) -> str:
        """`name`, with `_` appended until no other module-level name of the unit has it."""
        while name in self.used or name in _RESERVED:
            name += "_"
        self.used.add(name)
        return name


def _check_nameable(full_name: str, proto: str, local: str) -> None:
    """Raise TemplateError when Python code cannot spell `module.local` for a message.

    protoc's classes are reachable only through getattr then (`m_pb2.None` does not parse;
    `m_pb2.__Secret` inside a class body is mangled into `m_pb2._Client__Secret`).
    """
    for part in local.split("."):
        if keyword.iskeyword(part) or (part.startswith("__") and not part.endswith("__")):
            why = "a Python keyword" if keyword.iskeyword(part) else "mangled inside classes"
            raise TemplateError(
                f"{proto}: an rpc uses message {full_name}, which generated Python cannot name "
                f"({part!r} is {why}); rename the message, or give {proto} generators without "
                "services in an [[overrides]] entry"
            )
