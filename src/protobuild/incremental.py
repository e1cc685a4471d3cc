"""Rebuild only what an edit affects.

When the cache shows that only source protos changed (same config, toolchain, templates and
include directories, the same set of files), the files to rebuild are the edited protos and
every proto that imports them, directly or not. The outputs of all other protos are carried
over as they are on disk, after checking that their bytes are still the ones the cache
recorded (by size and mtime where those vouch for them, as on a warm run). Anything
unusual (an added or removed proto, API snapshots, templates that render per package, an output
edited by hand) falls back to a full build, which is always correct.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from protobuild import cache, inputs
from protobuild.resolve import Plan

# Outputs layout recomputes from the whole tree, so they need no owner to be carried.
_RECOMPUTED = ("__init__.py", "py.typed")


@dataclass(frozen=True)
class Partial:
    """The part of a plan to rebuild, and the outputs carried over unchanged."""

    plan: Plan
    carried: Mapping[str, str]  # output path -> owning proto
    # The size and mtime with which each carried output was verified.
    carried_stats: Mapping[str, cache.Stat]


def partial(plan: Plan, entry: cache.Entry | None, keys: inputs.Keys) -> Partial | None:
    """What to rebuild for `plan` given the cache `entry`, or None for a full build."""
    dirty = _dirty(plan, entry, keys)
    if entry is None or dirty is None:
        return None
    affected = _with_dependents(plan, dirty)
    if len(affected) * 2 > len(plan.files):
        return None  # most of the tree: a full build costs the same and checks everything
    found = _carried(plan, entry, affected)
    if found is None:
        return None
    files = tuple(f for f in plan.files if f.import_path in affected)
    return Partial(plan.with_files(files), *found)


def _dirty(plan: Plan, entry: cache.Entry | None, keys: inputs.Keys) -> set[str] | None:
    """The edited source protos, when only source protos changed; else None."""
    if entry is None or entry.base_key != keys.base or plan.config.snapshots:
        return None
    if set(entry.protos) != set(keys.protos):
        return None
    dirty = {path for path, digest in keys.protos.items() if entry.protos[path] != digest}
    sources = {f.import_path for f in plan.files}
    if not dirty or not dirty <= sources:
        return None
    return dirty


def _with_dependents(plan: Plan, dirty: set[str]) -> set[str]:
    """`dirty` and every source proto that imports one of them, transitively."""
    importers: dict[str, set[str]] = {}
    for proto in plan.files:
        for imported in proto.imports:
            importers.setdefault(imported.path, set()).add(proto.import_path)
    affected, pending = set(dirty), list(dirty)
    while pending:
        for importer in importers.get(pending.pop(), ()):
            if importer not in affected:
                affected.add(importer)
                pending.append(importer)
    return affected


def _carried(
    plan: Plan, entry: cache.Entry, affected: set[str]
) -> tuple[dict[str, str], dict[str, cache.Stat]] | None:
    """The outputs of unaffected protos (path -> owner) and their stats, checked on disk
    against the cache; None if any changed there or if some output has no known owner (it
    could not be rebuilt on its own)."""
    for path in entry.digests:
        if path not in entry.owners and posixpath.basename(path) not in _RECOMPUTED:
            return None
    carried, stats = {}, {}
    for path, owner in entry.owners.items():
        if owner in affected:
            continue
        stat = cache.verified_stat(plan.config, entry, path)
        if stat is None:
            return None
        carried[path], stats[path] = owner, stat
    return carried, stats
