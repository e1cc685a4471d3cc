"""Compare an output tree with what is on disk: the part that write and check share.

Only files that carry protobuild's header are protobuild's: those may be rewritten or removed
as stale. A file the tree wants to write over that lacks the header was written by someone
else, and is never overwritten.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from protobuild import toolchain
from protobuild.errors import Location, WriteError
from protobuild.layout import OutputTree

# Marker files whose content is the user's business once they exist.
_KEEP_IF_PRESENT = ("py.typed",)


@dataclass(frozen=True)
class Changes:
    """How the disk differs from the tree; every path is relative to the output directory."""

    root: Path
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    # The current bytes on disk of each changed or stale file, for diffs.
    current: Mapping[str, bytes] | None = None

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.stale)

    @property
    def count(self) -> int:
        return len(self.added) + len(self.changed) + len(self.stale)


def compare(tree: OutputTree, prune: bool = True) -> Changes:
    """What writing `tree` would change on disk; with prune=False nothing is stale.

    Raises WriteError when the tree would overwrite a file protobuild did not write.
    """
    wanted = tree.by_path()
    existing = dict(_generated_files(tree.root))
    added, changed = [], []
    for path, content in wanted.items():
        current = existing.get(path)
        if current is None and (tree.root / path).is_file():
            if path in _KEEP_IF_PRESENT:
                continue
            raise _foreign(tree.root / path)
        if current is None:
            added.append(path)
        elif current != content:
            changed.append(path)
    stale = sorted(set(existing) - set(wanted)) if prune else []
    current_bytes = {p: existing[p] for p in (*changed, *stale)}
    return Changes(tree.root, tuple(added), tuple(changed), tuple(stale), current_bytes)


def _foreign(target: Path) -> WriteError:
    return WriteError(
        "refusing to overwrite a file protobuild did not generate (it has no protobuild "
        "header); move it out of the output directory or delete it",
        Location(target),
    )


def _generated_files(root: Path) -> Iterator[tuple[str, bytes]]:
    if not root.is_dir():
        return
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
        for name in sorted(names):
            path = Path(directory) / name
            content = _read_if_generated(path)
            if content is not None:
                yield path.relative_to(root).as_posix(), content


def _read_if_generated(path: Path) -> bytes | None:
    try:
        with path.open("rb") as handle:
            if not toolchain.is_generated(handle.read(len(toolchain.MARKER))):
                return None
            handle.seek(0)
            return handle.read()
    except OSError:
        return None
