"""API snapshots: a deterministic text-format FileDescriptorSet of one part of the tree.

This is containerd protobuild's `[[descriptors]]` (`next.pb.txt`): the files under an import
path prefix, with their `dependency` lists untouched but without the files they import from
elsewhere, sorted by name and printed with google.protobuf.text_format. The same input gives
the same bytes in any order of discovery, so a committed snapshot can be checked like any
other generated file, and a frozen copy compared against later (see breaking.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from google.protobuf import descriptor_pb2, text_format

from protobuild import globs
from protobuild.errors import ProtobuildError


class DescriptorError(ProtobuildError):
    """Two descriptor sets disagree about one file and cannot be merged."""


def snapshot(
    fds: descriptor_pb2.FileDescriptorSet,
    prefix: str,
    exclude: Sequence[str] = (),
    source_info: bool = False,
) -> str:
    """The text-format snapshot of the files of `fds` under `prefix`, minus `exclude`.

    `prefix` is matched per path segment ("acme/v1" selects "acme/v1/x.proto" and
    "acme/v1/sub/y.proto", never "acme/v10/z.proto"; "" selects every file); `exclude` holds
    globs.match patterns over import paths. Files are sorted by name; a file listed twice is
    kept once (the first copy). source_code_info is stripped unless `source_info`. An empty
    selection gives the empty string, the text format of an empty set.
    """
    chosen: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    for proto in fds.file:
        if selected(proto.name, prefix, exclude) and proto.name not in chosen:
            chosen[proto.name] = _copy(proto, source_info)
    out = descriptor_pb2.FileDescriptorSet(file=[chosen[name] for name in sorted(chosen)])
    return text_format.MessageToString(out, as_utf8=True)


def selected(name: str, prefix: str, exclude: Sequence[str] = ()) -> bool:
    """True when import path `name` is under `prefix` (per segment) and matches no `exclude`."""
    return under(name, prefix) and not any(globs.match(pattern, name) for pattern in exclude)


def under(name: str, prefix: str) -> bool:
    """True when `name` equals `prefix` or lies below it, comparing whole path segments."""
    prefix = prefix.strip("/")
    return not prefix or name == prefix or name.startswith(prefix + "/")


def merge(sets: Iterable[descriptor_pb2.FileDescriptorSet]) -> descriptor_pb2.FileDescriptorSet:
    """One set holding every file of `sets` once, in first-seen order.

    protoc runs that share imports list those files in each output; identical copies collapse.
    Two different files under one name raise DescriptorError: a snapshot of either would lie.
    Source info is ignored in the comparison (the same file compiled with and without it).
    """
    merged: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    for fds in sets:
        for proto in fds.file:
            seen = merged.setdefault(proto.name, proto)
            if _copy(seen, False) != _copy(proto, False):
                raise DescriptorError(f"two different descriptors for {proto.name!r}")
    return descriptor_pb2.FileDescriptorSet(file=list(merged.values()))


def _copy(
    proto: descriptor_pb2.FileDescriptorProto, source_info: bool
) -> descriptor_pb2.FileDescriptorProto:
    copy = descriptor_pb2.FileDescriptorProto()
    copy.CopyFrom(proto)
    if not source_info:
        copy.ClearField("source_code_info")
    else:
        _comments_in_lf(copy.source_code_info)
    return copy


def _comments_in_lf(info: descriptor_pb2.SourceCodeInfo) -> None:
    """Comments with LF line ends: protoc keeps a CRLF proto's carriage returns in them, and a
    snapshot must not change with a checkout's line ends (see tree.as_lf)."""
    for location in info.location:
        if "\r" in location.leading_comments:
            location.leading_comments = location.leading_comments.replace("\r\n", "\n")
        if "\r" in location.trailing_comments:
            location.trailing_comments = location.trailing_comments.replace("\r\n", "\n")
        detached = [c.replace("\r\n", "\n") for c in location.leading_detached_comments]
        if detached != list(location.leading_detached_comments):
            location.leading_detached_comments[:] = detached
