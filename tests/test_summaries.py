"""Proto summaries kept in the cache: exact for unchanged bytes, redone for edited ones, and a
corrupt or foreign file is ignored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from protobuild import cache, inputs, resolve, summaries
from protobuild.config import load as load_config
from protobuild.protofile import summarize
from tests.conftest import EXTRA_PROTO, MINIMAL_CONFIG, THING_PROTO, Run

SUMMARIES = Path(".protobuild-cache/summaries.json")
EXTRA = EXTRA_PROTO


@pytest.fixture
def built(two_protos: Path) -> Path:
    return two_protos


def test_recorded_summaries_are_those_of_the_files(built: Path) -> None:
    state = json.loads((built / SUMMARIES).read_text())
    digests = json.loads((built / ".protobuild-cache/state.json").read_text())["protos"]
    config = load_config(built / "Protobuild.toml")
    loaded = summaries.load(config, digests)
    assert set(loaded) == {"acme/v1/thing.proto", "acme/v1/extra.proto"}
    assert len(state["summaries"]) == 2
    for import_path, summary in loaded.items():
        assert summary == summarize((built / "proto" / import_path).read_text())


def _imports_of(plan: resolve.Plan, import_path: str) -> list[tuple[str, int, int]]:
    found = next(f for f in plan.files if f.import_path == import_path)
    return [(i.path, i.line, i.column) for i in found.imports]


def test_resolve_summarises_the_bytes_the_inputs_digest_read(built: Path) -> None:
    config = load_config(built / "Protobuild.toml")
    sources = cache.ProtoSources()
    digested = inputs.keys(config, None, sources)
    thing = built / "proto/acme/v1/thing.proto"
    original = _imports_of(resolve.resolve(config), "acme/v1/thing.proto")
    thing.write_text('import "acme/v1/extra.proto";\n' + THING_PROTO)  # edited meanwhile
    plan = resolve.resolve(config, None, sources)
    assert _imports_of(plan, "acme/v1/thing.proto") == original
    assert (
        digested.protos["acme/v1/thing.proto"] != inputs.keys(config).protos["acme/v1/thing.proto"]
    )
    assert ("acme/v1/extra.proto", 1, 1) in _imports_of(
        resolve.resolve(config), "acme/v1/thing.proto"
    )


@pytest.mark.parametrize("ending", [b"\r\n", b"\r"], ids=["crlf", "cr"])
def test_a_proto_with_other_line_ends_is_summarised_as_with_lf(built: Path, ending: bytes) -> None:
    config = load_config(built / "Protobuild.toml")
    lf = _imports_of(resolve.resolve(config), "acme/v1/thing.proto")
    thing = built / "proto/acme/v1/thing.proto"
    thing.write_bytes(thing.read_bytes().replace(b"\n", ending))
    assert _imports_of(resolve.resolve(config), "acme/v1/thing.proto") == lf


def test_an_edited_proto_is_read_again(built: Path, run: Run) -> None:
    thing = built / "proto/acme/v1/thing.proto"
    thing.write_text(
        THING_PROTO.replace(
            'import "google/protobuf/timestamp.proto";',
            'import "google/protobuf/timestamp.proto";\nimport "acme/v1/extra.proto";',
        ).replace("Timestamp at = 2;", "Timestamp at = 2; Extra extra = 3;")
    )
    assert run("-q").code == 0
    generated = (built / "gen/pkg/acme/v1/thing_pb2.py").read_text()
    assert "from pkg.acme.v1 import extra_pb2" in generated
    result = run("explain", "acme/v1/thing.proto")
    assert "acme/v1/extra.proto" in result.out


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'{"format": 99, "summaries": {}}',
        b'{"format": 1, "summaries": []}',
        b'{"format": 1, "summaries": {"x": [true, [["a.proto", "one", 1, false]]]}}',
    ],
    ids=["corrupt", "foreign", "wrong-shape", "wrong-field"],
)
def test_a_corrupt_or_foreign_file_is_ignored(built: Path, run: Run, content: bytes) -> None:
    (built / SUMMARIES).write_bytes(content)
    (built / "proto/acme/v1/extra.proto").write_text(EXTRA + "message More {}\n")
    assert run("-q").code == 0
    assert run("-q", "check").code == 0
    assert b'"format":1' in (built / SUMMARIES).read_bytes()


def test_shapes_that_are_not_summaries_load_as_nothing() -> None:
    with pytest.raises(TypeError):
        summaries._summary([True, [["a.proto", 1, 1, "yes"]]])
    with pytest.raises(TypeError):
        summaries._summary({"has_services": True})


def test_a_few_edited_protos_in_a_large_tree_are_read_again_not_stored(
    project: Callable[[dict[str, str]], Path], run: Run
) -> None:
    """Storing every summary again costs about as much as reading 16 protos: one edit in a
    large tree is read on each run until enough protos changed."""
    files = {"Protobuild.toml": MINIMAL_CONFIG}
    for index in range(40):
        files[f"proto/acme/v1/p{index:02}.proto"] = _leaf(index)
    root = project(files)
    assert run("-q").code == 0
    stored = (root / SUMMARIES).read_bytes()
    edited = root / "proto/acme/v1/p39.proto"
    edited.write_text(_leaf(39).replace("message", 'import "acme/v1/p00.proto";\nmessage', 1))
    assert run("-q").code == 0
    assert (root / SUMMARIES).read_bytes() == stored
    assert "from pkg.acme.v1 import p00_pb2" in (root / "gen/pkg/acme/v1/p39_pb2.py").read_text()
    assert run("-q", "check").code == 0
    for index in range(3):  # three more edited protos: now worth storing
        (root / f"proto/acme/v1/p{index:02}.proto").write_text(
            _leaf(index) + f"message M{index} {{}}\n"
        )
    assert run("-q").code == 0
    assert (root / SUMMARIES).read_bytes() != stored


def _leaf(index: int) -> str:
    return f'syntax = "proto3";\npackage acme.v1;\nmessage P{index:02} {{ int32 n = 1; }}\n'
