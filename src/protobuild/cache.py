"""The incremental cache: skip protoc when nothing that shapes the output has changed.

The key is a digest of everything the output depends on (inputs.py). The cache records, for
that key, the digest of every file the output tree holds. When the key matches and the files
on disk still have exactly those digests, the output is current and nothing runs; any hand
edit, deletion or stray generated file makes the digests differ and a full build follows.

It lives in `.protobuild-cache/` next to Protobuild.toml, ignores itself for git, and is only
ever a hint: a corrupt, foreign or unreadable cache is ignored, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from protobuild import toolchain
from protobuild.config import CONFIG_NAME, Config
from protobuild.tree import (
    OTHER_TREE_MARKERS,
    as_lf,
    is_outside,
    is_skipped_dir,
    is_staged,
    is_users_marker,
    require_utf8,
    staged_next_to,
)

if TYPE_CHECKING:
    from protobuild.inputs import Keys

DIRECTORY = ".protobuild-cache"
_STATE = "state.json"
FORMAT = 8
# A file modified less than this before the cache was written may share its mtime with an
# edit made right after (coarse file system clocks); such files are always hashed.
_RACY_NS = 2_000_000_000

# [size, mtime_ns] of a file: a list, as JSON gives it back, so that a table of stats read
# from the state file and one taken from the disk compare equal in one step.
Stat = list[int]
_T = TypeVar("_T")


class Entry(NamedTuple):
    """What the cache knows: the keys it was written for, when, and the output files (paths
    relative to the output directory). `stats` holds the size and mtime of each file whose
    recorded digest they are known to belong to."""

    key: str
    written_ns: int
    digests: Mapping[str, str]
    stats: Mapping[str, Stat] = {}
    base_key: str = ""
    protos: Mapping[str, str] = {}  # import path -> digest
    owners: Mapping[str, str] = {}  # output path -> import path
    proto_stats: Mapping[str, Stat] = {}
    # (size, mtime) of the committed record (record.py) when it was last known current.
    record_stat: tuple[int, int] | None = None
    # The versions of the installed distributions as of `base_key` (name -> version).
    versions: Mapping[str, str] = {}
    # The output directory the digests' paths are relative to ("" when unknown).
    output: str = ""


def trusted(stat: Stat, recorded: Stat | None, entry: Entry) -> bool:
    """Whether a file's size and mtime vouch for the bytes recorded with them: unchanged, and
    older than the cache by more than the racy window (git's rule for "racily clean")."""
    return stat == recorded and stat[1] < entry.written_ns - _RACY_NS


def all_trusted(stats: Mapping[str, Stat], recorded: Mapping[str, Stat], entry: Entry) -> bool:
    """`trusted` for a whole table at once: the same files, each as recorded, none racy."""
    return stats == recorded and _newest(stats) < entry.written_ns - _RACY_NS


def read_digest(path: str | Path) -> str:
    with open(path, "rb") as handle:
        return _digest(handle.read())


def scan(root: str, suffixes: tuple[str, ...] = (), sources: bool = False) -> dict[str, Stat]:
    """The stat of every file below `root` (with one of `suffixes`, if given), by posix path
    relative to it. The directories tree.is_skipped_dir names are skipped (a tree at the
    project's top, "." as a root or as the output, would otherwise be walked through the
    repository's history), and so are virtual environments and other protobuild projects
    (tree.OTHER_TREE_MARKERS).

    With `sources`, as with Path.rglob, symlinked directories are not followed (a link back
    up would never end), and a file whose path is not UTF-8 is a ResolveError (require_utf8).
    """
    found: dict[str, Stat] = {}
    pending = [("", root)]
    while pending:
        prefix, directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        names = [item.name for item in entries]
        if prefix and not OTHER_TREE_MARKERS.isdisjoint(names):
            continue
        for item, name in zip(entries, names, strict=True):
            if item.is_dir(follow_symlinks=not sources):
                if not is_skipped_dir(name):
                    pending.append((f"{prefix}{name}/", item.path))
            elif not suffixes or name.endswith(suffixes):
                if sources:
                    require_utf8(root, prefix + name)
                stat = item.stat()
                found[prefix + name] = [stat.st_size, stat.st_mtime_ns]
    return found


def root_protos(directory: str, prefix: str) -> dict[str, tuple[str, Stat]]:
    """Every .proto below a source root (excluded ones too), by import path: the file on
    disk and its stat. Resolve and the inputs' digest both walk roots with this, so that the
    cache's key covers exactly the files the build reads."""
    found = scan(directory, (".proto",), sources=True)
    return {
        f"{prefix}/{path}" if prefix else path: (os.path.join(directory, path), stat)
        for path, stat in found.items()
    }


class ProtoSources:
    """The .proto files below the source roots as one run sees them: each root walked once
    and each file read at most once. The inputs' digest and resolve then agree on what the
    build read (a proto edited between the two was summarised from other bytes than were
    digested, and the summary cached under the old digest), and neither pays for the other's
    walk and reads: 25 ms of the serial start of a build of 1,000 protos."""

    def __init__(self) -> None:
        self._walked: dict[tuple[str, str], dict[str, tuple[str, Stat]]] = {}
        self._bytes: dict[str, bytes] = {}

    def under(self, directory: str, prefix: str) -> Mapping[str, tuple[str, Stat]]:
        """root_protos(directory, prefix), walked once."""
        walked = self._walked.get((directory, prefix))
        if walked is None:
            walked = self._walked[directory, prefix] = root_protos(directory, prefix)
        return walked

    def read(self, file: str) -> bytes:
        """The bytes of `file`, read once (OSError when it cannot be)."""
        content = self._bytes.get(file)
        if content is None:
            with open(file, "rb") as handle:
                content = self._bytes[file] = handle.read()
        return content

    def digest(self, file: str) -> str:
        """The digest of `file` as read_digest gives it."""
        return _digest(self.read(file))


def lookup(config: Config, entry: Entry | None, run_keys: Keys) -> int | None:
    """The number of output files if the cache shows the disk current, else None.

    Like make and git, a file whose size and mtime are what the cache recorded is taken as
    unchanged without reading it, unless its mtime is too close to when the cache was written
    to tell edits apart ("racy" files are read and hashed). Files missing from disk, and files
    with protobuild's header that the cache does not know, make the output not current.
    """
    if entry is None or entry.key != run_keys.full:
        return None
    started_ns = time.time_ns()
    root = str(config.output.dir)
    present = scan(root)
    present.update({p: _stat(root, p) for p in entry.digests if _exists_outside(root, p)})
    outside = [path for path in entry.digests if is_outside(path)]
    present.update({p: _stat(root, p) for p in staged_next_to(root, outside)})
    if len(entry.stats) == len(entry.digests) and all_trusted(present, entry.stats, entry):
        return len(entry.digests)  # the usual case: decided by comparing two tables
    return _verify(config, entry, run_keys, started_ns, present)


def _verify(
    config: Config, entry: Entry, run_keys: Keys, started_ns: int, present: dict[str, Stat]
) -> int | None:
    """`lookup` file by file: files of unknown bytes are hashed, and the stats they were
    verified with are recorded for the next run (which then decides in one comparison)."""
    root = str(config.output.dir)
    for path in present.keys() - entry.digests.keys():
        if is_staged(posixpath.basename(path)):
            return None  # left by a killed run: stale
        if not _is_marker(path) and _is_generated(os.path.join(root, path)):
            return None
    racy = 0
    for path, digest in entry.digests.items():
        if path not in present:
            return None
        if _is_marker(path):
            continue
        verdict = _unchanged(root, path, digest, entry, present[path])
        if verdict is None:
            return None
        racy += verdict
    if racy or any(present[path] != entry.stats.get(path) for path in entry.digests):
        _refresh(config, entry, run_keys, started_ns, present)  # so the next run need not
    return len(entry.digests)


def verified_stat(config: Config, entry: Entry, path: str) -> Stat | None:
    """The size and mtime of output file `path` if it still has the bytes the cache recorded
    (as on a warm run, an unchanged size and mtime, not racy, vouch for them; else they are
    hashed), None if it changed or is gone."""
    recorded = entry.digests.get(path)
    full = os.path.join(str(config.output.dir), path)
    if recorded is None:
        return None
    try:
        found = os.stat(full)
        stat = [found.st_size, found.st_mtime_ns]
        if trusted(stat, entry.stats.get(path), entry) or read_digest(full) == recorded:
            return stat
    except OSError:
        pass
    return None


def digests(files: Mapping[str, bytes]) -> dict[str, str]:
    """The digest the cache records for each of `files`, by path."""
    return {path: _digest(content) for path, content in files.items()}


def store(
    config: Config,
    run_keys: Keys,
    files: Mapping[str, str],
    owners: Mapping[str, str],
    differing: Iterable[str] = (),
    record_stat: tuple[int, int] | None = None,
    verified: Mapping[str, Stat] = {},
) -> None:
    """Record `files` (digests by path, see `digests`) and which proto owns each as the
    output for `run_keys`; `differing` are paths whose bytes on disk are known to differ
    (no stat is recorded for them); `record_stat` is that of a committed record known to
    be current; `verified` are stats already taken of files known to hold their digest.

    Failures to write are ignored: the cache is an optimisation, never a reason to fail.
    """
    written_ns = time.time_ns()
    skip = set(differing)
    root = str(config.output.dir)
    stats = {p: verified.get(p) or _stat_or_none(root, p) for p in sorted(files) if p not in skip}
    known = {path: stat for path, stat in stats.items() if stat is not None}
    entry = Entry(run_keys.full, written_ns, files, known, run_keys.base, run_keys.protos, owners)
    _save(config, entry._replace(record_stat=record_stat, output=root), run_keys)


def note_record(
    config: Config, entry: Entry, run_keys: Keys, record_stat: tuple[int, int] | None
) -> None:
    """Record that the committed record now has `record_stat` (and is current)."""
    _save(config, entry._replace(record_stat=record_stat), run_keys)


def _save(config: Config, entry: Entry, run_keys: Keys) -> None:
    """Write `entry` (with `run_keys`' proto digests and stats) as the state file."""
    state = {
        "format": FORMAT,
        "key": entry.key,
        "base_key": run_keys.base,
        "written_ns": entry.written_ns,
        "record": entry.record_stat,
        "digests": dict(entry.digests),
        "stats": dict(entry.stats),
        "protos": dict(run_keys.protos),
        "proto_stats": dict(run_keys.proto_stats),
        "owners": dict(entry.owners),
        "versions": {**entry.versions, **toolchain.known()},
        "output": _from_project(config, entry.output),
    }
    write_file(config, _state_name(config), state)


def _from_project(config: Config, output: str) -> str:
    """The output directory relative to the config's directory (when inside it): a copy of
    the project, its cache included, must not take the original's output for a former one of
    its own (and suggest deleting the original's files)."""
    if not output:
        return output
    with contextlib.suppress(ValueError):
        return Path(output).relative_to(config.base_dir).as_posix()
    return output


def _state_name(config: Config) -> str:
    """The state file of `config`: one per config file, so that two configs in one directory
    (Protobuild.toml and sdk.toml) neither undo each other's cache nor take each other's
    output directory for a former one of their own."""
    if config.path.name == CONFIG_NAME:
        return _STATE
    return f"state-{config.path.name}.json"


def write_file(config: Config, name: str, value: object) -> None:
    """Write `value` as JSON to the file `name` of the cache directory, atomically; a failure
    to write is ignored."""
    directory = cache_directory(config)
    if directory is None:
        return
    with contextlib.suppress(OSError):
        write_atomically(directory / name, json.dumps(value, separators=(",", ":")).encode())


def cache_directory(config: Config) -> Path | None:
    """The project's cache directory, created (and ignored by git) if need be; None when it
    cannot be (a read-only checkout): the cache is an optimisation, never a reason to fail."""
    directory = config.base_dir / DIRECTORY
    try:
        directory.mkdir(exist_ok=True)
        ignore = directory / ".gitignore"
        if not ignore.exists():  # whole or not at all: an empty one would ignore nothing
            write_atomically(ignore, b"# Written by protobuild.\n*\n")
    except OSError:
        return None
    return directory


def _unchanged(root: str, path: str, digest: str, entry: Entry, stat: Stat) -> int | None:
    """None if the file changed; else 0, or 1 when it had to be hashed to tell. A package
    marker the user wrote in place of protobuild's (tree.is_users_marker) is theirs to change."""
    if trusted(stat, entry.stats.get(path), entry):
        return 0
    full = os.path.join(root, path)
    try:
        if read_digest(full) == digest:
            return 1
    except OSError:
        return None
    return 1 if is_users_marker(path) and not _is_generated(full) else None


def _refresh(
    config: Config, entry: Entry, run_keys: Keys, verified_ns: int, stats: Mapping[str, Stat]
) -> None:
    """Record the stats (taken before the files were verified by hashing), as of
    `verified_ns`, so that the next run trusts them without reading the files (what git does
    for "racily clean" entries)."""
    verified = {path: stats[path] for path in entry.digests}
    _save(config, entry._replace(written_ns=verified_ns, stats=verified), run_keys)


def _newest(stats: Mapping[str, Stat]) -> int:
    return max((stat[1] for stat in stats.values()), default=0)


def _exists_outside(root: str, path: str) -> bool:
    # API snapshots may live outside the output directory, where the walk does not look.
    return is_outside(path) and os.path.isfile(os.path.join(root, path))


def _stat(root: str, path: str) -> Stat:
    found = os.stat(os.path.join(root, path))
    return [found.st_size, found.st_mtime_ns]


def _stat_or_none(root: str, path: str) -> Stat | None:
    try:
        return _stat(root, path)
    except OSError:
        return None


def _is_generated(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return toolchain.is_generated(handle.read(len(toolchain.MARKER)))
    except OSError:
        return False


def load(config: Config) -> Entry | None:
    """The cache entry of `config`'s project, or None when there is no usable one.

    Tables are taken as JSON gives them, without a pass over every file: a value of the
    wrong type can only fail to equal what is on disk, which leads to a build.
    """
    try:
        state = json.loads((config.base_dir / DIRECTORY / _state_name(config)).read_bytes())
        if state["format"] != FORMAT:
            return None
        return Entry(
            _typed(state["key"], str),
            _typed(state["written_ns"], int),
            _typed(state["digests"], dict),
            _typed(state["stats"], dict),
            _typed(state["base_key"], str),
            _typed(state["protos"], dict),
            _typed(state["owners"], dict),
            _typed(state["proto_stats"], dict),
            _record_stat(state["record"]),
            _versions(state["versions"]),
            _in_project(config, _typed(state["output"], str)),
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # unreadable, corrupt or foreign: ignored, never trusted


def _in_project(config: Config, output: str) -> str:
    """The absolute output directory that _from_project stored."""
    return str(config.base_dir / output) if output else output


def _typed(value: object, kind: type[_T]) -> _T:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"expected {kind.__name__}")
    return value


def _versions(value: object) -> dict[str, str]:
    # Unlike the other tables these go into generated bytes (headers), so every one is checked.
    table = _typed(value, dict)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in table.items()):
        raise TypeError("expected versions as strings")
    return table


def _record_stat(value: object) -> tuple[int, int] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise TypeError("expected [size, mtime]")
    return int(value[0]), int(value[1])


def _digest(content: bytes) -> str:
    # Of the LF form: a CRLF checkout of the same file is the same file (tree.as_lf).
    return hashlib.blake2b(as_lf(content), digest_size=16).hexdigest()


def _is_marker(path: str) -> bool:
    # Files without a protobuild header (py.typed) are only checked for presence.
    return path.rsplit("/", 1)[-1] == "py.typed"


def write_atomically(target: Path, data: bytes) -> None:
    """Replace `target` with `data` in one step. The mode is 0o666 less the umask, as for any
    file the user writes (tempfile's 0o600 made the committed record unreadable to others)."""
    import secrets  # only when writing: a cache hit never does

    name = target.parent / f".state.{os.getpid()}.{secrets.token_hex(6)}"
    handle = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
