"""The incremental cache: skip protoc when nothing that shapes the output has changed.

The key is a digest of everything the output depends on: the config file, every source proto
(path and bytes), every proto in the `before`/`after` directories, the versions of the named
distributions and of the toolchain, protobuild's own code and the templates in use. The cache
records, for that key, the digest of every file the output tree holds. When the key matches and
the files on disk still have exactly those digests, the output is current and nothing runs; any
hand edit, deletion or stray generated file makes the digests differ and a full build follows.

It lives in `.protobuild-cache/` next to Protobuild.toml, ignores itself for git, and is only
ever a hint: a corrupt, foreign or unreadable cache is ignored, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from protobuild import toolchain
from protobuild.config import Config

DIRECTORY = ".protobuild-cache"
_STATE = "state.json"
_FORMAT = 5
# A file modified less than this before the cache was written may share its mtime with an
# edit made right after (coarse file system clocks); such files are always hashed.
_RACY_NS = 2_000_000_000
# The packages whose installed version shapes the output (toolchain.DISTRIBUTIONS and jinja2).
_TOOLCHAIN_MODULES = ("grpc_tools", "google.protobuf", "mypy_protobuf", "jinja2")


class Recorded(NamedTuple):
    """One output file as the cache last saw it: its digest, and its size and mtime on disk
    when those were known to belong to exactly these bytes (-1 otherwise). (A named tuple:
    thousands are built on every warm run, and a tuple is built several times faster.)"""

    digest: str
    size: int = -1
    mtime_ns: int = -1


@dataclass(frozen=True)
class Entry:
    """What the cache knows: the keys it was written for, when, and the output files."""

    key: str
    written_ns: int
    files: Mapping[str, Recorded]  # path relative to the output directory
    base_key: str = ""
    protos: Mapping[str, str] = field(default_factory=dict)  # import path -> digest
    owners: Mapping[str, str] = field(default_factory=dict)  # output path -> import path
    proto_stats: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # (size, mtime)
    # (size, mtime) of the committed record (record.py) when it was last known current.
    record_stat: tuple[int, int] | None = None


@dataclass(frozen=True)
class Keys:
    """The digests of a run's inputs: everything but the source protos (`base`), each source
    proto by import path, and the whole (`full`), which is what a cache hit must match.
    `shared` covers what `base` does except this machine's own traits (where the toolchain
    is installed, the Python version): the part that a committed record can use."""

    base: str
    protos: Mapping[str, str]
    full: str
    proto_stats: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    shared: str = ""


def keys(config: Config, entry: Entry | None = None) -> Keys:
    """The digests of every input of `config`'s output (see the module docstring).

    A source proto whose size and mtime are what `entry` recorded (and not racy) keeps its
    recorded digest without being read.
    """
    shared = _shared_inputs(config)
    base = hashlib.sha256(f"protobuild-cache {_FORMAT}\n".encode())
    _add(base, "shared", shared.encode())
    _add(base, "toolchain", _toolchain_stamp().encode())
    _add(base, "python", sys.version.encode())
    protos, stats = _proto_digests(config, entry)
    full = hashlib.sha256(base.digest())
    for import_path, digest in sorted(protos.items()):
        _add(full, import_path, digest.encode())
    return Keys(base.hexdigest(), protos, full.hexdigest(), stats, shared)


def _shared_inputs(config: Config) -> str:
    """The digest of the inputs other than source protos that any machine with the same files
    sees alike: paths in it are relative, and nothing depends on where things are installed."""
    digest = hashlib.sha256(b"protobuild-inputs 1\n")
    _add(digest, "config", config.path.read_bytes())
    for label, directories in (("before", config.before), ("after", config.after)):
        for directory in directories:
            _add_tree(digest, label, directory)
    for name in config.distributions:
        _add(digest, "distribution", f"{name} {_version(name)}".encode())
    _add_tree(digest, "code", _own_code(), suffixes=(".py",))
    # Every file of a template directory: templates may include files of any name.
    for directory in _template_dirs(config):
        _add_tree(digest, "templates", directory, suffixes=())
    return digest.hexdigest()


def _proto_digests(
    config: Config, entry: Entry | None
) -> tuple[dict[str, str], dict[str, tuple[int, int]]]:
    """Digest and stat of each source proto by import path (a missing root counts too)."""
    digests: dict[str, str] = {}
    stats: dict[str, tuple[int, int]] = {}
    for index, root in enumerate(config.roots):
        directory = str(root.path)
        digests[f"<root {index} exists>"] = str(os.path.isdir(directory))
        for path, stat in _scan(directory, (".proto",)).items():
            import_path = f"{root.prefix}/{path}" if root.prefix else path
            stats[import_path] = stat
            digests[import_path] = _proto_digest(directory, path, import_path, stat, entry)
    return digests, stats


def _proto_digest(
    root: str, path: str, import_path: str, stat: tuple[int, int], entry: Entry | None
) -> str:
    """The digest the cache recorded while size and mtime are unchanged (and not racy)."""
    if entry is not None and _trusted(stat, entry.proto_stats.get(import_path), entry):
        recorded = entry.protos.get(import_path)
        if recorded:
            return recorded
    return _read_digest(os.path.join(root, path))


def _trusted(stat: tuple[int, int], recorded: tuple[int, int] | None, entry: Entry) -> bool:
    """Whether a file's size and mtime vouch for the bytes recorded with them: unchanged, and
    older than the cache by more than the racy window (git's rule for "racily clean")."""
    return stat == recorded and stat[1] < entry.written_ns - _RACY_NS


def _read_digest(path: str | Path) -> str:
    with open(path, "rb") as handle:
        return _digest(handle.read())


def _scan(root: str, suffixes: tuple[str, ...] = ()) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every file below `root` (with one of `suffixes`, if given), by
    posix path relative to it; __pycache__ directories are skipped."""
    found: dict[str, tuple[int, int]] = {}
    pending = [("", root)]
    while pending:
        prefix, directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for item in entries:
            if item.is_dir():
                if item.name != "__pycache__":
                    pending.append((f"{prefix}{item.name}/", item.path))
            elif not suffixes or item.name.endswith(suffixes):
                stat = item.stat()
                found[prefix + item.name] = (stat.st_size, stat.st_mtime_ns)
    return found


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
    present = _scan(root)
    present.update({p: _stat(root, p) for p in entry.files if _exists_outside(root, p)})
    for path in present.keys() - entry.files.keys():
        if not _is_marker(path) and _is_generated(os.path.join(root, path)):
            return None
    racy = 0
    for path, recorded in entry.files.items():
        if path not in present:
            return None
        if _is_marker(path):
            continue
        verdict = _unchanged(root, path, recorded, entry, present[path])
        if verdict is None:
            return None
        racy += verdict
    if racy:
        _refresh(config, entry, run_keys, started_ns, present)
    return len(entry.files)


def carried(config: Config, entry: Entry, path: str) -> bytes | None:
    """The bytes of output file `path` if they are still what the cache recorded: as on a
    warm run, an unchanged size and mtime (not racy) vouch for them, else they are hashed."""
    recorded = entry.files.get(path)
    full = os.path.join(str(config.output.dir), path)
    if recorded is None:
        return None
    try:
        found = os.stat(full)
        with open(full, "rb") as handle:
            content = handle.read()
    except OSError:
        return None
    if _trusted((found.st_size, found.st_mtime_ns), (recorded.size, recorded.mtime_ns), entry):
        return content
    return content if _digest(content) == recorded.digest else None


def digests(
    files: Mapping[str, bytes], known: Mapping[str, tuple[bytes, str]] | None = None
) -> dict[str, str]:
    """The digest the cache records for each of `files`, by path. `known` are (bytes,
    digest) pairs already at hand (outputs carried over): their digest is reused when the
    file's bytes are that very object."""
    found = {}
    for path, content in files.items():
        pair = known.get(path) if known else None
        found[path] = pair[1] if pair is not None and pair[0] is content else _digest(content)
    return found


def store(
    config: Config,
    run_keys: Keys,
    files: Mapping[str, str],
    owners: Mapping[str, str],
    differing: Iterable[str] = (),
    record_stat: tuple[int, int] | None = None,
) -> None:
    """Record `files` (digests by path, see `digests`) and which proto owns each as the
    output for `run_keys`; `differing` are paths whose bytes on disk are known to differ
    (no stat is recorded for them); `record_stat` is that of a committed record known to
    be current.

    Failures to write are ignored: the cache is an optimisation, never a reason to fail.
    """
    written_ns = time.time_ns()
    skip = set(differing)
    root = str(config.output.dir)
    recorded = {
        path: _record(root, path, digest, known_equal=path not in skip)
        for path, digest in sorted(files.items())
    }
    _save(config, run_keys, run_keys.full, owners, written_ns, recorded, record_stat)


def note_record(
    config: Config, entry: Entry, run_keys: Keys, record_stat: tuple[int, int] | None
) -> None:
    """Record that the committed record now has `record_stat` (and is current)."""
    files = {path: list(recorded) for path, recorded in entry.files.items()}
    _save(config, run_keys, entry.key, entry.owners, entry.written_ns, files, record_stat)


def _save(
    config: Config,
    run_keys: Keys,
    key: str,
    owners: Mapping[str, str],
    written_ns: int,
    files: Mapping[str, list[object]],
    record_stat: tuple[int, int] | None,
) -> None:
    """Write the state file (atomically); a failure to write is ignored."""
    state = {
        "format": _FORMAT,
        "key": key,
        "base_key": run_keys.base,
        "protos": dict(run_keys.protos),
        "proto_stats": dict(run_keys.proto_stats),
        "owners": dict(owners),
        "written_ns": written_ns,
        "files": dict(files),
        "record": record_stat,
    }
    write_file(config, _STATE, state)


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
        if not ignore.exists():
            ignore.write_text("# Written by protobuild.\n*\n")
    except OSError:
        return None
    return directory


def _record(root: str, path: str, digest: str, known_equal: bool) -> list[object]:
    if not known_equal:
        return [digest, -1, -1]
    try:
        found = os.stat(os.path.join(root, path))
    except OSError:
        return [digest, -1, -1]
    return [digest, found.st_size, found.st_mtime_ns]


def _unchanged(
    root: str, path: str, recorded: Recorded, entry: Entry, stat: tuple[int, int]
) -> int | None:
    """None if the file changed; else 0, or 1 when it had to be hashed to tell."""
    if _trusted(stat, (recorded.size, recorded.mtime_ns), entry):
        return 0
    try:
        return 1 if _read_digest(os.path.join(root, path)) == recorded.digest else None
    except OSError:
        return None


def _refresh(
    config: Config,
    entry: Entry,
    run_keys: Keys,
    verified_ns: int,
    stats: Mapping[str, tuple[int, int]],
) -> None:
    """Record the stats (taken before the files were verified by hashing), as of
    `verified_ns`, so that the next run trusts them without reading the files (what git does
    for "racily clean" entries)."""
    files = {path: [r.digest, *stats[path]] for path, r in entry.files.items()}
    _save(config, run_keys, entry.key, entry.owners, verified_ns, files, entry.record_stat)


def _exists_outside(root: str, path: str) -> bool:
    # API snapshots may live outside the output directory, where the walk does not look.
    return path.startswith("../") and os.path.isfile(os.path.join(root, path))


def _stat(root: str, path: str) -> tuple[int, int]:
    found = os.stat(os.path.join(root, path))
    return found.st_size, found.st_mtime_ns


def _is_generated(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return toolchain.is_generated(handle.read(len(toolchain.MARKER)))
    except OSError:
        return False


def load(config: Config) -> Entry | None:
    """The cache entry of `config`'s project, or None when there is no usable one."""
    try:
        state = json.loads((config.base_dir / DIRECTORY / _STATE).read_bytes())
        if state["format"] != _FORMAT:
            return None
        files = {
            str(path): Recorded(str(digest), int(size), int(mtime))
            for path, (digest, size, mtime) in state["files"].items()
        }
        return Entry(
            str(state["key"]),
            int(state["written_ns"]),
            files,
            str(state["base_key"]),
            _strings(state["protos"]),
            _strings(state["owners"]),
            {str(k): (int(size), int(mtime)) for k, (size, mtime) in state["proto_stats"].items()},
            _stat_or_none(state["record"]),
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # unreadable, corrupt or foreign: ignored, never trusted


def _stat_or_none(value: object) -> tuple[int, int] | None:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise TypeError("expected [size, mtime]")
    return int(value[0]), int(value[1])


def _strings(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise TypeError("expected a table of strings")
    return {str(k): str(v) for k, v in value.items()}


def _add(digest: hashlib._Hash, label: str, data: bytes) -> None:
    digest.update(f"{label} {len(data)}\n".encode())
    digest.update(data)


def _add_tree(
    digest: hashlib._Hash, label: str, root: Path, suffixes: Iterable[str] = (".proto",)
) -> None:
    """Every file below `root` with one of `suffixes` (any file if none), in a fixed order,
    path and bytes; bytecode caches are skipped."""
    wanted = tuple(suffixes)
    base = str(root)
    _add(digest, f"{label}:exists", str(root.is_dir()).encode())
    for directory, _, names in sorted(os.walk(base)):
        relative = os.path.relpath(directory, base)
        if "__pycache__" in relative.split(os.sep):
            continue
        for name in sorted(names):
            if not wanted or name.endswith(wanted):
                with open(os.path.join(directory, name), "rb") as handle:
                    _add(digest, f"{label}:{relative}/{name}", handle.read())


def _own_code() -> Path:
    return Path(__file__).parent


def _template_dirs(config: Config) -> list[Path]:
    found = [toolchain.stock_template_dir()]
    for generator in config.enabled_generators:
        templates = generator.option("templates", "")
        if templates:
            found.append(Path(str(templates)))
    return found


def _version(name: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def _toolchain_stamp() -> str:
    """Where each toolchain package is installed and when: a reinstall or upgrade changes it.

    Cheaper than asking importlib.metadata for versions (which costs more than the rest of a
    warm run), and enough for a cache that never leaves this machine.
    """
    parts = []
    for module in _TOOLCHAIN_MODULES:
        spec = importlib.util.find_spec(module)
        origin = spec.origin if spec is not None and spec.origin else ""
        stamp = os.stat(origin) if origin else None
        parts.append(
            f"{module}={origin}:{stamp.st_size if stamp else 0}:{stamp.st_mtime_ns if stamp else 0}"
        )
    return ";".join(parts)


def _digest(content: bytes) -> str:
    return hashlib.blake2b(content, digest_size=16).hexdigest()


def _is_marker(path: str) -> bool:
    # Files without a protobuild header (py.typed) are only checked for presence.
    return path.rsplit("/", 1)[-1] == "py.typed"


def write_atomically(target: Path, data: bytes) -> None:
    import tempfile  # only when writing: a cache hit never does

    handle, name = tempfile.mkstemp(prefix=".state.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
