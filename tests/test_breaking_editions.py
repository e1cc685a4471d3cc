"""breaking.compare across syntaxes and editions: rewrites that keep the wire are not breaks,
and editions features are inherited as protoc resolves them."""

# The cases hold whole protos and messages, longer than a line.
# ruff: noqa: E501

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from protobuild.breaking import Finding, compare
from tests.breaking import build


def _shown(finding: Finding) -> tuple[str, str, str]:
    return finding.rule, f"{finding.path}:{finding.line}:{finding.column}", finding.message


# Rewrites that keep every field's encoding and presence, as (before, after) x.proto. buf
# reports each as FILE_SAME_SYNTAX, a rule protobuild does not have, so they are not pairs; it
# also reports a proto2 `required` turned LEGACY_REQUIRED as MESSAGE_SAME_REQUIRED_FIELDS (it
# reads required from the label, which editions leave optional), though nothing changed.
SAME_WIRE: dict[str, tuple[str, str]] = {
    "proto3 optional to edition 2023": (
        'syntax = "proto3"; package ed; message M { optional int32 a = 1; }',
        'edition = "2023"; package ed; message M { int32 a = 1; }',
    ),
    "proto3 optional to edition 2024": (
        'syntax = "proto3"; package ed; message M { optional int32 a = 1; }',
        'edition = "2024"; package ed; message M { int32 a = 1; }',
    ),
    "proto3 implicit to field feature": (
        'syntax = "proto3"; package ed; message M { int32 a = 1; }',
        'edition = "2023"; package ed; message M { int32 a = 1 [features.field_presence = IMPLICIT]; }',
    ),
    "proto3 implicit to file feature": (
        'syntax = "proto3"; package ed; message M { message N { int32 a = 1; } }',
        'edition = "2023"; package ed; option features.field_presence = IMPLICIT; message M { message N { int32 a = 1; } }',
    ),
    "proto3 repeated and map to edition": (
        'syntax = "proto3"; package ed; message M { repeated int32 r = 1; map<string, int32> m = 2; }',
        'edition = "2023"; package ed; message M { repeated int32 r = 1; map<string, int32> m = 2; }',
    ),
    "proto2 group to delimited field": (
        'syntax = "proto2"; package ed; message M { optional group G = 1 { optional int32 x = 2; } }',
        'edition = "2023"; package ed; message M { G g = 1 [features.message_encoding = DELIMITED]; message G { int32 x = 2; } }',
    ),
    "proto2 repeated group to delimited file": (
        'syntax = "proto2"; package ed; message M { repeated group G = 1 { optional int32 x = 2; } }',
        'edition = "2023"; package ed; option features.message_encoding = DELIMITED; message M { repeated G g = 1; message G { int32 x = 2; } }',
    ),
    # Maps are never delimited; without a package their entry's name has no prefix. proto2
    # never verifies UTF-8, editions do unless told not to, map keys included.
    "proto2 map to delimited file": (
        'syntax = "proto2"; message M { map<string, V> m = 1; message V { optional int32 y = 1; } }',
        'edition = "2023"; option features.message_encoding = DELIMITED; option features.utf8_validation = NONE; message M { map<string, V> m = 1; message V { int32 y = 1; } }',
    ),
    "proto2 string to edition without validation": (
        'syntax = "proto2"; package ed; message M { optional string s = 1; }',
        'edition = "2023"; package ed; message M { string s = 1 [features.utf8_validation = NONE]; }',
    ),
    "proto3 string to edition": (
        'syntax = "proto3"; package ed; message M { string s = 1; map<string, string> m = 2; }',
        'edition = "2023"; package ed; message M { string s = 1 [features.field_presence = IMPLICIT]; map<string, string> m = 2; }',
    ),
    "proto2 enum to closed edition enum": (
        'syntax = "proto2"; package ed; enum E { E_A = 1; } message M { optional E e = 1 [default = E_A]; }',
        'edition = "2023"; package ed; enum E { option features.enum_type = CLOSED; E_A = 1; } message M { E e = 1; }',
    ),
    "proto3 enum to edition": (
        'syntax = "proto3"; package ed; enum E { E_ZERO = 0; }',
        'edition = "2023"; package ed; enum E { E_ZERO = 0; }',
    ),
    "proto2 default to edition default": (
        'syntax = "proto2"; package ed; message M { optional int32 a = 1 [default = 7]; optional float f = 2 [default = nan]; }',
        'edition = "2023"; package ed; message M { int32 a = 1 [default = 7]; float f = 2 [default = nan]; }',
    ),
    "proto2 extension to proto3 option": (
        'syntax = "proto2"; package ed; import "google/protobuf/descriptor.proto"; extend google.protobuf.FileOptions { optional int32 level = 50000; }',
        'syntax = "proto3"; package ed; import "google/protobuf/descriptor.proto"; extend google.protobuf.FileOptions { int32 level = 50000; }',
    ),
    "proto2 required to legacy required": (
        'syntax = "proto2"; package ed; message M { required int32 a = 1; }',
        'edition = "2023"; package ed; message M { int32 a = 1 [features.field_presence = LEGACY_REQUIRED]; }',
    ),
    "proto2 required message to legacy required": (
        'syntax = "proto2"; package ed; message M { required M m = 1; }',
        'edition = "2023"; package ed; message M { M m = 1 [features.field_presence = LEGACY_REQUIRED]; }',
    ),
    "edition 2023 to 2024": (
        'edition = "2023"; package ed; message M { int32 a = 1; M m = 2; }',
        'edition = "2024"; package ed; message M { int32 a = 1; M m = 2; }',
    ),
}


def _compile(tmp_path: Path, side: str, source: str) -> descriptor_pb2.FileDescriptorSet:
    (tmp_path / side).mkdir()
    (tmp_path / side / "x.proto").write_text(source + "\n")
    return build(tmp_path / side, tmp_path / f"{side}.binpb")


@pytest.mark.parametrize("case", sorted(SAME_WIRE))
def test_rewrite_that_keeps_the_wire_is_not_a_break(case: str, tmp_path: Path) -> None:
    before, after = SAME_WIRE[case]
    assert compare(_compile(tmp_path, "after", after), _compile(tmp_path, "before", before)) == []


def test_presence_is_inherited_through_messages(tmp_path: Path) -> None:
    """A message's features reach the fields of the messages nested in it, unless they override.

    protoc accepts field_presence only on files and fields, so the message-level feature is set
    on the compiled descriptor, as another compiler or a later edition could.
    """
    source = """edition = "2023";
package ed;
option features.field_presence = IMPLICIT;
message M {
  message N {
    int32 a = 1;
    int32 b = 2 [features.field_presence = IMPLICIT];
  }
}"""
    before, after = _compile(tmp_path, "before", source), _compile(tmp_path, "after", source)
    features = after.file[0].message_type[0].options.features
    features.field_presence = descriptor_pb2.FeatureSet.EXPLICIT
    assert [_shown(f) for f in compare(after, before)] == [
        (
            "FIELD_SAME_CARDINALITY",
            "x.proto:6:5",
            'Field "1" with name "a" on message "M.N" changed cardinality from "optional with implicit presence" to "optional with explicit presence".',
        )
    ]


# Changes that only the syntax or an inherited feature makes, as (before, after) x.proto and
# the rules they break. buf reports each too (plus FILE_SAME_SYNTAX), except the
# LEGACY_REQUIRED one: it reads required from the label, which editions leave optional.
SYNTAX_BREAKS: dict[str, tuple[str, str, list[str]]] = {
    "proto2 enum to proto3 opens it": (
        'syntax = "proto2"; package ed; enum E { E_ZERO = 0; }',
        'syntax = "proto3"; package ed; enum E { E_ZERO = 0; }',
        ["ENUM_SAME_TYPE"],
    ),
    "proto2 enum to edition opens it": (
        'syntax = "proto2"; package ed; enum E { E_ZERO = 0; }',
        'edition = "2023"; package ed; enum E { E_ZERO = 0; }',
        ["ENUM_SAME_TYPE"],
    ),
    "proto3 to proto2 closes enums and loses JSON": (
        'syntax = "proto3"; package ed; message M {} enum E { E_ZERO = 0; }',
        'syntax = "proto2"; package ed; message M {} enum E { E_ZERO = 0; }',
        ["ENUM_SAME_JSON_FORMAT", "ENUM_SAME_TYPE", "MESSAGE_SAME_JSON_FORMAT"],
    ),
    "proto2 string to proto3 verifies it": (
        'syntax = "proto2"; package ed; message M { optional string s = 1; }',
        'syntax = "proto3"; package ed; message M { optional string s = 1; }',
        ["FIELD_SAME_JAVA_UTF8_VALIDATION", "FIELD_SAME_UTF8_VALIDATION"],
    ),
    "file feature stops verifying a nested string": (
        'edition = "2023"; package ed; message M { message N { string s = 1; } }',
        'edition = "2023"; package ed; option features.utf8_validation = NONE; message M { message N { string s = 1; } }',
        ["FIELD_SAME_JAVA_UTF8_VALIDATION", "FIELD_SAME_UTF8_VALIDATION"],
    ),
    "edition 2023 to 2024 views strings in C++": (
        'edition = "2023"; package ed; message M { string s = 1; bytes b = 2; int32 i = 3; }',
        'edition = "2024"; package ed; message M { string s = 1; bytes b = 2; int32 i = 3; }',
        ["FIELD_SAME_CPP_STRING_TYPE", "FIELD_SAME_CPP_STRING_TYPE"],
    ),
    "legacy required added": (
        'edition = "2023"; package ed; message M { int32 a = 1; }',
        'edition = "2023"; package ed; message M { int32 a = 1; int32 b = 2 [features.field_presence = LEGACY_REQUIRED]; }',
        ["MESSAGE_SAME_REQUIRED_FIELDS"],
    ),
    "enum default follows the first value": (
        'syntax = "proto2"; package ed; enum E { E_A = 1; E_B = 2; } message M { optional E e = 1; }',
        'syntax = "proto2"; package ed; enum E { E_B = 2; E_A = 1; } message M { optional E e = 1; }',
        ["FIELD_SAME_DEFAULT"],
    ),
}


@pytest.mark.parametrize("case", sorted(SYNTAX_BREAKS))
def test_change_made_by_syntax_or_feature_is_a_break(case: str, tmp_path: Path) -> None:
    before, after, rules = SYNTAX_BREAKS[case]
    found = compare(_compile(tmp_path, "after", after), _compile(tmp_path, "before", before))
    assert sorted(f.rule for f in found) == rules
