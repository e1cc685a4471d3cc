"""Typed gRPC clients and servicers, synchronous and asyncio, of the services in
acme/echo/v1/echo.proto.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import grpc
import grpc.aio
from typing_extensions import deprecated

from acme_gen.acme.common.v1 import types_pb2
from acme_gen.acme.echo.v1 import echo_pb2
from google.protobuf import empty_pb2
from google.protobuf import timestamp_pb2

__all__ = [
    "EchoClient",
    "EchoAsyncClient",
    "EchoServicer",
    "EchoAsyncServicer",
    "add_echo_servicer_to_server",
    "add_echo_async_servicer_to_server",
    "HTTPStatusClient",
    "HTTPStatusAsyncClient",
    "HTTPStatusServicer",
    "HTTPStatusAsyncServicer",
    "add_http_status_servicer_to_server",
    "add_http_status_async_servicer_to_server",
]

_T = TypeVar("_T")

if TYPE_CHECKING:

    class _Stream(grpc.Call, Iterator[_T]):
        """What a synchronous client's server stream is: the responses, and the call, to
        cancel() or to ask its code() and metadata (grpc's stubs keep the type private)."""


class EchoClient:
    """Synchronous client of acme.echo.v1.Echo over a grpc.Channel.

    Echo answers what it is told.

    It keeps no state; a "triple quote" like \"\"" and a backslash \\ must survive
    into docstrings.
    """

    def __init__(self, channel: grpc.Channel) -> None:
        self._say = channel.unary_unary(
            "/acme.echo.v1.Echo/Say",
            request_serializer=echo_pb2.SayRequest.SerializeToString,
            response_deserializer=echo_pb2.SayResponse.FromString,
        )
        self._expand = channel.unary_stream(
            "/acme.echo.v1.Echo/Expand",
            request_serializer=echo_pb2.SayRequest.SerializeToString,
            response_deserializer=echo_pb2.SayResponse.FromString,
        )
        self._collect = channel.stream_unary(
            "/acme.echo.v1.Echo/Collect",
            request_serializer=echo_pb2.SayRequest.SerializeToString,
            response_deserializer=echo_pb2.SayResponse.FromString,
        )
        self._chat = channel.stream_stream(
            "/acme.echo.v1.Echo/Chat",
            request_serializer=echo_pb2.SayRequest.SerializeToString,
            response_deserializer=echo_pb2.SayResponse.FromString,
        )
        self._get_url = channel.unary_unary(
            "/acme.echo.v1.Echo/GetURL",
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=echo_pb2.URLResponse.FromString,
        )
        self._ping = channel.unary_unary(
            "/acme.echo.v1.Echo/Ping",
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=timestamp_pb2.Timestamp.FromString,
        )
        self._list_ = channel.unary_stream(
            "/acme.echo.v1.Echo/List",
            request_serializer=types_pb2.Page.SerializeToString,
            response_deserializer=types_pb2.Labelled.Kind.FromString,
        )

    def say(
        self,
        request: echo_pb2.SayRequest,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> echo_pb2.SayResponse:
        """Say returns the message it was given."""
        return self._say(
            request,
            timeout=timeout,
            metadata=_metadata(metadata),
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )

    def expand(
        self,
        request: echo_pb2.SayRequest,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> _Stream[echo_pb2.SayResponse]:
        """Expand streams each word of the message back, one response per word."""
        return cast("_Stream[echo_pb2.SayResponse]", self._expand(
            request,
            timeout=timeout,
            metadata=_metadata(metadata),
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        ))

    def collect(
        self,
        requests: Iterable[echo_pb2.SayRequest],
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> echo_pb2.SayResponse:
        """Collect joins every message it receives into one."""
        return self._collect(
            iter(requests),
            timeout=timeout,
            metadata=_metadata(metadata),
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )

    def chat(
        self,
        requests: Iterable[echo_pb2.SayRequest],
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> _Stream[echo_pb2.SayResponse]:
        """Chat answers each message as it arrives."""
        return cast("_Stream[echo_pb2.SayResponse]", self._chat(
            iter(requests),
            timeout=timeout,
            metadata=_metadata(metadata),
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        ))

    def get_url(
        self,
        request: empty_pb2.Empty,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> echo_pb2.URLResponse:
        """GetURL returns where this service lives; the acronym becomes get_url."""
        return self._get_url(
            request,
            timeout=timeout,
            metadata=_metadata(metadata),
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )

    @deprecated("The rpc acme.echo.v1.Echo.Ping is deprecated.")
    def ping(
        self,
        request: empty_pb2.Empty,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> timestamp_pb2.Timestamp:
        """Ping is the old health check."""
        return self._ping(
            request,
            timeout=timeout,
            metadata=_metadata(metadata),
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )

    def list_(
        self,
        request: types_pb2.Page,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> _Stream[types_pb2.Labelled.Kind]:
        """trailing comment of List"""
        return cast("_Stream[types_pb2.Labelled.Kind]", self._list_(
            request,
            timeout=timeout,
            metadata=_metadata(metadata),
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        ))


class EchoAsyncClient:
    """asyncio client of acme.echo.v1.Echo over a grpc.aio.Channel.

    Echo answers what it is told.

    It keeps no state; a "triple quote" like \"\"" and a backslash \\ must survive
    into docstrings.
    """

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._say = channel.unary_unary(
            "/acme.echo.v1.Echo/Say",
            request_serializer=echo_pb2.SayRequest.SerializeToString,
            response_deserializer=echo_pb2.SayResponse.FromString,
        )
        self._expand = channel.unary_stream(
            "/acme.echo.v1.Echo/Expand",
            request_serializer=echo_pb2.SayRequest.SerializeToString,
            response_deserializer=echo_pb2.SayResponse.FromString,
        )
        self._collect = channel.stream_unary(
            "/acme.echo.v1.Echo/Collect",
            request_serializer=echo_pb2.SayRequest.SerializeToString,
            response_deserializer=echo_pb2.SayResponse.FromString,
        )
        self._chat = channel.stream_stream(
            "/acme.echo.v1.Echo/Chat",
            request_serializer=echo_pb2.SayRequest.SerializeToString,
            response_deserializer=echo_pb2.SayResponse.FromString,
        )
        self._get_url = channel.unary_unary(
            "/acme.echo.v1.Echo/GetURL",
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=echo_pb2.URLResponse.FromString,
        )
        self._ping = channel.unary_unary(
            "/acme.echo.v1.Echo/Ping",
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=timestamp_pb2.Timestamp.FromString,
        )
        self._list_ = channel.unary_stream(
            "/acme.echo.v1.Echo/List",
            request_serializer=types_pb2.Page.SerializeToString,
            response_deserializer=types_pb2.Labelled.Kind.FromString,
        )

    async def say(
        self,
        request: echo_pb2.SayRequest,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> echo_pb2.SayResponse:
        """Say returns the message it was given."""
        return await self._say(
            request,
            timeout=timeout,
            metadata=metadata,
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )

    def expand(
        self,
        request: echo_pb2.SayRequest,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> grpc.aio.UnaryStreamCall[Any, echo_pb2.SayResponse]:
        """Expand streams each word of the message back, one response per word."""
        return self._expand(
            request,
            timeout=timeout,
            metadata=metadata,
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )

    async def collect(
        self,
        requests: Iterable[echo_pb2.SayRequest] | AsyncIterable[echo_pb2.SayRequest],
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> echo_pb2.SayResponse:
        """Collect joins every message it receives into one."""
        return await self._collect(
            _requests(requests),
            timeout=timeout,
            metadata=metadata,
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )

    def chat(
        self,
        requests: Iterable[echo_pb2.SayRequest] | AsyncIterable[echo_pb2.SayRequest],
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> grpc.aio.StreamStreamCall[Any, echo_pb2.SayResponse]:
        """Chat answers each message as it arrives."""
        return self._chat(
            _requests(requests),
            timeout=timeout,
            metadata=metadata,
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )

    async def get_url(
        self,
        request: empty_pb2.Empty,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> echo_pb2.URLResponse:
        """GetURL returns where this service lives; the acronym becomes get_url."""
        return await self._get_url(
            request,
            timeout=timeout,
            metadata=metadata,
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )

    @deprecated("The rpc acme.echo.v1.Echo.Ping is deprecated.")
    async def ping(
        self,
        request: empty_pb2.Empty,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> timestamp_pb2.Timestamp:
        """Ping is the old health check."""
        return await self._ping(
            request,
            timeout=timeout,
            metadata=metadata,
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )

    def list_(
        self,
        request: types_pb2.Page,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> grpc.aio.UnaryStreamCall[Any, types_pb2.Labelled.Kind]:
        """trailing comment of List"""
        return self._list_(
            request,
            timeout=timeout,
            metadata=metadata,
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )


class EchoServicer:
    """Synchronous servicer of acme.echo.v1.Echo; methods left alone answer UNIMPLEMENTED.

    Echo answers what it is told.

    It keeps no state; a "triple quote" like \"\"" and a backslash \\ must survive
    into docstrings.
    """

    def say(
        self,
        request: echo_pb2.SayRequest,
        context: grpc.ServicerContext,
    ) -> echo_pb2.SayResponse:
        """Say returns the message it was given."""
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")

    def expand(
        self,
        request: echo_pb2.SayRequest,
        context: grpc.ServicerContext,
    ) -> Iterator[echo_pb2.SayResponse]:
        """Expand streams each word of the message back, one response per word."""
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")

    def collect(
        self,
        request_iterator: Iterator[echo_pb2.SayRequest],
        context: grpc.ServicerContext,
    ) -> echo_pb2.SayResponse:
        """Collect joins every message it receives into one."""
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")

    def chat(
        self,
        request_iterator: Iterator[echo_pb2.SayRequest],
        context: grpc.ServicerContext,
    ) -> Iterator[echo_pb2.SayResponse]:
        """Chat answers each message as it arrives."""
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")

    def get_url(
        self,
        request: empty_pb2.Empty,
        context: grpc.ServicerContext,
    ) -> echo_pb2.URLResponse:
        """GetURL returns where this service lives; the acronym becomes get_url."""
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")

    def ping(
        self,
        request: empty_pb2.Empty,
        context: grpc.ServicerContext,
    ) -> timestamp_pb2.Timestamp:
        """Ping is the old health check."""
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")

    def list_(
        self,
        request: types_pb2.Page,
        context: grpc.ServicerContext,
    ) -> Iterator[types_pb2.Labelled.Kind]:
        """trailing comment of List"""
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")


class EchoAsyncServicer:
    """asyncio servicer of acme.echo.v1.Echo; methods left alone answer UNIMPLEMENTED.

    Echo answers what it is told.

    It keeps no state; a "triple quote" like \"\"" and a backslash \\ must survive
    into docstrings.
    """

    async def say(
        self,
        request: echo_pb2.SayRequest,
        context: grpc.aio.ServicerContext[echo_pb2.SayRequest, echo_pb2.SayResponse],
    ) -> echo_pb2.SayResponse:
        """Say returns the message it was given."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")

    async def expand(
        self,
        request: echo_pb2.SayRequest,
        context: grpc.aio.ServicerContext[echo_pb2.SayRequest, echo_pb2.SayResponse],
    ) -> AsyncIterator[echo_pb2.SayResponse]:
        """Expand streams each word of the message back, one response per word."""
        # grpc.aio streams responses from an async generator: hence the loop, never entered.
        for response in await _unimplemented(context, echo_pb2.SayResponse):
            yield response

    async def collect(
        self,
        request_iterator: AsyncIterator[echo_pb2.SayRequest],
        context: grpc.aio.ServicerContext[echo_pb2.SayRequest, echo_pb2.SayResponse],
    ) -> echo_pb2.SayResponse:
        """Collect joins every message it receives into one."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")

    async def chat(
        self,
        request_iterator: AsyncIterator[echo_pb2.SayRequest],
        context: grpc.aio.ServicerContext[echo_pb2.SayRequest, echo_pb2.SayResponse],
    ) -> AsyncIterator[echo_pb2.SayResponse]:
        """Chat answers each message as it arrives."""
        # grpc.aio streams responses from an async generator: hence the loop, never entered.
        for response in await _unimplemented(context, echo_pb2.SayResponse):
            yield response

    async def get_url(
        self,
        request: empty_pb2.Empty,
        context: grpc.aio.ServicerContext[empty_pb2.Empty, echo_pb2.URLResponse],
    ) -> echo_pb2.URLResponse:
        """GetURL returns where this service lives; the acronym becomes get_url."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")

    async def ping(
        self,
        request: empty_pb2.Empty,
        context: grpc.aio.ServicerContext[empty_pb2.Empty, timestamp_pb2.Timestamp],
    ) -> timestamp_pb2.Timestamp:
        """Ping is the old health check."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")

    async def list_(
        self,
        request: types_pb2.Page,
        context: grpc.aio.ServicerContext[types_pb2.Page, types_pb2.Labelled.Kind],
    ) -> AsyncIterator[types_pb2.Labelled.Kind]:
        """trailing comment of List"""
        # grpc.aio streams responses from an async generator: hence the loop, never entered.
        for response in await _unimplemented(context, types_pb2.Labelled.Kind):
            yield response


def add_echo_servicer_to_server(
    servicer: EchoServicer,
    server: grpc.Server,
) -> None:
    """Serve acme.echo.v1.Echo on `server` with `servicer` (call before server.start())."""
    _register(server, "acme.echo.v1.Echo", _echo_handlers(servicer))


def add_echo_async_servicer_to_server(
    servicer: EchoAsyncServicer,
    server: grpc.aio.Server,
) -> None:
    """Serve acme.echo.v1.Echo on `server` with `servicer` (call before server.start())."""
    _register(server, "acme.echo.v1.Echo", _echo_handlers(servicer))


def _echo_handlers(
    servicer: EchoServicer | EchoAsyncServicer,
) -> dict[str, grpc.RpcMethodHandler[Any, Any]]:
    """The method handlers of acme.echo.v1.Echo, by method name, bound to `servicer`."""
    return {
        "Say": grpc.unary_unary_rpc_method_handler(
            servicer.say,
            request_deserializer=echo_pb2.SayRequest.FromString,
            response_serializer=echo_pb2.SayResponse.SerializeToString,
        ),
        "Expand": grpc.unary_stream_rpc_method_handler(
            servicer.expand,
            request_deserializer=echo_pb2.SayRequest.FromString,
            response_serializer=echo_pb2.SayResponse.SerializeToString,
        ),
        "Collect": grpc.stream_unary_rpc_method_handler(
            servicer.collect,
            request_deserializer=echo_pb2.SayRequest.FromString,
            response_serializer=echo_pb2.SayResponse.SerializeToString,
        ),
        "Chat": grpc.stream_stream_rpc_method_handler(
            servicer.chat,
            request_deserializer=echo_pb2.SayRequest.FromString,
            response_serializer=echo_pb2.SayResponse.SerializeToString,
        ),
        "GetURL": grpc.unary_unary_rpc_method_handler(
            servicer.get_url,
            request_deserializer=empty_pb2.Empty.FromString,
            response_serializer=echo_pb2.URLResponse.SerializeToString,
        ),
        "Ping": grpc.unary_unary_rpc_method_handler(
            servicer.ping,
            request_deserializer=empty_pb2.Empty.FromString,
            response_serializer=timestamp_pb2.Timestamp.SerializeToString,
        ),
        "List": grpc.unary_stream_rpc_method_handler(
            servicer.list_,
            request_deserializer=types_pb2.Page.FromString,
            response_serializer=types_pb2.Labelled.Kind.SerializeToString,
        ),
    }


class HTTPStatusClient:
    """Synchronous client of acme.echo.v1.HTTPStatus over a grpc.Channel.

    HTTPStatus is a second service, deprecated as a whole, with a keyword-named rpc.
    """

    def __init__(self, channel: grpc.Channel) -> None:
        self._import_ = channel.unary_unary(
            "/acme.echo.v1.HTTPStatus/Import",
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=empty_pb2.Empty.FromString,
        )

    @deprecated("The rpc acme.echo.v1.HTTPStatus.Import is deprecated.")
    def import_(
        self,
        request: empty_pb2.Empty,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> empty_pb2.Empty:
        """Import is a Python keyword; the method becomes import_."""
        return self._import_(
            request,
            timeout=timeout,
            metadata=_metadata(metadata),
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )


class HTTPStatusAsyncClient:
    """asyncio client of acme.echo.v1.HTTPStatus over a grpc.aio.Channel.

    HTTPStatus is a second service, deprecated as a whole, with a keyword-named rpc.
    """

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._import_ = channel.unary_unary(
            "/acme.echo.v1.HTTPStatus/Import",
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=empty_pb2.Empty.FromString,
        )

    @deprecated("The rpc acme.echo.v1.HTTPStatus.Import is deprecated.")
    async def import_(
        self,
        request: empty_pb2.Empty,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> empty_pb2.Empty:
        """Import is a Python keyword; the method becomes import_."""
        return await self._import_(
            request,
            timeout=timeout,
            metadata=metadata,
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )


class HTTPStatusServicer:
    """Synchronous servicer of acme.echo.v1.HTTPStatus; methods left alone answer UNIMPLEMENTED.

    HTTPStatus is a second service, deprecated as a whole, with a keyword-named rpc.
    """

    def import_(
        self,
        request: empty_pb2.Empty,
        context: grpc.ServicerContext,
    ) -> empty_pb2.Empty:
        """Import is a Python keyword; the method becomes import_."""
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")


class HTTPStatusAsyncServicer:
    """asyncio servicer of acme.echo.v1.HTTPStatus; methods left alone answer UNIMPLEMENTED.

    HTTPStatus is a second service, deprecated as a whole, with a keyword-named rpc.
    """

    async def import_(
        self,
        request: empty_pb2.Empty,
        context: grpc.aio.ServicerContext[empty_pb2.Empty, empty_pb2.Empty],
    ) -> empty_pb2.Empty:
        """Import is a Python keyword; the method becomes import_."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")


def add_http_status_servicer_to_server(
    servicer: HTTPStatusServicer,
    server: grpc.Server,
) -> None:
    """Serve acme.echo.v1.HTTPStatus on `server` with `servicer` (call before server.start())."""
    _register(server, "acme.echo.v1.HTTPStatus", _http_status_handlers(servicer))


def add_http_status_async_servicer_to_server(
    servicer: HTTPStatusAsyncServicer,
    server: grpc.aio.Server,
) -> None:
    """Serve acme.echo.v1.HTTPStatus on `server` with `servicer` (call before server.start())."""
    _register(server, "acme.echo.v1.HTTPStatus", _http_status_handlers(servicer))


def _http_status_handlers(
    servicer: HTTPStatusServicer | HTTPStatusAsyncServicer,
) -> dict[str, grpc.RpcMethodHandler[Any, Any]]:
    """The method handlers of acme.echo.v1.HTTPStatus, by method name, bound to `servicer`."""
    return {
        "Import": grpc.unary_unary_rpc_method_handler(
            servicer.import_,
            request_deserializer=empty_pb2.Empty.FromString,
            response_serializer=empty_pb2.Empty.SerializeToString,
        ),
    }


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


def _requests(requests: Iterable[_T] | AsyncIterable[_T]) -> Iterator[_T] | AsyncIterator[_T]:
    """An iterator over `requests`, which grpc.aio accepts either sync or async."""
    if isinstance(requests, AsyncIterable):
        return aiter(requests)
    return iter(requests)


async def _unimplemented(
    context: grpc.aio.ServicerContext[Any, Any], response_type: type[_T]
) -> tuple[_T, ...]:
    """Abort the call with UNIMPLEMENTED; typed as returning no `response_type` responses so
    that streaming methods can stay async generators without unreachable code."""
    await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")
