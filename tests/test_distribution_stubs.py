"""mypy-protobuf's `Enum.ValueType` for enums whose stubs are protoc's (distributions such as
googleapis-common-protos): rewritten to the enum class, and nothing else touched. The whole
path, with mypy --strict over the result, is tests/cases/googleapis (test_golden)."""

from __future__ import annotations

import pytest

from protobuild.distribution_stubs import retyped

ENUMS = {
    "google.rpc.code_pb2": frozenset({"Code"}),
    "google.api.metric_pb2": frozenset(
        {"MetricDescriptor.MetricKind", "MetricDescriptor.ValueType"}
    ),
}


@pytest.mark.parametrize(
    ("stub", "expected"),
    [
        (
            "from google.rpc import code_pb2 as _code_pb2\nx: _code_pb2.Code.ValueType\n",
            "from google.rpc import code_pb2 as _code_pb2\nx: _code_pb2.Code\n",
        ),
        (
            "import google.api.metric_pb2 as m\n"
            "k: m.MetricDescriptor.MetricKind.ValueType\n"
            "v: m.MetricDescriptor.ValueType.ValueType\n",
            "import google.api.metric_pb2 as m\n"
            "k: m.MetricDescriptor.MetricKind\n"
            "v: m.MetricDescriptor.ValueType\n",
        ),
        (  # readable_stubs: the module by its own name
            "import google.rpc.code_pb2\nx: list[google.rpc.code_pb2.Code.ValueType]\n",
            "import google.rpc.code_pb2\nx: list[google.rpc.code_pb2.Code]\n",
        ),
    ],
    ids=["aliased", "nested", "readable"],
)
def test_enums_of_protoc_stubs_are_typed_as_their_class(stub: str, expected: str) -> None:
    assert retyped(stub, ENUMS) == expected


@pytest.mark.parametrize(
    "stub",
    [
        # an enum of ours, or of a module whose stubs are mypy-protobuf's
        "from acme import kinds_pb2 as _kinds_pb2\nx: _kinds_pb2.Kind.ValueType\n",
        # a name of the module that is not one of its enums
        "from google.rpc import code_pb2 as _code_pb2\nx: _code_pb2.Other.ValueType\n",
        # an alias that only ends like one of the module's
        "from google.rpc import code_pb2 as _code_pb2\nx: my_code_pb2.Code.ValueType\n",
    ],
    ids=["other-module", "not-an-enum", "longer-name"],
)
def test_other_names_are_left_alone(stub: str) -> None:
    assert retyped(stub, ENUMS) == stub
