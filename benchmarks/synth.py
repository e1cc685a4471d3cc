"""A synthetic proto tree: packages x files, cross-package imports, every streaming shape."""

from __future__ import annotations

from pathlib import Path

CONFIG = """\
version = 1
[output]
dir = "gen/synth"
package = "synth"
[[roots]]
path = "proto"
[generators]
python = {}
grpc = {}
mypy = {}
mypy_grpc = {}
services = {}
"""


def write_tree(root: Path, files: int, per_package: int = 5) -> list[str]:
    """Write `files` protos (in packages of `per_package`) and a Protobuild.toml under `root`.

    Each file imports the previous file of its package and the first file of the previous
    package, uses well-known types, and files with an even index declare a service with
    unary, server-streaming, client-streaming and bidi methods. Returns the import paths.
    """
    (root / "Protobuild.toml").write_text(CONFIG)
    paths = []
    for index in range(files):
        package, number = divmod(index, per_package)
        path = f"org/p{package:04d}/v1/f{number}.proto"
        target = root / "proto" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_proto(package, number, per_package))
        paths.append(path)
    return paths


def _proto(package: int, number: int, per_package: int) -> str:
    imports = ['import "google/protobuf/timestamp.proto";', 'import "google/protobuf/empty.proto";']
    fields = []
    if number > 0:
        imports.append(f'import "org/p{package:04d}/v1/f{number - 1}.proto";')
        fields.append(f"  org.p{package:04d}.v1.M{number - 1} previous = 20;")
    if package > 0:
        imports.append(f'import "org/p{package - 1:04d}/v1/f0.proto";')
        fields.append(f"  org.p{package - 1:04d}.v1.M0 other = 21;")
    body = "\n".join(fields)
    service = _service(number) if number % 2 == 0 else ""
    return f"""syntax = "proto3";

package org.p{package:04d}.v1;

{chr(10).join(imports)}

// Message {number} of package {package}.
message M{number} {{
  string name = 1;
  int64 size = 2;
  repeated string tags = 3;
  map<string, string> labels = 4;
  google.protobuf.Timestamp at = 5;
  enum Kind {{
    KIND_UNSPECIFIED = 0;
    KIND_A = 1;
  }}
  Kind kind = 6;
  message Inner {{ bytes data = 1; }}
  Inner inner = 7;
  oneof choice {{
    string text = 8;
    int32 count = 9;
  }}
{body}
}}
{service}"""


def _service(number: int) -> str:
    m = f"M{number}"
    return f"""
// Service {number}.
service S{number} {{
  // Unary.
  rpc Get({m}) returns ({m});
  rpc List(google.protobuf.Empty) returns (stream {m});
  rpc Upload(stream {m}) returns (google.protobuf.Empty);
  rpc Chat(stream {m}) returns (stream {m});
}}
"""
