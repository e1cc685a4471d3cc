"""Typed gRPC clients and servicers, synchronous and asyncio, of the services in
bare.proto.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
import grpc.aio

from google.protobuf import empty_pb2

__all__ = [
    "BareClient",
    "BareAsyncClient",
    "BareServicer",
    "BareAsyncServicer",
    "add_bare_servicer_to_server",
    "add_bare_async_servicer_to_server",
    "IdleClient",
    "IdleAsyncClient",
    "IdleServicer",
    "IdleAsyncServicer",
    "add_idle_servicer_to_server",
    "add_idle_async_servicer_to_server",
]


class BareClient:
    """Synchronous client of Bare over a grpc.Channel."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._nothing = channel.unary_unary(
            "/Bare/Nothing",
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=empty_pb2.Empty.FromString,
        )

    def nothing(
        self,
        request: empty_pb2.Empty,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> empty_pb2.Empty:
        """Call /Bare/Nothing."""
        return self._nothing(
            request,
            timeout=timeout,
            metadata=_metadata(metadata),
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )


class BareAsyncClient:
    """asyncio client of Bare over a grpc.aio.Channel."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._nothing = channel.unary_unary(
            "/Bare/Nothing",
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=empty_pb2.Empty.FromString,
        )

    async def nothing(
        self,
        request: empty_pb2.Empty,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> empty_pb2.Empty:
        """Call /Bare/Nothing."""
        return await self._nothing(
            request,
            timeout=timeout,
            metadata=metadata,
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )


class BareServicer:
    """Synchronous servicer of Bare; methods left alone answer UNIMPLEMENTED."""

    def nothing(
        self,
        request: empty_pb2.Empty,
        context: grpc.ServicerContext,
    ) -> empty_pb2.Empty:
        """Serve /Bare/Nothing."""
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")


class BareAsyncServicer:
    """asyncio servicer of Bare; methods left alone answer UNIMPLEMENTED."""

    async def nothing(
        self,
        request: empty_pb2.Empty,
        context: grpc.aio.ServicerContext[empty_pb2.Empty, empty_pb2.Empty],
    ) -> empty_pb2.Empty:
        """Serve /Bare/Nothing."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")


def add_bare_servicer_to_server(
    servicer: BareServicer,
    server: grpc.Server,
) -> None:
    """Serve Bare on `server` with `servicer` (call before server.start())."""
    _register(server, "Bare", _bare_handlers(servicer))


def add_bare_async_servicer_to_server(
    servicer: BareAsyncServicer,
    server: grpc.aio.Server,
) -> None:
    """Serve Bare on `server` with `servicer` (call before server.start())."""
    _register(server, "Bare", _bare_handlers(servicer))


def _bare_handlers(
    servicer: BareServicer | BareAsyncServicer,
) -> dict[str, grpc.RpcMethodHandler[Any, Any]]:
    """The method handlers of Bare, by method name, bound to `servicer`."""
    return {
        "Nothing": grpc.unary_unary_rpc_method_handler(
            servicer.nothing,
            request_deserializer=empty_pb2.Empty.FromString,
            response_serializer=empty_pb2.Empty.SerializeToString,
        ),
    }


class IdleClient:
    """Synchronous client of Idle over a grpc.Channel.

    Idle has no rpcs at all: its classes must still import and type-check.
    """

    def __init__(self, channel: grpc.Channel) -> None:
        del channel  # a service without rpcs


class IdleAsyncClient:
    """asyncio client of Idle over a grpc.aio.Channel.

    Idle has no rpcs at all: its classes must still import and type-check.
    """

    def __init__(self, channel: grpc.aio.Channel) -> None:
        del channel  # a service without rpcs


class IdleServicer:
    """Synchronous servicer of Idle; methods left alone answer UNIMPLEMENTED.

    Idle has no rpcs at all: its classes must still import and type-check.
    """


class IdleAsyncServicer:
    """asyncio servicer of Idle; methods left alone answer UNIMPLEMENTED.

    Idle has no rpcs at all: its classes must still import and type-check.
    """


def add_idle_servicer_to_server(
    servicer: IdleServicer,
    server: grpc.Server,
) -> None:
    """Serve Idle on `server` with `servicer` (call before server.start())."""
    _register(server, "Idle", _idle_handlers(servicer))


def add_idle_async_servicer_to_server(
    servicer: IdleAsyncServicer,
    server: grpc.aio.Server,
) -> None:
    """Serve Idle on `server` with `servicer` (call before server.start())."""
    _register(server, "Idle", _idle_handlers(servicer))


def _idle_handlers(
    servicer: IdleServicer | IdleAsyncServicer,
) -> dict[str, grpc.RpcMethodHandler[Any, Any]]:
    """The method handlers of Idle, by method name, bound to `servicer`."""
    return {}


def _register(
    server: grpc.Server | grpc.aio.Server,
    service: str,
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]],
) -> None:
    """Add `handlers` to `server` the way grpc's own generated code does: as a generic handler
    and, for grpc's faster lookup by method path, as registered method handlers."""
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
    server.add_registered_method_handlers(service, handlers)


def _metadata(
    metadata: Sequence[tuple[str, str | bytes]] | None,
) -> tuple[tuple[str, str | bytes], ...] | None:
    """`metadata` as the tuple the synchronous grpc API expects."""
    return None if metadata is None else tuple(metadata)
