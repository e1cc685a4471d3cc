"""descriptors.snapshot and merge: selection by prefix and exclude, determinism, source info."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, text_format

from protobuild.breaking import compare, load_descriptor_set
from protobuild.descriptors import DescriptorError, merge, snapshot, under
from tests.breaking import build

FDS = descriptor_pb2.FileDescriptorSet
TREE = {
    "acme/v1/a.proto": 'syntax = "proto3";\npackage acme.v1;\nmessage A { string id = 1; }\n',
    "acme/v1/sub/b.proto": (
        'syntax = "proto3";\npackage acme.v1.sub;\nimport "acme/v1/a.proto";\n'
        'import "google/protobuf/timestamp.proto";\n'
        "message B { acme.v1.A a = 1; google.protobuf.Timestamp at = 2; }\n"
    ),
    "acme/v10/c.proto": 'syntax = "proto3";\npackage acme.v10;\nmessage C {}\n',
    "other/d.proto": 'syntax = "proto3";\npackage other;\nimport "acme/v1/a.proto";\n'
    "message D { acme.v1.A a = 1; }\n",
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> FDS:
    """TREE compiled with imports and source info, as the pipeline's merged set is."""
    root = tmp_path_factory.mktemp("tree")
    for name, text in TREE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return build(root, root / "tree.binpb")


def _names(text: str) -> list[str]:
    return [proto.name for proto in text_format.Parse(text, FDS()).file]


def test_prefix_matches_whole_segments(tree: FDS) -> None:
    assert _names(snapshot(tree, "acme/v1")) == ["acme/v1/a.proto", "acme/v1/sub/b.proto"]
    assert _names(snapshot(tree, "acme/v1/")) == ["acme/v1/a.proto", "acme/v1/sub/b.proto"]
    assert _names(snapshot(tree, "acme/v10")) == ["acme/v10/c.proto"]
    assert _names(snapshot(tree, "acme/v")) == []


def test_empty_prefix_selects_everything_sorted(tree: FDS) -> None:
    assert _names(snapshot(tree, "")) == sorted([*TREE, "google/protobuf/timestamp.proto"])


@pytest.mark.parametrize(
    ("name", "prefix", "expected"),
    [
        ("acme/v1/x.proto", "acme/v1", True),
        ("acme/v1/sub/y.proto", "acme/v1", True),
        ("acme/v10/z.proto", "acme/v1", False),
        ("acme/v1/x.proto", "acme/v1/x.proto", True),
        ("acme/v1/x.proto", "", True),
        ("acme/v1.proto", "acme/v1", False),
    ],
)
def test_under(name: str, prefix: str, expected: bool) -> None:
    assert under(name, prefix) is expected


def test_imports_of_other_prefixes_are_left_out_but_still_listed(tree: FDS) -> None:
    chosen = text_format.Parse(snapshot(tree, "acme/v1/sub"), FDS())
    assert [proto.name for proto in chosen.file] == ["acme/v1/sub/b.proto"]
    assert list(chosen.file[0].dependency) == [
        "acme/v1/a.proto",
        "google/protobuf/timestamp.proto",
    ]


def test_exclude_uses_glob_patterns(tree: FDS) -> None:
    assert _names(snapshot(tree, "acme", exclude=["acme/*/sub/**"])) == [
        "acme/v1/a.proto",
        "acme/v10/c.proto",
    ]
    assert _names(snapshot(tree, "", exclude=["google/**", "**/?.proto"])) == []


def test_same_input_in_any_order_gives_the_same_bytes(tree: FDS) -> None:
    shuffled = list(tree.file)
    random.Random(7).shuffle(shuffled)
    again = FDS(file=shuffled[::-1])
    assert snapshot(tree, "acme") == snapshot(again, "acme") == snapshot(tree, "acme")
    assert snapshot(tree, "", source_info=True) == snapshot(again, "", source_info=True)


def test_source_info_is_stripped_unless_asked_for(tree: FDS) -> None:
    bare = text_format.Parse(snapshot(tree, "acme"), FDS())
    full = text_format.Parse(snapshot(tree, "acme", source_info=True), FDS())
    assert not any(proto.HasField("source_code_info") for proto in bare.file)
    assert all(proto.source_code_info.location for proto in full.file)
    assert "source_code_info" not in snapshot(tree, "acme")


def test_snapshot_round_trips(tree: FDS) -> None:
    parsed = text_format.Parse(snapshot(tree, "", source_info=True), FDS())
    assert sorted(parsed.file, key=lambda p: p.name) == sorted(tree.file, key=lambda p: p.name)


def test_snapshot_leaves_its_input_alone(tree: FDS) -> None:
    snapshot(tree, "acme")
    assert all(proto.HasField("source_code_info") for proto in tree.file)


def test_empty_selection_is_the_empty_set(tree: FDS) -> None:
    assert snapshot(tree, "nothing/here") == ""


def test_merge_collapses_identical_copies(tree: FDS) -> None:
    half = FDS(file=list(tree.file)[:2])
    merged = merge([half, tree])
    assert sorted(p.name for p in merged.file) == sorted(p.name for p in tree.file)


def test_merge_rejects_two_different_files_under_one_name(tree: FDS) -> None:
    changed = FDS()
    changed.CopyFrom(tree)
    changed.file[0].package = "elsewhere"
    with pytest.raises(DescriptorError, match="two different descriptors for"):
        merge([tree, changed])


def test_snapshot_file_reads_back_with_breaking(tree: FDS, tmp_path: Path) -> None:
    (tmp_path / "next.pb.txt").write_text(snapshot(tree, "acme"))
    assert compare(tree, load_descriptor_set(tmp_path / "next.pb.txt")) == []
