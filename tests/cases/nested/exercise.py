"""Import the generated tree and use it: messages, well-known types, pickling, a real server."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from concurrent import futures

import grpc
from google.protobuf import empty_pb2
from shop.api.acme.common.v1 import money_pb2
from shop.api.acme.orders.v1 import order_pb2, orders_service_pb2, orders_service_pb2_grpc
from shop.api.acme.orders.v1.internal import audit_pb2


class Orders(orders_service_pb2_grpc.OrdersServicer):
    def GetOrder(
        self, request: orders_service_pb2.GetOrderRequest, context: grpc.ServicerContext
    ) -> order_pb2.Order:
        return order_pb2.Order(id=request.id, state=order_pb2.Order.STATE_OPEN)

    def ListOrders(
        self, request: empty_pb2.Empty, context: grpc.ServicerContext
    ) -> Iterator[order_pb2.Order]:
        for number in range(3):
            yield order_pb2.Order(id=str(number))

    def Import(
        self, request_iterator: Iterator[order_pb2.Order], context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        self.imported = [order.id for order in request_iterator]
        return empty_pb2.Empty()

    def Sync(
        self,
        request_iterator: Iterator[orders_service_pb2.UpdateOrderRequest],
        context: grpc.ServicerContext,
    ) -> Iterator[order_pb2.Order]:
        for update in request_iterator:
            yield update.order


def main() -> None:
    order = order_pb2.Order(id="o-1", credit=money_pb2.Money(currency="EUR", units=5))
    order.lines.add(sku="s", quantity=2, price=money_pb2.Money(currency="EUR", units=1))
    order.labels["team"] = "a"
    order.created_at.FromSeconds(1_700_000_000)
    order.extensions.add().Pack(money_pb2.Money(units=7))
    order.last_audit.CopyFrom(audit_pb2.AuditEntry(actor="me"))
    assert order.WhichOneof("payment") == "credit"
    assert type(order).__module__ == "shop.api.acme.orders.v1.order_pb2"
    again = pickle.loads(pickle.dumps(order))
    assert again == order
    assert order_pb2.Order.FromString(order.SerializeToString()) == order
    unpacked = money_pb2.Money()
    assert order.extensions[0].Unpack(unpacked)
    assert unpacked.units == 7
    assert order_pb2.DESCRIPTOR.name == "acme/orders/v1/order.proto"
    serve_and_call()
    print("nested: ok")


def serve_and_call() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = Orders()
    orders_service_pb2_grpc.add_OrdersServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = orders_service_pb2_grpc.OrdersStub(channel)
            reply = stub.GetOrder(orders_service_pb2.GetOrderRequest(id="x"), timeout=10)
            assert reply.id == "x"
            assert reply.state == order_pb2.Order.STATE_OPEN
            ids = [o.id for o in stub.ListOrders(empty_pb2.Empty(), timeout=10)]
            assert ids == ["0", "1", "2"]
            stub.Import(iter([order_pb2.Order(id="a"), order_pb2.Order(id="b")]), timeout=10)
            assert servicer.imported == ["a", "b"]
            updates = [orders_service_pb2.UpdateOrderRequest(order=order_pb2.Order(id="u"))]
            assert [o.id for o in stub.Sync(iter(updates), timeout=10)] == ["u"]
    finally:
        server.stop(None)


if __name__ == "__main__":
    main()
