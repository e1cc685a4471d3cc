"""Compare an output tree with what is on disk: the part that write and check share.

Only files that carry protobuild's header are protobuild's: those may be rewritten or removed
as stale. A file the tree wants to write over that lacks the header was written by someone
else, and is never overwritten.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import NamedTuple

from protobuild import toolchain
from protobuild.config import CONFIG_NAME
from protobuild.errors import Location, ResolveError, WriteError, shown


class OutputFile(NamedTuple):
    """One file of the output tree; `path` is posix and relative to the output directory."""

    path: str
    content: bytes


class OutputTree(NamedTuple):
    """Every file the configuration produces, sorted by path."""

    root: Path
    files: tuple[OutputFile, ...]
    # Output path -> the one proto it comes from, where there is exactly one (the
    # incremental build carries such files over when their proto is unaffected).
    owners: tuple[tuple[str, str], ...] = ()
    # Outputs of a partial rebuild that are on disk exactly as the tree wants them (verified
    # against the cache), so their bytes are not held: compare and write leave them alone.
    kept: frozenset[str] = frozenset()
    # The cache's digests of some of `files` (cache.digests), taken where their bytes were
    # made: in the processes of a parallel build, instead of one after another at the end.
    digests: Mapping[str, str] = {}

    def by_path(self) -> dict[str, bytes]:
        """The bytes of every file the tree holds (not the kept ones)."""
        return {f.path: f.content for f in self.files}

    @property
    def file_count(self) -> int:
        return len(self.files) + len(self.kept)


def as_lf(data: bytes) -> bytes:
    """`data` with CRLF line ends turned into LF.

    A checkout with git's core.autocrlf=true (the Windows default) gives every text file CRLF
    ends while the committed blobs keep LF: protos, templates, generated files and the record
    must digest and compare the same either way, or such a checkout never passes `check` and
    its regenerated files flip-flop against everyone else's.
    """
    return data.replace(b"\r\n", b"\n") if b"\r" in data else data


def is_users_marker(path: str) -> bool:
    """Whether `path` is a marker file whose content is the user's business once the user has
    written one: `py.typed` (it may say `partial`) and any `__init__.py` (the package's own,
    where protos sit beside hand-written code). Either marks the package just as well."""
    return path.rpartition("/")[2] in ("py.typed", "__init__.py")


class Changes(NamedTuple):
    """How the disk differs from the tree; every path is relative to the output directory."""

    root: Path
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    # The current bytes on disk of each changed or stale file, for diffs.
    current: Mapping[str, bytes] | None = None

    def __bool__(self) -> bool:  # whether anything differs (not the tuple's length)
        return bool(self.added or self.changed or self.stale)

    @property
    def total(self) -> int:
        return len(self.added) + len(self.changed) + len(self.stale)


# A directory below a root or the output directory holding one of these belongs to something
# else: a virtual environment, whose protos and generated modules are other projects' copies,
# or another protobuild project (its own config).
OTHER_TREE_MARKERS = frozenset({"pyvenv.cfg", CONFIG_NAME})


# What write stages next to a destination (`.thing_pb2.py.protobuild-PID`). Runs hold the
# project's lock, so one found by a walk was left by a run that was killed: stale, whatever
# it holds (often nothing yet).
_STAGED = re.compile(r"\..+\.protobuild-\d+\Z")


def staged_name(name: str) -> str:
    """The name under which this process stages the file `name` (see _STAGED). A name too
    long to take the additions (file systems allow 255 bytes) is shortened, and stays
    distinct from its neighbours' by a digest of the whole name."""
    suffix = f".protobuild-{os.getpid()}"
    staged = f".{name}{suffix}"
    if len(staged) <= _NAME_MAX and (staged.isascii() or len(staged.encode()) <= _NAME_MAX):
        return staged
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    keep = name.encode()[: _NAME_MAX - len(suffix) - len(digest) - 2].decode(errors="ignore")
    return f".{keep}~{digest}{suffix}"


_NAME_MAX = 255  # bytes in one file name: ext4, xfs, btrfs, APFS, tmpfs


def is_skipped_dir(name: str) -> bool:
    """Whether walks of roots and outputs stay out of the directory `name`: bytecode caches and
    hidden directories (.git, .venv, protobuild's cache), where no module path goes and whose
    files (the cache's lock among them) are not ours to read."""
    return name == "__pycache__" or name.startswith(".")


def compare(
    tree: OutputTree, prune: bool = True, former: AbstractSet[str] = frozenset()
) -> Changes:
    """What writing `tree` would change on disk; with prune=False nothing is stale. The
    tree's kept files are neither read nor changed. `former` names the files the previous
    run generated (from the cache or the record): a headerless marker among them that the tree
    no longer wants is stale too, if still as protobuild wrote it.

    Raises WriteError when the tree would overwrite a file protobuild did not write.
    """
    wanted = tree.by_path()
    existing = dict(generated_files(tree.root, tree.kept))
    existing.update(_generated_outside(tree.root, wanted))
    existing.update(_former_markers(tree.root, former, wanted))
    left_alone = _take_over(tree.root, [p for p in wanted if p not in existing], existing)
    added = [p for p in wanted if p not in existing and p not in left_alone]
    changed = [p for p in wanted if p in existing and as_lf(existing[p]) != as_lf(wanted[p])]
    stale = sorted(set(existing) - set(wanted) - tree.kept) if prune else []
    current_bytes = {p: existing[p] for p in (*changed, *stale)}
    return Changes(tree.root, tuple(added), tuple(changed), tuple(stale), current_bytes)


def _former_markers(
    root: Path, former: AbstractSet[str], wanted: Mapping[str, bytes]
) -> dict[str, bytes]:
    """The empty `py.typed` files the previous run generated that the tree no longer wants
    (`py_typed = false`): they have no header to tell them from the user's, but the previous
    run's list does, and an empty one is still exactly what protobuild wrote."""
    gone = [p for p in former if p.rpartition("/")[2] == "py.typed" and p not in wanted]
    return {path: b"" for path in gone if _read(on_disk(root, path)) == b""}


def _generated_outside(root: Path, wanted: Mapping[str, bytes]) -> dict[str, bytes]:
    """The generated files at the tree's paths outside the output directory (snapshots), and
    what a killed run staged next to them (the walk of the output directory finds those
    inside it): stale, to be removed."""
    outside = [path for path in wanted if is_outside(path)]
    found = {path: _outside(root, path) for path in outside}
    found.update(_staged_next_to(root, outside))
    return {path: content for path, content in found.items() if content is not None}


def _staged_next_to(root: Path, paths: list[str]) -> dict[str, bytes | None]:
    return {path: _read(on_disk(root, path)) for path in staged_next_to(str(root), paths)}


def staged_next_to(root: str, paths: Iterable[str]) -> list[str]:
    """The files a killed run staged next to the tree's `paths` outside the output directory
    (inside it, walks find them), as tree paths."""
    found = []
    for path in paths:
        directory, name = posixpath.split(path)
        try:
            names = os.listdir(os.path.normpath(os.path.join(root, directory)))
        except OSError:
            continue
        prefix = f".{name}.protobuild-"
        found += [f"{directory}/{n}" for n in names if n.startswith(prefix) and is_staged(n)]
    return found


def is_staged(name: str) -> bool:
    """Whether a file name is one write stages under (see _STAGED)."""
    return _STAGED.match(name) is not None


def _take_over(root: Path, missing: list[str], existing: dict[str, bytes]) -> set[str]:
    """Of the wanted paths without a generated file, those holding the user's package marker
    (returned: left alone). Output of a former protoc line is added to `existing`, to be
    replaced as that line would; any other file there is an error naming them all."""
    left_alone, foreign = set(), []
    directories: dict[str, bool] = {}  # one check per directory: a new tree has none of them
    for path in missing:
        full = on_disk(root, path)
        parent = os.path.dirname(full)
        if parent not in directories:
            directories[parent] = os.path.isdir(parent)
        if not directories[parent] or not os.path.isfile(full):
            continue
        if is_users_marker(path):
            left_alone.add(path)
            continue
        content = _protoc_era_output(root, path)
        if content is None:
            foreign.append(path)
        else:
            existing[path] = content
    if foreign:
        raise _foreign(root, foreign)
    return left_alone


def on_disk(root: Path, path: str) -> str:
    """Where the tree's `path` is on disk. Normalised, because a path outside the output
    directory (`../api/next.pb.txt`) does not resolve through an output directory that does
    not exist yet: the file there would look absent, and be overwritten."""
    return os.path.normpath(os.path.join(root, path))


def is_outside(path: str) -> bool:
    """True for tree paths outside the output directory (API snapshots elsewhere)."""
    return path.startswith("../")


def _outside(root: Path, path: str) -> bytes | None:
    content = _read(on_disk(root, path))
    return content if content is not None and toolchain.is_generated(content) else None


# What protoc and its plugins write at the top of their output ("DO NOT EDIT").
_GENERATED_BY_OTHERS = (
    b"# Generated by the protocol buffer compiler.  DO NOT EDIT!",
    b"# Generated by the gRPC Python protocol compiler plugin. DO NOT EDIT!",
    b"@generated by mypy-protobuf.  Do not edit manually!",
)


def _protoc_era_output(root: Path, path: str) -> bytes | None:
    """The bytes of the file at `path` if protoc or a plugin generated it (a project moving
    from a hand-written protoc line to protobuild): their DO NOT EDIT header, or protoc's own
    headerless .pyi stub. Such a file is replaced, never a file a person wrote."""
    content = _read(on_disk(root, path))
    if content is None:
        return None
    if any(marker in content[:512] for marker in _GENERATED_BY_OTHERS):
        return content
    stub = path.endswith("_pb2.pyi") and b"\nDESCRIPTOR: _descriptor.FileDescriptor\n" in content
    return content if stub else None


def _foreign(root: Path, paths: list[str]) -> WriteError:
    """The error for hand-written files where generated ones must go: all of them at once,
    so that a user moves them away in one go rather than one run per file."""
    snapshots = [path for path in paths if is_outside(path)]
    if snapshots:
        return WriteError(
            "refusing to overwrite a file protobuild did not generate (it has no protobuild "
            "header) with an API snapshot; point the [[descriptors]] target at a new file",
            Location(Path(on_disk(root, snapshots[0]))),
        )
    more = ""
    if len(paths) > 1:
        listed = ", ".join(paths[1:4]) + (", ..." if len(paths) > 4 else "")
        more = f" (and {len(paths) - 1} more in {shown(root)}/: {listed})"
    return WriteError(
        "refusing to overwrite a file protobuild did not generate (it has no protobuild "
        f"header); move it away or delete it, then run again{more}",
        Location(Path(on_disk(root, paths[0]))),
    )


def generated_files(
    root: Path, skipped: AbstractSet[str] = frozenset()
) -> Iterator[tuple[str, bytes]]:
    """(relative path, bytes) of every file below `root` that protobuild generated, except
    the `skipped` paths (not even read).

    Plain strings and os.walk instead of pathlib: this reads every output file, and
    pathlib's object overhead was most of the time.
    """
    base = str(root)
    for directory, subdirs, names in os.walk(base):
        subdirs[:] = sorted(d for d in subdirs if not is_skipped_dir(d))
        if directory != base and not OTHER_TREE_MARKERS.isdisjoint(names):
            subdirs.clear()  # its generated files are not ours to report or remove
            continue
        relative = os.path.relpath(directory, base).replace(os.sep, "/")
        prefix = "" if relative == "." else relative + "/"
        for name in sorted(names):
            path = prefix + name
            if path in skipped:
                continue
            content = _read(os.path.join(directory, name))
            if content is not None and (toolchain.is_generated(content) or is_staged(name)):
                yield path, content


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def require_utf8(directory: str, relative: str) -> None:
    """ResolveError when the file at `relative` below `directory` has a name that is not
    UTF-8: Python holds such a name with surrogate escapes, which import paths, module names,
    digests and the cache's JSON cannot carry. Checked on the walks that first meet the
    input files (cache.scan, inputs' walk of include directories, template_files), so that
    no later stage sees one."""
    if relative.isascii():  # nearly every name: no encoding needed to tell
        return
    parts = relative.split(os.sep)
    for index, part in enumerate(parts):
        if not _is_utf8(part):
            folder = os.path.normpath(os.path.join(directory, *parts[:index]))
            raise ResolveError(
                f"the name '{_escaped(part)}' is not UTF-8, and protoc and Python need file "
                "names that are; rename it",
                Location(_escaped(folder)),
            )


def _is_utf8(name: str) -> bool:
    try:
        name.encode()
    except UnicodeEncodeError:
        return False
    return True


def _escaped(name: str) -> str:
    """`name` as it is on disk, bytes that are not UTF-8 shown as \\xNN."""
    return os.fsencode(name).decode(errors="backslashreplace")


def template_files(directory: Path) -> list[tuple[str, bytes]]:
    """Every file of a template directory but bytecode caches, sorted (as paths): its posix
    path inside the directory, and its bytes with LF line ends (a CRLF checkout renders
    alike). Templates may include files of any name, so all of them count."""
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        name = path.relative_to(directory).as_posix()
        if "__pycache__" not in name.split("/"):
            require_utf8(str(directory), str(path.relative_to(directory)))
            found.append((name, as_lf(path.read_bytes())))
    return found
