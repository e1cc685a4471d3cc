"""The digests of everything a run's output depends on: what the cache and the record key on.

The inputs are the config file, every source proto (path and bytes), every proto in the
`before`/`after` directories, the versions of the named distributions (and the digests their
RECORD gives the protos they ship) and of the toolchain,
protobuild's own code and every file of the template directories in use. `shared` leaves out
what only this machine has (where the toolchain is installed, the Python version), so that a
committed record (record.py) can use it on any machine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from protobuild import cache, toolchain
from protobuild.config import Config
from protobuild.tree import as_lf, require_utf8, template_files

if TYPE_CHECKING:
    import importlib.metadata

# Part of the key: a new cache format must not meet digests made for an older one.
_KEY_FORMAT = f"protobuild-cache {cache.FORMAT}\n"
# The packages whose installed version shapes the output (toolchain.DISTRIBUTIONS and jinja2).
_TOOLCHAIN_MODULES = ("grpc_tools", "google.protobuf", "mypy_protobuf", "jinja2")


class Keys(NamedTuple):
    """The digests of a run's inputs: everything but the source protos (`base`), each source
    proto by import path, and the whole (`full`), which is what a cache hit must match.
    `shared` covers what `base` does except this machine's own traits (where the toolchain
    is installed, the Python version): the part that a committed record can use."""

    base: str
    protos: Mapping[str, str]
    full: str
    proto_stats: Mapping[str, cache.Stat] = {}
    shared: str = ""


def keys(
    config: Config, entry: cache.Entry | None = None, sources: cache.ProtoSources | None = None
) -> Keys:
    """The digests of every input of `config`'s output (see the module docstring).

    Source protos whose sizes and mtimes are what `entry` recorded (and not racy) keep their
    recorded digests without being read. `sources` walks the roots and reads the protos
    (resolve then sees the same files and bytes).
    """
    shared = _shared_inputs(config)
    base = hashlib.sha256(_KEY_FORMAT.encode())
    _add(base, "shared", shared.encode())
    _add(base, "toolchain", _toolchain_stamp().encode())
    _add(base, "python", sys.version.encode())
    protos, stats = _proto_digests(config, entry, sources or cache.ProtoSources())
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
        _add(digest, "distribution", f"{name} {toolchain.installed(name)}".encode())
        _add(digest, "distribution protos", _shipped_protos(name))
    _add_modules(digest, _own_code())
    for directory in _template_dirs(config):
        _add(digest, "templates:exists", str(directory.is_dir()).encode())
        for name, content in template_files(directory):
            _add(digest, f"templates:{name}", content)
    return digest.hexdigest()


def _shipped_protos(name: str) -> bytes:
    """Each .proto distribution `name` installed, with the digest its RECORD gives (else one
    of its bytes): a rebuilt distribution whose version stayed the same (a monorepo's own,
    reinstalled in CI) changes the inputs all the same. Only .proto lines: the rest of RECORD
    (bytecode, the installer's files) differs between machines."""
    import importlib.metadata  # the version lookup above has imported it already

    try:
        files = importlib.metadata.distribution(name).files or ()
    except importlib.metadata.PackageNotFoundError:
        return b"missing"
    lines = sorted(f"{file} {_recorded_digest(file)}" for file in files if file.suffix == ".proto")
    return "\n".join(lines).encode()


def _recorded_digest(file: importlib.metadata.PackagePath) -> str:
    if file.hash is not None:
        return f"{file.hash.mode}={file.hash.value}"
    return cache.read_digest(str(file.locate()))


def _proto_digests(
    config: Config, entry: cache.Entry | None, sources: cache.ProtoSources
) -> tuple[dict[str, str], dict[str, cache.Stat]]:
    """Digest and stat of each source proto by import path (a missing root counts too)."""
    files: dict[str, str] = {}  # import path -> where the file is
    stats: dict[str, cache.Stat] = {}
    exists: dict[str, str] = {}
    for index, root in enumerate(config.roots):
        directory = str(root.path)
        exists[f"<root {index} exists>"] = str(os.path.isdir(directory))
        for import_path, (file, stat) in sources.under(directory, root.prefix).items():
            if root.exclude and root.excludes(import_path):
                continue  # not compiled: neither an input
            stats[import_path] = stat
            files[import_path] = file
    if (
        entry is not None
        and cache.all_trusted(stats, entry.proto_stats, entry)
        and stats.keys() <= entry.protos.keys()
    ):
        # The usual case, no file read. Only the protos' digests come from the entry: its
        # `<root N exists>` keys are those of the config it was written with.
        return {**{path: entry.protos[path] for path in stats}, **exists}, stats
    digests = {
        import_path: _proto_digest(sources, files[import_path], import_path, stat, entry)
        for import_path, stat in stats.items()
    }
    return {**digests, **exists}, stats


def _proto_digest(
    sources: cache.ProtoSources,
    file: str,
    import_path: str,
    stat: cache.Stat,
    entry: cache.Entry | None,
) -> str:
    """The digest the cache recorded while size and mtime are unchanged (and not racy)."""
    if entry is not None and cache.trusted(stat, entry.proto_stats.get(import_path), entry):
        recorded = entry.protos.get(import_path)
        if recorded:
            return recorded
    return sources.digest(file)


def _add(digest: hashlib._Hash, label: str, data: bytes) -> None:
    data = as_lf(data)  # a CRLF checkout of an include or a template is the same input
    digest.update(f"{label} {len(data)}\n".encode())
    digest.update(data)


def _add_tree(digest: hashlib._Hash, label: str, root: Path) -> None:
    """Every .proto below `root`, in a fixed order, path and bytes."""
    base = str(root)
    _add(digest, f"{label}:exists", str(root.is_dir()).encode())
    for directory, _, names in sorted(os.walk(base)):
        relative = os.path.relpath(directory, base)
        if "__pycache__" in relative.split(os.sep):
            continue
        for name in sorted(names):
            if name.endswith(".proto"):
                require_utf8(base, os.path.join(relative, name))
                with open(os.path.join(directory, name), "rb") as handle:
                    _add(digest, f"{label}:{relative}/{name}", handle.read())


def _add_modules(digest: hashlib._Hash, package: Path) -> None:
    """The modules of `package` itself, not of subpackages: an installed wheel has the stock
    templates as a subpackage and a checkout does not, and both must digest alike (the
    templates are digested on their own)."""
    for name in sorted(os.listdir(package)):
        if name.endswith(".py"):
            with open(os.path.join(package, name), "rb") as handle:
                _add(digest, f"code:{name}", handle.read())


def _own_code() -> Path:
    return Path(__file__).parent


def _template_dirs(config: Config) -> list[Path]:
    found = [toolchain.stock_template_dir()]
    for generator in config.enabled_generators:
        templates = generator.option("templates", "")
        if templates:
            found.append(Path(str(templates)))
    return found


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
