"""breaking.compare on before/after pairs (tests/breaking/<case>/), formats, ignores, loading.

Each pair is compiled with the bundled protoc, the current side with source info, as the
`protobuild breaking` command does. The same pairs go through `buf breaking` where buf is
installed (the buf-bin package), which must agree on which pairs break and why.
"""

# The expectation table holds whole messages, longer than a line.
# ruff: noqa: E501

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from protobuild import descriptors
from protobuild.breaking import (
    RULES,
    BreakingError,
    Finding,
    Ignore,
    compare,
    format_findings,
    load_descriptor_set,
)
from tests.breaking import BASE, build_case, case_names

Sets = dict[str, tuple[descriptor_pb2.FileDescriptorSet, descriptor_pb2.FileDescriptorSet]]
API = "acme/v1/api.proto"

# case -> every finding as (rule, "path:line:column", message), in compare's order.
EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "additions_only": [],
    "enum_no_delete": [
        (
            "ENUM_NO_DELETE",
            "acme/v1/api.proto:3:1",
            'Previously present enum "Color" was deleted from file.',
        ),
    ],
    "enum_value_no_delete": [
        (
            "ENUM_VALUE_NO_DELETE",
            "acme/v1/api.proto:24:1",
            'Previously present enum value "2" ("COLOR_BLUE") on enum "Color" was deleted.',
        ),
    ],
    "enum_value_no_delete_unless_number_reserved": [
        (
            "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED",
            "acme/v1/api.proto:24:1",
            'Previously present enum value "2" ("COLOR_BLUE") on enum "Color" was deleted without reserving the number "2".',
        ),
    ],
    "enum_value_same_name": [
        (
            "ENUM_VALUE_SAME_NAME",
            "acme/v1/api.proto:27:3",
            'Enum value "2" on enum "Color" changed name from "COLOR_BLUE" to "COLOR_CYAN".',
        ),
    ],
    "field_into_oneof": [
        (
            "FIELD_SAME_CARDINALITY",
            "acme/v1/api.proto:12:5",
            'Field "7" with name "note" on message "Thing" changed cardinality from "optional with implicit presence" to "optional with explicit presence".',
        ),
        (
            "FIELD_SAME_ONEOF",
            "acme/v1/api.proto:12:5",
            'Field "7" with name "note" on message "Thing" moved from outside of any oneof to inside oneof "kind".',
        ),
    ],
    "field_no_delete": [
        (
            "FIELD_NO_DELETE",
            "acme/v1/api.proto:5:1",
            'Previously present field "7" with name "note" on message "Thing" was deleted.',
        ),
    ],
    "field_no_delete_unless_number_reserved": [
        (
            "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED",
            "acme/v1/api.proto:5:1",
            'Previously present field "7" with name "note" on message "Thing" was deleted without reserving the number "7".',
        ),
    ],
    "field_out_of_oneof": [
        (
            "FIELD_SAME_CARDINALITY",
            "acme/v1/api.proto:14:3",
            'Field "5" with name "blob" on message "Thing" changed cardinality from "optional with explicit presence" to "optional with implicit presence".',
        ),
        (
            "FIELD_SAME_ONEOF",
            "acme/v1/api.proto:14:3",
            'Field "5" with name "blob" on message "Thing" moved from inside oneof "kind" to outside of any oneof.',
        ),
    ],
    "field_reused": [
        (
            "FIELD_SAME_JSON_NAME",
            "acme/v1/api.proto:14:3",
            'Field "7" with name "note" on message "Thing" changed json_name from "note" to "count".',
        ),
        (
            "FIELD_SAME_TYPE",
            "acme/v1/api.proto:14:3",
            'Field "7" with name "note" on message "Thing" changed type from "string" to "int64".',
        ),
        (
            "FIELD_SAME_NAME",
            "acme/v1/api.proto:14:9",
            'Field "7" with name "note" on message "Thing" changed name from "note" to "count".',
        ),
    ],
    "field_same_cardinality": [
        (
            "FIELD_SAME_CARDINALITY",
            "acme/v1/api.proto:14:3",
            'Field "7" with name "note" on message "Thing" changed cardinality from "optional with implicit presence" to "repeated".',
        ),
    ],
    "field_same_json_name": [
        (
            "FIELD_SAME_JSON_NAME",
            "acme/v1/api.proto:14:32",
            'Field "7" with name "note" on message "Thing" changed json_name from "note" to "remark".',
        ),
    ],
    "field_same_message_type": [
        (
            "FIELD_SAME_TYPE",
            "acme/v1/api.proto:13:3",
            'Field "6" with name "part" on message "Thing" changed type from "acme.v1.Thing.Part" to "acme.v1.GetRequest".',
        ),
    ],
    "field_same_name": [
        (
            "FIELD_SAME_NAME",
            "acme/v1/api.proto:14:10",
            'Field "7" with name "note" on message "Thing" changed name from "note" to "remark".',
        ),
    ],
    "field_same_number": [
        (
            "FIELD_SAME_NUMBER",
            "acme/v1/api.proto:14:17",
            'Field "7" with name "note" on message "Thing" changed number from "7" to "8".',
        ),
    ],
    "field_same_presence": [
        (
            "FIELD_SAME_CARDINALITY",
            "acme/v1/api.proto:7:3",
            'Field "2" with name "size" on message "Thing" changed cardinality from "optional with implicit presence" to "optional with explicit presence".',
        ),
    ],
    "field_same_presence_edition": [
        (
            "FIELD_SAME_CARDINALITY",
            "acme/v1/edition.proto:6:3",
            'Field "1" with name "count" on message "Edition" changed cardinality from "optional with implicit presence" to "optional with explicit presence".',
        ),
    ],
    "field_same_presence_feature": [
        (
            "FIELD_SAME_CARDINALITY",
            "acme/v1/edition.proto:6:3",
            'Field "1" with name "count" on message "Edition" changed cardinality from "optional with implicit presence" to "optional with explicit presence".',
        ),
        (
            "FIELD_SAME_CARDINALITY",
            "acme/v1/edition.proto:8:3",
            'Field "3" with name "offset" on message "Edition" changed cardinality from "required" to "optional with explicit presence".',
        ),
        (
            "FIELD_SAME_CARDINALITY",
            "acme/v1/edition.proto:13:5",
            'Field "1" with name "id" on message "Edition.Part" changed cardinality from "optional with implicit presence" to "optional with explicit presence".',
        ),
    ],
    "field_same_type": [
        (
            "FIELD_SAME_TYPE",
            "acme/v1/api.proto:7:3",
            'Field "2" with name "size" on message "Thing" changed type from "int32" to "int64".',
        ),
    ],
    "field_same_type_delimited": [
        (
            "FIELD_SAME_TYPE",
            "acme/v1/edition.proto:6:3",
            'Field "1" with name "part" on message "Edition" changed type from "message (delimited encoding)" to "message".',
        ),
    ],
    "field_same_type_group": [
        (
            "FIELD_SAME_TYPE",
            "acme/v1/legacy.proto:6:12",
            'Field "1" with name "part" on message "Legacy" changed type from "group" to "message".',
        ),
    ],
    "file_no_delete": [
        (
            "FILE_NO_DELETE",
            "acme/v1/other.proto:0:0",
            'Previously present file "acme/v1/other.proto" was deleted.',
        ),
    ],
    "file_renamed": [
        (
            "FILE_NO_DELETE",
            "acme/v1/other.proto:0:0",
            'Previously present file "acme/v1/other.proto" was deleted.',
        ),
    ],
    "file_same_package": [
        (
            "FILE_SAME_PACKAGE",
            "acme/v1/other.proto:3:1",
            'File package changed from "acme.v1" to "acme.v1beta".',
        ),
    ],
    "message_no_delete": [
        (
            "MESSAGE_NO_DELETE",
            "acme/v1/api.proto:3:1",
            'Previously present message "Note" was deleted from file.',
        ),
    ],
    "nested_message_no_delete": [
        (
            "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED",
            "acme/v1/api.proto:5:1",
            'Previously present field "6" with name "part" on message "Thing" was deleted without reserving the number "6".',
        ),
        (
            "MESSAGE_NO_DELETE",
            "acme/v1/api.proto:5:1",
            'Previously present message "Thing.Part" was deleted from file.',
        ),
    ],
    "oneof_no_delete": [
        (
            "ONEOF_NO_DELETE",
            "acme/v1/api.proto:5:1",
            'Previously present oneof "kind" on message "Thing" was deleted.',
        ),
        (
            "FIELD_SAME_CARDINALITY",
            "acme/v1/api.proto:9:3",
            'Field "4" with name "text" on message "Thing" changed cardinality from "optional with explicit presence" to "optional with implicit presence".',
        ),
        (
            "FIELD_SAME_ONEOF",
            "acme/v1/api.proto:9:3",
            'Field "4" with name "text" on message "Thing" moved from inside oneof "kind" to outside of any oneof.',
        ),
        (
            "FIELD_SAME_CARDINALITY",
            "acme/v1/api.proto:10:3",
            'Field "5" with name "blob" on message "Thing" changed cardinality from "optional with explicit presence" to "optional with implicit presence".',
        ),
        (
            "FIELD_SAME_ONEOF",
            "acme/v1/api.proto:10:3",
            'Field "5" with name "blob" on message "Thing" moved from inside oneof "kind" to outside of any oneof.',
        ),
    ],
    "package_no_delete": [
        (
            "FILE_SAME_PACKAGE",
            "acme/other/v1/other.proto:3:1",
            'File package changed from "acme.other.v1" to "acme.other.v2".',
        ),
        (
            "PACKAGE_NO_DELETE",
            "acme/other/v1/other.proto:3:1",
            'Previously present package "acme.other.v1" was deleted.',
        ),
    ],
    "reserved_enum_no_delete": [
        (
            "RESERVED_ENUM_NO_DELETE",
            "acme/v1/api.proto:24:1",
            'Previously present reserved name "COLOR_GREEN" on enum "Color" was deleted.',
        ),
    ],
    "reserved_enum_no_reuse": [
        (
            "RESERVED_ENUM_NO_DELETE",
            "acme/v1/api.proto:24:1",
            'Previously present reserved name "COLOR_GREEN" on enum "Color" was deleted.',
        ),
        (
            "RESERVED_ENUM_NO_DELETE",
            "acme/v1/api.proto:24:1",
            'Previously present reserved range "7 to 7" on enum "Color" was deleted.',
        ),
        (
            "RESERVED_ENUM_NO_REUSE",
            "acme/v1/api.proto:28:3",
            'Enum value "7" with name "COLOR_GREEN" on enum "Color" uses a number or name reserved in the previous version.',
        ),
    ],
    "reserved_message_no_delete": [
        (
            "RESERVED_MESSAGE_NO_DELETE",
            "acme/v1/api.proto:5:1",
            'Previously present reserved range "9 to 11" on message "Thing" was deleted.',
        ),
    ],
    "reserved_message_no_reuse": [
        (
            "RESERVED_MESSAGE_NO_DELETE",
            "acme/v1/api.proto:5:1",
            'Previously present reserved name "legacy" on message "Thing" was deleted.',
        ),
        (
            "RESERVED_MESSAGE_NO_DELETE",
            "acme/v1/api.proto:5:1",
            'Previously present reserved range "9 to 11" on message "Thing" was deleted.',
        ),
        (
            "RESERVED_MESSAGE_NO_REUSE",
            "acme/v1/api.proto:21:3",
            'Field "10" with name "legacy" on message "Thing" uses a number or name reserved in the previous version.',
        ),
    ],
    "rpc_no_delete": [
        (
            "RPC_NO_DELETE",
            "acme/v1/api.proto:40:1",
            'Previously present RPC "Watch" on service "Things" was deleted.',
        ),
    ],
    "rpc_same_client_streaming": [
        (
            "RPC_SAME_CLIENT_STREAMING",
            "acme/v1/api.proto:41:11",
            'RPC "Get" on service "Things" changed client streaming from unary to streaming.',
        ),
    ],
    "rpc_same_request_type": [
        (
            "RPC_SAME_REQUEST_TYPE",
            "acme/v1/api.proto:46:13",
            'RPC "Reset" on service "Admin" changed request type from "acme.v1.GetRequest" to "acme.v1.GetResponse".',
        ),
    ],
    "rpc_same_response_type": [
        (
            "RPC_SAME_RESPONSE_TYPE",
            "acme/v1/api.proto:46:34",
            'RPC "Reset" on service "Admin" changed response type from "acme.v1.GetRequest" to "acme.v1.GetResponse".',
        ),
    ],
    "rpc_same_server_streaming": [
        (
            "RPC_SAME_SERVER_STREAMING",
            "acme/v1/api.proto:42:3",
            'RPC "Watch" on service "Things" changed server streaming from streaming to unary.',
        ),
    ],
    "service_no_delete": [
        (
            "SERVICE_NO_DELETE",
            "acme/v1/api.proto:3:1",
            'Previously present service "Admin" was deleted from file.',
        ),
    ],
}

# Our rules that buf names differently in its FILE category (None: buf has no such rule).
BUF_NAME: dict[str, str | None] = {
    "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED": "FIELD_NO_DELETE",
    "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED": "ENUM_VALUE_NO_DELETE",
    "FIELD_SAME_NUMBER": "FIELD_NO_DELETE",  # buf sees the old number deleted
    "RESERVED_MESSAGE_NO_REUSE": None,
    "RESERVED_ENUM_NO_REUSE": None,
}
BUF_CONFIG = json.dumps({"version": "v2", "breaking": {"use": ["FILE", "PACKAGE"]}})


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> Sets:
    """Every pair compiled once: case -> (before, after)."""
    out = tmp_path_factory.mktemp("sets")
    return {
        case: (build_case(case, "before", out), build_case(case, "after", out)) for case in EXPECTED
    }


def _shown(finding: Finding) -> tuple[str, str, str]:
    return finding.rule, f"{finding.path}:{finding.line}:{finding.column}", finding.message


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_pair(case: str, sets: Sets) -> None:
    before, after = sets[case]
    assert [_shown(f) for f in compare(after, before)] == EXPECTED[case]


def test_every_pair_has_expectations() -> None:
    assert case_names() == sorted(EXPECTED)


def test_every_rule_has_a_pair() -> None:
    covered = {rule for findings in EXPECTED.values() for rule, _, _ in findings}
    assert covered == set(RULES)


def test_unchanged_set_has_no_findings(sets: Sets) -> None:
    before, _ = sets["additions_only"]
    assert compare(before, before) == []


def test_reverse_of_additions_is_all_deletions(sets: Sets) -> None:
    # Additions are silent; the same change backwards must not be.
    before, after = sets["additions_only"]
    rules = {f.rule for f in compare(before, after)}
    assert {"FILE_NO_DELETE", "SERVICE_NO_DELETE", "RPC_NO_DELETE"} <= rules


def test_ignore_switches_a_rule_off_for_matching_files(sets: Sets) -> None:
    before, after = sets["field_reused"]
    ignore = Ignore("FIELD_SAME_JSON_NAME", ("acme/**",), reason="JSON is not served")
    assert [f.rule for f in compare(after, before, [ignore])] == [
        "FIELD_SAME_TYPE",
        "FIELD_SAME_NAME",
    ]


def test_ignore_for_other_files_keeps_findings(sets: Sets) -> None:
    before, after = sets["field_same_json_name"]
    ignore = Ignore("FIELD_SAME_JSON_NAME", ("legacy/**", "acme/v1/*.txt"), reason="legacy")
    assert [f.rule for f in compare(after, before, [ignore])] == ["FIELD_SAME_JSON_NAME"]


def test_ignore_of_an_unknown_rule_is_an_error(sets: Sets) -> None:
    before, after = sets["field_same_json_name"]
    with pytest.raises(BreakingError, match="unknown breaking rule 'FIELD_SAME_JSON'"):
        compare(after, before, [Ignore("FIELD_SAME_JSON", ("**",), reason="typo")])


def test_without_source_info_findings_have_no_line(sets: Sets) -> None:
    before, after = sets["field_same_type"]
    bare = descriptor_pb2.FileDescriptorSet()
    bare.CopyFrom(after)
    for proto in bare.file:
        proto.ClearField("source_code_info")
    assert [(f.line, f.column) for f in compare(bare, before)] == [(0, 0)]


def test_well_known_types_are_not_compared(sets: Sets) -> None:
    before, after = sets["additions_only"]
    with_wkt = descriptor_pb2.FileDescriptorSet()
    with_wkt.CopyFrom(before)
    with_wkt.file.add(name="google/protobuf/empty.proto", package="google.protobuf")
    assert compare(after, with_wkt) == []


FINDINGS = [
    Finding("FIELD_SAME_TYPE", 'Field "2" changed type from "int32" to "int64".', API, 7, 3),
    Finding(
        "FILE_NO_DELETE", 'Previously present file "a,b:c.proto" was deleted.', "a,b:c.proto", 0, 0
    ),
]


def _real(import_path: str) -> str:
    return f"protos/{import_path}"


def test_format_text() -> None:
    assert format_findings(FINDINGS, "text", _real) == (
        'protos/acme/v1/api.proto:7:3: Field "2" changed type from "int32" to "int64". (FIELD_SAME_TYPE)\n'
        'protos/a,b:c.proto: Previously present file "a,b:c.proto" was deleted. (FILE_NO_DELETE)\n'
    )


def test_format_json() -> None:
    rows = json.loads(format_findings(FINDINGS, "json", _real))
    assert rows[0] == {
        "rule": "FIELD_SAME_TYPE",
        "message": 'Field "2" changed type from "int32" to "int64".',
        "path": "protos/acme/v1/api.proto",
        "line": 7,
        "column": 3,
    }
    assert [row["path"] for row in rows] == ["protos/acme/v1/api.proto", "protos/a,b:c.proto"]


def test_format_github() -> None:
    assert format_findings(FINDINGS, "github", _real) == (
        "::error file=protos/acme/v1/api.proto,line=7,col=3,title=FIELD_SAME_TYPE::"
        'Field "2" changed type from "int32" to "int64".\n'
        "::error file=protos/a%2Cb%3Ac.proto,title=FILE_NO_DELETE::"
        'Previously present file "a,b:c.proto" was deleted.\n'
    )


def test_format_nothing() -> None:
    assert format_findings([], "text", _real) == ""
    assert format_findings([], "github", _real) == ""
    assert format_findings([], "json", _real) == "[]\n"


def test_load_text_snapshot_compares_like_the_binary(sets: Sets, tmp_path: Path) -> None:
    before, after = sets["field_same_type"]
    (tmp_path / "api.pb.txt").write_text(descriptors.snapshot(before, "acme"))
    against = load_descriptor_set(tmp_path / "api.pb.txt")
    assert compare(after, against) == compare(after, before)


def test_load_binary(sets: Sets, tmp_path: Path) -> None:
    before, _ = sets["file_no_delete"]
    (tmp_path / "api.binpb").write_bytes(before.SerializeToString())
    assert load_descriptor_set(tmp_path / "api.binpb") == before


@pytest.mark.parametrize("garbage", [b"file { name: ", b"\xff\xfe\x00garbage", b"hello world"])
def test_load_garbage_names_the_file(tmp_path: Path, garbage: bytes) -> None:
    path = tmp_path / "broken.pb.txt"
    path.write_bytes(garbage)
    with pytest.raises(BreakingError) as raised:
        load_descriptor_set(path)
    assert str(raised.value).startswith(f"{path}: not a FileDescriptorSet in binary or text format")


def test_load_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(BreakingError, match=r"missing\.binpb: cannot read descriptor set"):
        load_descriptor_set(tmp_path / "missing.binpb")


def _buf() -> str:
    found = shutil.which("buf") or str(Path(sys.executable).with_name("buf"))
    if not Path(found).is_file():
        pytest.skip("buf is not installed: pip install buf-bin")
    return found


def _buf_rules(buf: str, before: Path, after: Path) -> set[str]:
    argv = [buf, "breaking", str(after), "--against", str(before), "--error-format", "json"]
    done = subprocess.run([*argv, "--config", BUF_CONFIG], capture_output=True, text=True)
    assert done.returncode in (0, 100), done.stderr
    return {json.loads(line)["type"] for line in done.stdout.splitlines() if line.strip()}


def test_buf_agrees(tmp_path_factory: pytest.TempPathFactory, sets: Sets) -> None:
    """For the rules both tools have, buf breaks the same pairs for the same reasons."""
    buf = _buf()
    out = tmp_path_factory.mktemp("buf")
    ours = {name: BUF_NAME.get(name, name) for name in RULES}
    shared = {name for name in ours.values() if name is not None}
    for case, (before, after) in sorted(sets.items()):
        (out / "before.binpb").write_bytes(before.SerializeToString())
        (out / "after.binpb").write_bytes(after.SerializeToString())
        theirs = _buf_rules(buf, out / "before.binpb", out / "after.binpb")
        mine = {ours[f.rule] for f in compare(after, before)} - {None}
        assert (case, mine) == (case, theirs & shared)
        assert bool(theirs) == bool(EXPECTED[case]), case


def test_buf_image_imports_are_left_out(tmp_path: Path) -> None:
    buf = _buf()
    root = BASE
    argv = [buf, "build", str(root), "-o", str(tmp_path / "image.binpb")]
    done = subprocess.run([*argv, "--path", str(root / API)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    names = [f.name for f in load_descriptor_set(tmp_path / "image.binpb").file]
    assert names == [API]
