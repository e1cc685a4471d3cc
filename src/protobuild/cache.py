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

import hashlib
import importlib.util
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from protobuild import toolchain
from protobuild.config import Config

DIRECTORY = ".protobuild-cache"
_STATE = "state.json"
_FORMAT = 2
# A file modified less than this before the cache was written may share its mtime with an
# edit made right after (coarse file system clocks); such files are always hashed.
_RACY_NS = 2_000_000_000
# The packages whose installed version shapes the output (toolchain.DISTRIBUTIONS and jinja2).
_TOOLCHAIN_MODULES = ("grpc_tools", "google.protobuf", "mypy_protobuf", "jinja2")


@dataclass(frozen=True)
class Recorded:
    """One output file as the cache last saw it: its digest, and its size and mtime on disk
    when those were known to belong to exactly these bytes (-1 otherwise)."""

    digest: str
    size: int = -1
    mtime_ns: int = -1


@dataclass(frozen=True)
class Entry:
    """What the cache knows: the key it was written for, when, and the output files."""

    key: str
    written_ns: int
    files: Mapping[str, Recorded]  # path relative to the output directory


def key(config: Config) -> str:
    """The digest of every input of `config`'s output (see the module docstring)."""
    digest = hashlib.sha256(f"protobuild-cache {_FORMAT}\n".encode())
    _add(digest, "config", config.path.read_bytes())
    _add(digest, "toolchain", _toolchain_stamp().encode())
    _add(digest, "python", sys.version.encode())
    for index, root in enumerate(config.roots):
        _add_tree(digest, f"root{index}:{root.prefix}", root.path)
    for label, directories in (("before", config.before), ("after", config.after)):
        for directory in directories:
            _add_tree(digest, label, directory)
    for name in config.distributions:
        _add(digest, "distribution", f"{name} {_version(name)}".encode())
    for directory in (_own_code(), *_template_dirs(config)):
        _add_tree(digest, "code", directory, suffixes=(".py", ".j2", ".jinja", ".txt"))
    return digest.hexdigest()


def lookup(config: Config, cache_key: str) -> int | None:
    """The number of output files if the cache shows the disk current, else None.

    Like make and git, a file whose size and mtime are what the cache recorded is taken as
    unchanged without reading it, unless its mtime is too close to when the cache was written
    to tell edits apart ("racy" files are read and hashed). Files missing from disk, and files
    with protobuild's header that the cache does not know, make the output not current.
    """
    entry = _load(config)
    if entry is None or entry.key != cache_key:
        return None
    started_ns = time.time_ns()
    root = str(config.output.dir)
    present = set(_walk(root)) | {p for p in entry.files if _exists_outside(root, p)}
    for path in present - set(entry.files):
        if not _is_marker(path) and _is_generated(os.path.join(root, path)):
            return None
    racy = 0
    for path, recorded in entry.files.items():
        if path not in present:
            return None
        if _is_marker(path):
            continue
        verdict = _unchanged(root, path, recorded, entry.written_ns)
        if verdict is None:
            return None
        racy += verdict
    if racy:
        _refresh(config, entry, started_ns)
    return len(entry.files)


def store(
    config: Config, cache_key: str, files: Mapping[str, bytes], differing: Iterable[str] = ()
) -> None:
    """Record `files` as the output for `cache_key`; `differing` are paths whose bytes on disk
    are known to differ from `files` (their stat is not recorded).

    Failures to write are ignored: the cache is an optimisation, never a reason to fail.
    """
    written_ns = time.time_ns()
    skip = set(differing)
    root = str(config.output.dir)
    recorded = {
        path: _record(root, path, content, known_equal=path not in skip)
        for path, content in sorted(files.items())
    }
    _save(
        config, {"format": _FORMAT, "key": cache_key, "written_ns": written_ns, "files": recorded}
    )


def _save(config: Config, state: dict[str, object]) -> None:
    directory = config.base_dir / DIRECTORY
    try:
        directory.mkdir(exist_ok=True)
        (directory / ".gitignore").write_text("# Written by protobuild.\n*\n")
        _write_atomically(directory / _STATE, json.dumps(state, separators=(",", ":")).encode())
    except OSError:
        pass


def _record(root: str, path: str, content: bytes, known_equal: bool) -> list[object]:
    digest = _digest(content)
    if not known_equal:
        return [digest, -1, -1]
    try:
        found = os.stat(os.path.join(root, path))
    except OSError:
        return [digest, -1, -1]
    return [digest, found.st_size, found.st_mtime_ns]


def _unchanged(root: str, path: str, recorded: Recorded, written_ns: int) -> int | None:
    """None if the file changed; else 0, or 1 when it had to be hashed to tell."""
    full = os.path.join(root, path)
    try:
        found = os.stat(full)
    except OSError:
        return None
    same_stat = (found.st_size, found.st_mtime_ns) == (recorded.size, recorded.mtime_ns)
    if same_stat and found.st_mtime_ns < written_ns - _RACY_NS:
        return 0
    try:
        with open(full, "rb") as handle:
            return 1 if _digest(handle.read()) == recorded.digest else None
    except OSError:
        return None


def _refresh(config: Config, entry: Entry, verified_ns: int) -> None:
    """Record the stats just verified by hashing, as of `verified_ns`, so that the next run
    trusts them without reading the files (what git does for "racily clean" entries)."""
    root = str(config.output.dir)
    files = {}
    for path, recorded in entry.files.items():
        try:
            found = os.stat(os.path.join(root, path))
        except OSError:
            return
        files[path] = [recorded.digest, found.st_size, found.st_mtime_ns]
    _save(config, {"format": _FORMAT, "key": entry.key, "written_ns": verified_ns, "files": files})


def _exists_outside(root: str, path: str) -> bool:
    # API snapshots may live outside the output directory, where the walk does not look.
    return path.startswith("../") and os.path.isfile(os.path.join(root, path))


def _walk(root: str) -> list[str]:
    found: list[str] = []
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = [d for d in subdirs if d != "__pycache__"]
        relative = os.path.relpath(directory, root).replace(os.sep, "/")
        prefix = "" if relative == "." else relative + "/"
        found.extend(prefix + name for name in names)
    return found


def _is_generated(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return toolchain.is_generated(handle.read(len(toolchain.MARKER)))
    except OSError:
        return False


def _load(config: Config) -> Entry | None:
    try:
        state = json.loads((config.base_dir / DIRECTORY / _STATE).read_bytes())
        if state["format"] != _FORMAT:
            return None
        files = {
            str(path): Recorded(str(digest), int(size), int(mtime))
            for path, (digest, size, mtime) in state["files"].items()
        }
        return Entry(str(state["key"]), int(state["written_ns"]), files)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # unreadable, corrupt or foreign: ignored, never trusted


def _add(digest: hashlib._Hash, label: str, data: bytes) -> None:
    digest.update(f"{label} {len(data)}\n".encode())
    digest.update(data)


def _add_tree(
    digest: hashlib._Hash, label: str, root: Path, suffixes: Iterable[str] = (".proto",)
) -> None:
    """Every file below `root` with one of `suffixes`, in a fixed order, path and bytes."""
    wanted = tuple(suffixes)
    base = str(root)
    _add(digest, f"{label}:exists", str(root.is_dir()).encode())
    for directory, _, names in sorted(os.walk(base)):
        relative = os.path.relpath(directory, base)
        for name in sorted(names):
            if name.endswith(wanted):
                with open(os.path.join(directory, name), "rb") as handle:
                    _add(digest, f"{label}:{relative}/{name}", handle.read())


def _own_code() -> Path:
    return Path(__file__).parent


def _template_dirs(config: Config) -> list[Path]:
    from importlib import resources

    found = [Path(str(resources.files("protobuild.templates")))]
    for generator in (*config.generators, *(g for o in config.overrides for g in o.generators)):
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


def _write_atomically(target: Path, data: bytes) -> None:
    handle, name = tempfile.mkstemp(prefix=".state.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
