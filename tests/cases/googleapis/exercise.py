"""The generated code imports googleapis-common-protos' own modules, not copies."""

from __future__ import annotations

import pickle
from collections.abc import Sequence

from calendar_api.acme.calendar.v1 import calendar_pb2
from google.api import annotations_pb2, field_behavior_pb2, http_pb2, metric_pb2
from google.rpc import code_pb2
from google.type import date_pb2, dayofweek_pb2


def main() -> None:
    event = calendar_pb2.Event(name="e", day=date_pb2.Date(year=2026, month=11, day=27))
    assert pickle.loads(pickle.dumps(event)) == event
    # The distribution's enums, typed as its own (protoc's) stubs type them: mypy checks this.
    event.last_code = code_pb2.NOT_FOUND
    event.kind = metric_pb2.MetricDescriptor.GAUGE
    event.value_type = metric_pb2.MetricDescriptor.ValueType.INT64
    event.days.append(dayofweek_pb2.MONDAY)
    event.codes["x"] = code_pb2.OK
    assert (event.last_code, list(event.days), event.codes["x"]) == (5, [1], 0)
    assert "site-packages" in str(annotations_pb2.__file__)
    method = calendar_pb2.DESCRIPTOR.services_by_name["Calendar"].methods_by_name["GetEvent"]
    # googleapis-common-protos' stubs are protoc's own .pyi, which declare extensions as plain
    # FieldDescriptors; types-protobuf's Extensions[] wants typed ones, hence the two ignores.
    rule: http_pb2.HttpRule = method.GetOptions().Extensions[annotations_pb2.http]  # type: ignore[index]
    assert rule.get == "/v1/{name=events/*}"
    field = calendar_pb2.Event.DESCRIPTOR.fields_by_name["name"]
    behaviors: Sequence[int] = field.GetOptions().Extensions[field_behavior_pb2.field_behavior]  # type: ignore[index]
    assert list(behaviors) == [field_behavior_pb2.REQUIRED]
    print("googleapis: ok")


if __name__ == "__main__":
    main()
