"""Proto summaries kept between runs, by the digest of each proto's bytes.

Before protoc runs, resolve reads every source proto for its imports (0.2 s for 1,000 protos),
even when a partial rebuild compiles only the one that changed. A summary depends on the
file's bytes alone, so one recorded under the same digest is exact. They live in their own
file of the cache directory, which only runs that resolve read: warm runs never load it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from protobuild import cache
from protobuild.config import Config
from protobuild.protofile import ProtoImport, ProtoSummary

_FILE = "summaries.json"
_FORMAT = 1


def load(config: Config, digests: Mapping[str, str]) -> dict[str, ProtoSummary]:
    """The recorded summaries of the protos in `digests` (import path -> digest of its bytes);
    none at all when the file is missing, corrupt or foreign."""
    try:
        state = json.loads((config.base_dir / cache.DIRECTORY / _FILE).read_bytes())
        if state["format"] != _FORMAT:
            return {}
        recorded = state["summaries"]
        return {path: _summary(recorded[d]) for path, d in digests.items() if d in recorded}
    except (OSError, ValueError, TypeError, KeyError, AttributeError, IndexError):
        return {}


def store(config: Config, summaries: Mapping[str, ProtoSummary]) -> None:
    """Record `summaries` (digest -> summary); a failure to write is ignored."""
    recorded = {digest: _record(summary) for digest, summary in sorted(summaries.items())}
    cache.write_file(config, _FILE, {"format": _FORMAT, "summaries": recorded})


def _record(summary: ProtoSummary) -> list[object]:
    imports = [[i.path, i.line, i.column, i.public] for i in summary.imports]
    return [summary.has_services, imports]


def _summary(value: object) -> ProtoSummary:
    """A recorded summary, checked for shape (TypeError or ValueError if it is not one)."""
    if not isinstance(value, list) or len(value) != 2 or not isinstance(value[1], list):
        raise TypeError("not a recorded summary")
    imports = tuple(_import(item) for item in value[1])
    return ProtoSummary(imports, _boolean(value[0]))


def _import(item: object) -> ProtoImport:
    if not isinstance(item, list) or len(item) != 4:
        raise TypeError("not a recorded import")
    path, line, column, public = item
    if not isinstance(path, str) or not isinstance(line, int) or not isinstance(column, int):
        raise TypeError("not a recorded import")
    return ProtoImport(path, line, column, _boolean(public))


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value
