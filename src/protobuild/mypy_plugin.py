"""mypy-protobuf, run in-process from a descriptor set instead of as a protoc plugin.

The plugin's options are booleans it finds by substring in one parameter string; here they
come from the validated config, so a misspelled option never reaches it.
"""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2

from protobuild.config import Generator
from protobuild.errors import CompileError, Location
from protobuild.resolve import ProtoFile

_FLAVOURS = {"both": "BOTH", "sync": "SYNC", "async": "ASYNC"}


def generate(
    fds: descriptor_pb2.FileDescriptorSet, targets: Sequence[str], generator: Generator
) -> dict[str, bytes]:
    """Run generator `mypy` or `mypy_grpc` for `targets`; returns path -> content.

    `fds` must hold every target and all of its dependencies, in dependency order.
    Raises CompileError when mypy-protobuf reports an error or fails.
    """
    from mypy_protobuf import main as mypy_protobuf

    request = plugin_pb2.CodeGeneratorRequest(file_to_generate=targets, proto_file=fds.file)
    response = plugin_pb2.CodeGeneratorResponse()
    flags = {
        "quiet": True,
        "readable_stubs": bool(generator.option("readable_stubs", False)),
        "relax_strict_optional_primitives": bool(
            generator.option("relax_strict_optional_primitives", False)
        ),
        "use_default_deprecation_warnings": bool(
            generator.option("use_default_deprecation_warnings", False)
        ),
        "generate_concrete_servicer_stubs": bool(
            generator.option("generate_concrete_servicer_stubs", False)
        ),
    }
    try:
        descriptors = mypy_protobuf.Descriptors(request)
        if generator.name == "mypy":
            mypy_protobuf.generate_mypy_stubs(descriptors, response, **flags)
        else:
            flavour = _FLAVOURS[str(generator.option("flavour", "both"))]
            grpc_type = mypy_protobuf.GRPCType(flavour)
            mypy_protobuf.generate_mypy_grpc_stubs(
                descriptors, response, grpc_type=grpc_type, **flags
            )
    except Exception as exc:  # the plugin is third-party code: report, do not crash
        raise CompileError(f"mypy-protobuf failed: {type(exc).__name__}: {exc}") from exc
    if response.error:
        raise CompileError(f"mypy-protobuf: {response.error}")
    return {file.name: file.content.encode("utf-8") for file in response.file}


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
