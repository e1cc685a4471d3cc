"""Deliberate misuses of the rendered echo services: every marked line must be a mypy error.

tests/test_render.py type-checks this file with `mypy --strict` next to the generated modules
and compares mypy's errors with negative.expected, line for line. The deprecated error code is
off by default in mypy; this file turns it on to show that deprecated rpcs are flagged.
"""

# mypy: enable-error-code="deprecated"

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import grpc
import grpc.aio
from acme.common.v1 import types_pb2
from acme.echo.v1 import echo_pb2, echo_services
from google.protobuf import empty_pb2


def sync_client(client: echo_services.EchoClient) -> None:
    client.say(types_pb2.Page())  # wrong request type
    client.say(echo_pb2.SayRequest(), 5.0)  # timeout is keyword-only
    client.say(echo_pb2.SayRequest(), time_out=5.0)  # no such keyword
    client.say(echo_pb2.SayRequest(), timeout="soon")  # wrong keyword type
    client.say()  # missing request
    client.collect(echo_pb2.SayRequest())  # a client stream takes an iterable
    page: types_pb2.Page = client.say(echo_pb2.SayRequest())  # wrong response type
    first: echo_pb2.SayResponse = client.expand(echo_pb2.SayRequest())  # a stream, not one
    client.ping(empty_pb2.Empty())  # deprecated rpc
    del page, first


async def async_client(client: echo_services.EchoAsyncClient) -> None:
    response: echo_pb2.SayResponse = client.say(echo_pb2.SayRequest())  # not awaited
    for item in client.expand(echo_pb2.SayRequest()):  # an async iterator
        del item
    await client.chat([types_pb2.Page()])  # wrong request type, and not awaitable
    del response


class WrongServicer(echo_services.EchoServicer):
    def say(  # wrong return type
        self, request: echo_pb2.SayRequest, context: grpc.ServicerContext
    ) -> echo_pb2.URLResponse:
        return echo_pb2.URLResponse()

    def expand(  # wrong request type
        self, request: types_pb2.Page, context: grpc.ServicerContext
    ) -> Iterator[echo_pb2.SayResponse]:
        return iter([])


class WrongAsyncServicer(echo_services.EchoAsyncServicer):
    async def chat(  # a plain iterator where grpc.aio gives an async one
        self,
        request_iterator: Iterator[echo_pb2.SayRequest],
        context: grpc.aio.ServicerContext[echo_pb2.SayRequest, echo_pb2.SayResponse],
    ) -> AsyncIterator[echo_pb2.SayResponse]:
        for request in request_iterator:
            yield echo_pb2.SayResponse(message=request.message)


def registration(server: grpc.Server) -> None:
    echo_services.add_echo_servicer_to_server(echo_services.EchoAsyncServicer(), server)
