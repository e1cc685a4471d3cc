"""breaking.compare on before/after pairs (tests/breaking/<case>/), formats, ignores, loading.

Each pair is compiled with the bundled protoc, the current side with source info, as the
`protobuild breaking` command does. The same pairs go through `buf breaking` where buf is
installed (the buf-bin package), which must agree on which pairs break and why.
"""

# The expectation table holds whole messages, longer than a line.
# ruff: noqa: E501

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, text_format

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
from tests.breaking import BASE, build, build_case, case_names

Sets = dict[str, tuple[descriptor_pb2.FileDescriptorSet, descriptor_pb2.FileDescriptorSet]]
API = "acme/v1/api.proto"
DOCS = Path(__file__).parents[1] / "docs" / "breaking.md"

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
    "enum_same_type": [
        (
            "ENUM_SAME_TYPE",
            "acme/v1/edition.proto:8:3",
            'Enum "Kind" changed from open to closed.',
        ),
        (
            "ENUM_SAME_TYPE",
            "acme/v1/edition.proto:21:3",
            'Enum "Holder.State" changed from open to closed.',
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
    "extension_changed": [
        (
            "EXTENSION_NO_DELETE",
            "acme/v1/options.proto:3:1",
            'Previously present extension "sensitive" was deleted from file.',
        ),
        (
            "FIELD_SAME_NAME",
            "acme/v1/options.proto:8:19",
            'Extension "50001" with name "acme.v1.sensitive" on message "google.protobuf.FieldOptions" changed name from "acme.v1.sensitive" to "acme.v1.secret".',
        ),
        (
            "FIELD_SAME_TYPE",
            "acme/v1/options.proto:9:12",
            'Extension "50002" with name "acme.v1.weight" on message "google.protobuf.FieldOptions" changed type from "int32" to "int64".',
        ),
        (
            "FIELD_SAME_DEFAULT",
            "acme/v1/options.proto:16:44",
            'Extension "150" with name "acme.v1.Host.inner" on message "acme.v1.Host" changed default value from "" to "none".',
        ),
        (
            "FIELD_SAME_CARDINALITY",
            "acme/v1/options.proto:21:3",
            'Extension "100" with name "acme.v1.tag" on message "acme.v1.Host" changed cardinality from "optional with explicit presence" to "repeated".',
        ),
    ],
    "extension_message_no_delete": [
        (
            "EXTENSION_MESSAGE_NO_DELETE",
            "acme/v1/options.proto:5:1",
            'Previously present extension range "100 to 199" on message "Host" lost "121 to 149", "161 to 199".',
        ),
        (
            "EXTENSION_MESSAGE_NO_DELETE",
            "acme/v1/options.proto:5:1",
            'Previously present extension range "1000 to max" on message "Host" lost "5000 to max".',
        ),
    ],
    "extension_no_delete": [
        (
            "EXTENSION_NO_DELETE",
            "acme/v1/options.proto:3:1",
            'Previously present extension "sensitive" was deleted from file.',
        ),
        (
            "EXTENSION_NO_DELETE",
            "acme/v1/options.proto:11:1",
            'Previously present extension "Host.inner" was deleted from file.',
        ),
    ],
    "extension_same_extendee": [
        (
            "EXTENSION_SAME_EXTENDEE",
            "acme/v1/options.proto:24:8",
            'Extension "100" with name "acme.v1.tag" on message "acme.v1.Host" changed the message it extends from "acme.v1.Host" to "acme.v1.Guest".',
        ),
    ],
    "extension_same_number": [
        (
            "EXTENSION_SAME_NUMBER",
            "acme/v1/options.proto:9:27",
            'Extension "50002" with name "acme.v1.weight" on message "google.protobuf.FieldOptions" changed number from "50002" to "50003".',
        ),
    ],
    "extensions_safe": [],
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
    "field_same_cardinality_map": [
        (
            "MESSAGE_NO_DELETE",
            "acme/v1/maps.proto:9:1",
            'Previously present message "Holder.Entry" was deleted from file.',
        ),
        (
            "FIELD_SAME_CARDINALITY",
            "acme/v1/maps.proto:11:3",
            'Field "1" with name "by_name" on message "Holder" changed cardinality from "map" to "repeated".',
        ),
        (
            "FIELD_SAME_CARDINALITY",
            "acme/v1/maps.proto:16:3",
            'Field "2" with name "listed" on message "Holder" changed cardinality from "repeated" to "map".',
        ),
        (
            "FIELD_SAME_TYPE",
            "acme/v1/maps.proto:16:3",
            'Field "2" with name "listed" on message "Holder" changed type from "acme.v1.Holder.Entry" to "acme.v1.Holder.ListedEntry".',
        ),
    ],
    # At the map field that changed (protoc locates no entry message), not at its message.
    "field_same_type_map": [
        (
            "FIELD_SAME_TYPE",
            "acme/v1/maps.proto:7:3",
            'Field "1" with name "key" on message "Counts.ByNumberEntry" changed type from "int32" to "int64".',
        ),
    ],
    "field_same_cpp_string_type": [
        (
            "FIELD_SAME_CPP_STRING_TYPE",
            "acme/v1/legacy.proto:6:29",
            'Field "1" with name "name" on message "Request" changed C++ string type from "STRING" to "CORD".',
        ),
    ],
    "field_same_default": [
        (
            "FIELD_SAME_DEFAULT",
            "acme/v1/legacy.proto:6:39",
            'Field "1" with name "limit" on message "Request" changed default value from 10 to 20.',
        ),
        (
            "FIELD_SAME_DEFAULT",
            "acme/v1/legacy.proto:7:37",
            'Field "2" with name "mode" on message "Request" changed default value from Mode.MODE_FAST to Mode.MODE_SAFE.',
        ),
        (
            "FIELD_SAME_DEFAULT",
            "acme/v1/legacy.proto:8:39",
            'Field "3" with name "magic" on message "Request" changed default value from "\\001x" to "\\002x".',
        ),
        (
            "FIELD_SAME_DEFAULT",
            "acme/v1/legacy.proto:9:40",
            'Field "4" with name "ratio" on message "Request" changed default value from 0.5 to inf.',
        ),
    ],
    "field_same_java_utf8_validation": [
        (
            "FIELD_SAME_JAVA_UTF8_VALIDATION",
            "acme/v1/legacy.proto:5:1",
            'Field "1" with name "name" on message "Request" changed Java string UTF-8 validation from NONE to VERIFY.',
        ),
    ],
    "field_same_json_name": [
        (
            "FIELD_SAME_JSON_NAME",
            "acme/v1/api.proto:14:32",
            'Field "7" with name "note" on message "Thing" changed json_name from "note" to "remark".',
        ),
    ],
    "field_same_jstype": [
        (
            "FIELD_SAME_JSTYPE",
            "acme/v1/js.proto:6:20",
            'Field "1" with name "total" on message "Counter" changed option "jstype" from "JS_NORMAL" to "JS_STRING".',
        ),
        (
            "FIELD_SAME_JSTYPE",
            "acme/v1/js.proto:8:3",
            'Field "3" with name "hits" on message "Counter" changed option "jstype" from "JS_STRING" to "JS_NORMAL".',
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
            "MESSAGE_SAME_REQUIRED_FIELDS",
            "acme/v1/edition.proto:5:1",
            'Required field "3" with name "offset" on message "Edition" is no longer required: readers of the previous version reject messages without it.',
        ),
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
    "field_same_utf8_validation": [
        (
            "FIELD_SAME_JAVA_UTF8_VALIDATION",
            "acme/v1/edition.proto:6:3",
            'Field "1" with name "name" on message "Edition" changed Java string UTF-8 validation from VERIFY to NONE.',
        ),
        (
            "FIELD_SAME_UTF8_VALIDATION",
            "acme/v1/edition.proto:6:20",
            'Field "1" with name "name" on message "Edition" changed UTF-8 validation from VERIFY to NONE.',
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
    "file_same_options": [
        (
            "FILE_SAME_CC_ENABLE_ARENAS",
            "acme/v1/opts.proto:5:1",
            'File option "cc_enable_arenas" changed from "true" to "false".',
        ),
        (
            "FILE_SAME_CC_GENERIC_SERVICES",
            "acme/v1/opts.proto:6:1",
            'File option "cc_generic_services" changed from "false" to "true".',
        ),
        (
            "FILE_SAME_CSHARP_NAMESPACE",
            "acme/v1/opts.proto:7:1",
            'File option "csharp_namespace" changed from "" to "Acme.V1".',
        ),
        (
            "FILE_SAME_GO_PACKAGE",
            "acme/v1/opts.proto:8:1",
            'File option "go_package" changed from "example.com/acme/v1;acmev1" to "example.com/acme/v1/api;acmev1".',
        ),
        (
            "FILE_SAME_JAVA_GENERIC_SERVICES",
            "acme/v1/opts.proto:9:1",
            'File option "java_generic_services" changed from "false" to "true".',
        ),
        (
            "FILE_SAME_JAVA_MULTIPLE_FILES",
            "acme/v1/opts.proto:10:1",
            'File option "java_multiple_files" changed from "false" to "true".',
        ),
        (
            "FILE_SAME_JAVA_OUTER_CLASSNAME",
            "acme/v1/opts.proto:11:1",
            'File option "java_outer_classname" changed from "" to "OptsProto".',
        ),
        (
            "FILE_SAME_JAVA_PACKAGE",
            "acme/v1/opts.proto:12:1",
            'File option "java_package" changed from "" to "com.acme.v1".',
        ),
        (
            "FILE_SAME_OBJC_CLASS_PREFIX",
            "acme/v1/opts.proto:13:1",
            'File option "objc_class_prefix" changed from "" to "AXX".',
        ),
        (
            "FILE_SAME_OPTIMIZE_FOR",
            "acme/v1/opts.proto:14:1",
            'File option "optimize_for" changed from "SPEED" to "CODE_SIZE".',
        ),
        (
            "FILE_SAME_PHP_CLASS_PREFIX",
            "acme/v1/opts.proto:15:1",
            'File option "php_class_prefix" changed from "" to "Acme".',
        ),
        (
            "FILE_SAME_PHP_METADATA_NAMESPACE",
            "acme/v1/opts.proto:16:1",
            'File option "php_metadata_namespace" changed from "" to "Acme\\V1\\Meta".',
        ),
        (
            "FILE_SAME_PHP_NAMESPACE",
            "acme/v1/opts.proto:17:1",
            'File option "php_namespace" changed from "" to "Acme\\V1".',
        ),
        (
            "FILE_SAME_PY_GENERIC_SERVICES",
            "acme/v1/opts.proto:18:1",
            'File option "py_generic_services" changed from "false" to "true".',
        ),
        (
            "FILE_SAME_RUBY_PACKAGE",
            "acme/v1/opts.proto:19:1",
            'File option "ruby_package" changed from "" to "Acme::V1".',
        ),
        (
            "FILE_SAME_SWIFT_PREFIX",
            "acme/v1/opts.proto:20:1",
            'File option "swift_prefix" changed from "" to "AV1".',
        ),
    ],
    "file_same_options_defaults": [],
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
    "message_no_remove_standard_descriptor_accessor": [
        (
            "MESSAGE_NO_REMOVE_STANDARD_DESCRIPTOR_ACCESSOR",
            "acme/v1/legacy.proto:6:3",
            'Message "Request" option "no_standard_descriptor_accessor" changed from "false" to "true".',
        ),
    ],
    "message_same_json_format": [
        (
            "MESSAGE_SAME_JSON_FORMAT",
            "acme/v1/edition.proto:7:1",
            'Message "Edition" JSON format support changed from ALLOW to LEGACY_BEST_EFFORT.',
        ),
        (
            "ENUM_SAME_JSON_FORMAT",
            "acme/v1/edition.proto:11:1",
            'Enum "Kind" JSON format support changed from ALLOW to LEGACY_BEST_EFFORT.',
        ),
    ],
    "message_same_required_fields": [
        (
            "MESSAGE_SAME_REQUIRED_FIELDS",
            "acme/v1/legacy.proto:5:1",
            'Required field "3" with name "page" on message "Request" is no longer required: readers of the previous version reject messages without it.',
        ),
        (
            "FIELD_SAME_CARDINALITY",
            "acme/v1/legacy.proto:8:3",
            'Field "3" with name "page" on message "Request" changed cardinality from "required" to "optional with explicit presence".',
        ),
        (
            "MESSAGE_SAME_REQUIRED_FIELDS",
            "acme/v1/legacy.proto:9:3",
            'Message "Request" has a new required field "4" with name "extra": messages from writers that do not set it no longer parse.',
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
            'Previously present reserved range "9 to 11" on message "Thing" lost "10".',
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
            'Previously present reserved range "9 to 11" on message "Thing" lost "10".',
        ),
        (
            "RESERVED_MESSAGE_NO_REUSE",
            "acme/v1/api.proto:21:3",
            'Field "10" with name "legacy" on message "Thing" uses a number or name reserved in the previous version.',
        ),
    ],
    # A message and an enum moved to another file of the package: the move is a deletion, and
    # what changed on the way is reported where they are now (buf matches them by full name).
    "message_moved": [
        (
            "ENUM_NO_DELETE",
            "acme/v1/a.proto:3:1",
            'Previously present enum "Mode" was deleted from file.',
        ),
        (
            "MESSAGE_NO_DELETE",
            "acme/v1/a.proto:3:1",
            'Previously present message "Moves" was deleted from file.',
        ),
        (
            "FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED",
            "acme/v1/b.proto:6:1",
            'Previously present field "2" with name "size" on message "Moves" was deleted without reserving the number "2".',
        ),
        (
            "ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED",
            "acme/v1/b.proto:10:1",
            'Previously present enum value "1" ("MODE_FAST") on enum "Mode" was deleted without reserving the number "1".',
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
    "rpc_same_idempotency_level": [
        (
            "RPC_SAME_IDEMPOTENCY_LEVEL",
            "acme/v1/lookup.proto:11:5",
            'RPC "Find" on service "Lookup" changed option "idempotency_level" from "IDEMPOTENCY_UNKNOWN" to "IDEMPOTENT".',
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
    # buf pairs extensions by extendee and number only: one that moved keeps its name and
    # is reported by neither its FIELD_SAME_* rules nor EXTENSION_NO_DELETE.
    "EXTENSION_SAME_NUMBER": None,
    "EXTENSION_SAME_EXTENDEE": None,
}
# Findings buf does not make on purpose-built pairs: case -> rules. buf reads "required" from
# the label only, so an editions LEGACY_REQUIRED field that stops being required is not a
# MESSAGE_SAME_REQUIRED_FIELDS to it, though parsers of the old version reject messages
# without it exactly as they would a proto2 `required` one.
BUF_MISSES: dict[str, set[str]] = {
    "field_same_presence_feature": {"MESSAGE_SAME_REQUIRED_FIELDS"},
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


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_each_side_against_its_own_snapshot_has_no_findings(case: str, sets: Sets) -> None:
    # A text snapshot drops what protobuild does not keep (custom option values, source info):
    # no rule may read what it lost.
    for side in sets[case]:
        snapshot = text_format.Parse(
            descriptors.snapshot(side, "acme"), descriptor_pb2.FileDescriptorSet()
        )
        assert (case, compare(side, side), compare(side, snapshot)) == (case, [], [])


def test_docs_list_every_rule() -> None:
    table = re.findall(r"^\| `([A-Z0-9_]+)` \|", DOCS.read_text(), re.MULTILINE)
    assert sorted(table) == sorted(RULES)


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


def _mode_set(root: Path, default: str) -> descriptor_pb2.FileDescriptorSet:
    (root / "m").mkdir(parents=True)
    enum = "enum Mode { MODE_FAST = 1; MODE_SAFE = 2; }"
    (root / "m" / "mode.proto").write_text(f'syntax = "proto2"; package m; {enum}\n')
    field = f"optional Mode mode = 1{default};"
    head = 'syntax = "proto2"; package m; import "m/mode.proto";'
    (root / "m" / "req.proto").write_text(f"{head} message Req {{ {field} }}\n")
    return build(root, root.with_suffix(".binpb"))


@pytest.mark.parametrize(
    ("before", "after", "rules"),
    [
        (" [default = MODE_SAFE]", " [default = MODE_SAFE]", []),
        (" [default = MODE_SAFE]", " [default = MODE_FAST]", ["FIELD_SAME_DEFAULT"]),
        ("", " [default = MODE_FAST]", []),  # unknown before: nothing to compare with
    ],
)
def test_enum_default_against_a_snapshot_without_the_enum(
    before: str, after: str, rules: list[str], tmp_path: Path
) -> None:
    # A snapshot of one prefix leaves out the file of an enum it uses from another.
    was = _mode_set(tmp_path / "before", before)
    snapshot = descriptor_pb2.FileDescriptorSet(
        file=[f for f in was.file if f.name == "m/req.proto"]
    )
    now = _mode_set(tmp_path / "after", after)
    assert [f.rule for f in compare(now, snapshot)] == rules


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


@pytest.mark.parametrize(
    "case", ["field_same_type", "extension_changed", "field_same_default", "file_same_options"]
)
def test_load_text_snapshot_compares_like_the_binary(case: str, sets: Sets, tmp_path: Path) -> None:
    before, after = sets[case]
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
        mine = {ours[f.rule] for f in compare(after, before)} - {None} - BUF_MISSES.get(case, set())
        assert (case, mine) == (case, theirs & shared)
        # A pair that only protobuild's own rules break is one buf lets through.
        assert bool(theirs) == bool(mine), case


def test_buf_image_imports_are_left_out(tmp_path: Path) -> None:
    buf = _buf()
    root = BASE
    argv = [buf, "build", str(root), "-o", str(tmp_path / "image.binpb")]
    done = subprocess.run([*argv, "--path", str(root / API)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    names = [f.name for f in load_descriptor_set(tmp_path / "image.binpb").file]
    assert names == [API]
