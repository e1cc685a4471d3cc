"""Every streaming shape of the rendered echo services, synchronous and asyncio, through a real
grpc server on 127.0.0.1.

tests/test_render.py imports this module next to the generated code and calls `main()`, and
type-checks it with `mypy --strict` together with the generated modules: it must pass both.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
import grpc.aio
from acme.common.v1 import types_pb2
from acme.echo.v1 import echo_pb2, echo_services
from google.protobuf import empty_pb2, timestamp_pb2

URL = "grpc://echo.acme"


def _words(request: echo_pb2.SayRequest) -> Iterator[echo_pb2.SayResponse]:
    for word in request.message.split():
        yield echo_pb2.SayResponse(message=word)


class Echo(echo_services.EchoServicer):
    """Every rpc but Ping (left UNIMPLEMENTED) implemented synchronously."""

    def say(
        self, request: echo_pb2.SayRequest, context: grpc.ServicerContext
    ) -> echo_pb2.SayResponse:
        suffix = dict(context.invocation_metadata()).get("x-suffix", "")
        return echo_pb2.SayResponse(message=f"{request.message}{suffix!s}")

    def expand(
        self, request: echo_pb2.SayRequest, context: grpc.ServicerContext
    ) -> Iterator[echo_pb2.SayResponse]:
        return _words(request)

    def collect(
        self, request_iterator: Iterator[echo_pb2.SayRequest], context: grpc.ServicerContext
    ) -> echo_pb2.SayResponse:
        return echo_pb2.SayResponse(message=" ".join(r.message for r in request_iterator))

    def chat(
        self, request_iterator: Iterator[echo_pb2.SayRequest], context: grpc.ServicerContext
    ) -> Iterator[echo_pb2.SayResponse]:
        for request in request_iterator:
            yield echo_pb2.SayResponse(message=request.message.upper())

    def get_url(
        self, request: empty_pb2.Empty, context: grpc.ServicerContext
    ) -> echo_pb2.URLResponse:
        return echo_pb2.URLResponse(url=URL)

    def list_(
        self, request: types_pb2.Page, context: grpc.ServicerContext
    ) -> Iterator[types_pb2.Labelled.Kind]:
        for number in range(request.size):
            yield types_pb2.Labelled.Kind(name=f"kind{number}")


class AsyncEcho(echo_services.EchoAsyncServicer):
    """Every rpc but List (left UNIMPLEMENTED) implemented with asyncio."""

    async def say(
        self,
        request: echo_pb2.SayRequest,
        context: grpc.aio.ServicerContext[echo_pb2.SayRequest, echo_pb2.SayResponse],
    ) -> echo_pb2.SayResponse:
        return echo_pb2.SayResponse(message=request.message)

    async def expand(
        self,
        request: echo_pb2.SayRequest,
        context: grpc.aio.ServicerContext[echo_pb2.SayRequest, echo_pb2.SayResponse],
    ) -> AsyncIterator[echo_pb2.SayResponse]:
        for response in _words(request):
            yield response

    async def collect(
        self,
        request_iterator: AsyncIterator[echo_pb2.SayRequest],
        context: grpc.aio.ServicerContext[echo_pb2.SayRequest, echo_pb2.SayResponse],
    ) -> echo_pb2.SayResponse:
        return echo_pb2.SayResponse(message=" ".join([r.message async for r in request_iterator]))

    async def chat(
        self,
        request_iterator: AsyncIterator[echo_pb2.SayRequest],
        context: grpc.aio.ServicerContext[echo_pb2.SayRequest, echo_pb2.SayResponse],
    ) -> AsyncIterator[echo_pb2.SayResponse]:
        async for request in request_iterator:
            yield echo_pb2.SayResponse(message=request.message.upper())

    async def get_url(
        self,
        request: empty_pb2.Empty,
        context: grpc.aio.ServicerContext[empty_pb2.Empty, echo_pb2.URLResponse],
    ) -> echo_pb2.URLResponse:
        return echo_pb2.URLResponse(url=URL)

    async def ping(
        self,
        request: empty_pb2.Empty,
        context: grpc.aio.ServicerContext[empty_pb2.Empty, timestamp_pb2.Timestamp],
    ) -> timestamp_pb2.Timestamp:
        return timestamp_pb2.Timestamp(seconds=1)


def _requests(*messages: str) -> list[echo_pb2.SayRequest]:
    return [echo_pb2.SayRequest(message=message) for message in messages]


async def _async_requests(*messages: str) -> AsyncIterator[echo_pb2.SayRequest]:
    for request in _requests(*messages):
        yield request


def check_sync(client: echo_services.EchoClient, status: echo_services.HTTPStatusClient) -> None:
    """Each shape once, metadata and a deadline passed, and the UNIMPLEMENTED defaults."""
    hello = echo_pb2.SayRequest(message="hello world")
    said = client.say(hello, timeout=10, metadata=[("x-suffix", "!")], wait_for_ready=True)
    assert said.message == "hello world!", said
    assert [r.message for r in client.expand(hello)] == ["hello", "world"]
    stream = client.expand(hello)  # the responses, and the call: read one, cancel the rest
    assert next(stream).message == "hello"
    assert stream.cancel()
    assert stream.code() == grpc.StatusCode.CANCELLED
    assert client.collect(_requests("a", "b")).message == "a b"
    assert [r.message for r in client.chat(iter(_requests("x", "y")))] == ["X", "Y"]
    assert client.get_url(empty_pb2.Empty(), compression=grpc.Compression.Gzip).url == URL
    assert [k.name for k in client.list_(types_pb2.Page(size=2))] == ["kind0", "kind1"]
    _expect_unimplemented(lambda: client.ping(empty_pb2.Empty()))
    _expect_unimplemented(lambda: status.import_(empty_pb2.Empty()))


def _expect_unimplemented(call: Callable[[], object]) -> None:
    """`call` fails with UNIMPLEMENTED, warning that its rpc is deprecated."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call()
        except grpc.RpcError as error:
            code = error.code()
        else:
            code = grpc.StatusCode.OK
    assert code == grpc.StatusCode.UNIMPLEMENTED, code
    assert any(issubclass(w.category, DeprecationWarning) for w in caught), caught


async def check_async(
    client: echo_services.EchoAsyncClient, status: echo_services.HTTPStatusAsyncClient
) -> None:
    """Each shape once (streams fed sync and async), and the UNIMPLEMENTED defaults."""
    hello = echo_pb2.SayRequest(message="hello world")
    assert (await client.say(hello, timeout=10, metadata=[("x-a", "b")])).message == "hello world"
    assert [r.message async for r in client.expand(hello)] == ["hello", "world"]
    await _cancel_after_the_first(client.expand(hello))
    assert (await client.collect(_requests("a", "b"))).message == "a b"
    assert (await client.collect(_async_requests("c", "d"))).message == "c d"
    assert [r.message async for r in client.chat(_async_requests("x", "y"))] == ["X", "Y"]
    assert [r.message async for r in client.chat(_requests("z"))] == ["Z"]
    assert (await client.get_url(empty_pb2.Empty())).url == URL
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert (await client.ping(empty_pb2.Empty())).seconds == 1
        await _expect_async_unimplemented(status.import_(empty_pb2.Empty()))
    await _expect_async_unimplemented(_drain(client.list_(types_pb2.Page(size=1))))


async def _cancel_after_the_first(
    call: grpc.aio.UnaryStreamCall[Any, echo_pb2.SayResponse],
) -> None:
    """A stream is its call: read one response, then cancel the rest (a call that is only
    dropped goes on)."""
    first = await call.read()
    assert isinstance(first, echo_pb2.SayResponse), first
    assert first.message == "hello"
    assert call.cancel()
    assert await call.code() == grpc.StatusCode.CANCELLED


async def _drain(responses: AsyncIterable[object]) -> None:
    async for _ in responses:
        pass


async def _expect_async_unimplemented(call: Awaitable[object]) -> None:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        code = error.code()
    else:
        code = grpc.StatusCode.OK
    assert code == grpc.StatusCode.UNIMPLEMENTED, code


def run_sync() -> None:
    """Serve Echo and the default HTTPStatus servicer, and call them synchronously."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    echo_services.add_echo_servicer_to_server(Echo(), server)
    echo_services.add_http_status_servicer_to_server(echo_services.HTTPStatusServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            check_sync(echo_services.EchoClient(channel), echo_services.HTTPStatusClient(channel))
    finally:
        server.stop(None)


async def run_async() -> None:
    """Serve AsyncEcho and the default HTTPStatus servicer, and call them with asyncio."""
    server = grpc.aio.server()
    echo_services.add_echo_async_servicer_to_server(AsyncEcho(), server)
    default = echo_services.HTTPStatusAsyncServicer()
    echo_services.add_http_status_async_servicer_to_server(default, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            client = echo_services.EchoAsyncClient(channel)
            await check_async(client, echo_services.HTTPStatusAsyncClient(channel))
    finally:
        await server.stop(None)


def main() -> None:
    """Run the synchronous, then the asyncio round trips; an AssertionError on any mismatch."""
    run_sync()
    asyncio.run(run_async())


if __name__ == "__main__":
    main()
