"""Stage 5c: what `protobuild check` reports: how the committed output differs from the config's.

Writes nothing. A toolchain drift (the files were generated with other versions of protobuild,
grpcio-tools, protobuf or mypy-protobuf) is reported as such instead of as a wall of diff.
"""

from __future__ import annotations

import difflib
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from protobuild import toolchain
from protobuild.errors import shown
from protobuild.tree import Changes, OutputTree, is_outside, on_disk

MAX_DIFF_LINES = 200  # per file
# Above this many lines from a file's first difference to its last, its diff is not computed:
# difflib took minutes over a 100,000-line API snapshot edited in several places.
MAX_DIFF_SPAN = 5000
# For the whole report: a changed option or a renamed package can touch thousands of files, and
# megabytes of diff help no one reading a CI log (`git diff` after regenerating shows them all).
MAX_REPORT_DIFF_LINES = 2000


@dataclass(frozen=True)
class Drift:
    """Generated files whose header names other toolchain versions than the installed ones."""

    committed: str
    installed: str
    paths: tuple[str, ...]


def toolchain_drift(tree: OutputTree, changes: Changes) -> Drift | None:
    """The drift behind `changes`: changed files whose header names other versions of the
    toolchain than the same file would have now. (Edited templates are no drift: their
    outputs' headers name another template digest, and the diff shows what changed.)"""
    if not changes.changed or changes.current is None:
        return None
    wanted = tree.by_path()
    for path in changes.changed:
        committed = toolchain.header_versions(changes.current[path])
        now = toolchain.header_versions(wanted[path])
        if committed is not None and now is not None and _tools(committed) != _tools(now):
            return Drift(committed, now, changes.changed)
    return None


def _tools(versions: str) -> str:
    """A header's versions line without the digest of the templates (see layout.lay_out)."""
    return versions.split(", templates ", 1)[0]


def report(tree: OutputTree, changes: Changes, fix: str) -> str:
    """The text `protobuild check` prints for `changes`: a summary, diffs and the fix.

    Paths are shown relative to the working directory.
    """
    root = shown(tree.root)
    lines = [f"protobuild check: {changes.total} generated file(s) are not current in {root}/"]
    lines += _listing("changed", changes.changed, tree.root)
    lines += _listing("missing", changes.added, tree.root)
    lines += _listing("stale", changes.stale, tree.root)
    drift = toolchain_drift(tree, changes)
    if drift is not None:
        lines += [
            "the committed files were generated with other versions:",
            f"  committed: {drift.committed}",
            f"  installed: {drift.installed}",
            "install the pinned toolchain (pip install -c constraints.txt ...) or regenerate "
            "with the new one and commit the result",
        ]
    else:
        lines += _diffs(tree, changes, root)
    lines.append(f"fix: run `{fix}` and commit the result")
    return "\n".join(lines) + "\n"


def _listing(label: str, paths: Iterable[str], root: Path) -> list[str]:
    """One line per path: relative to the output directory, or for an API snapshot outside
    it, to the working directory (`api/next.pb.txt`, not `../../api/next.pb.txt`)."""
    return [f"  {label + ':':9}{listed(path, root)}" for path in paths]


def listed(path: str, root: Path) -> str:
    """An output path as reports show it (see _listing)."""
    if not is_outside(path):
        return path
    return f"{shown(Path(on_disk(root, path)))} (API snapshot)"


def _diffs(tree: OutputTree, changes: Changes, root: str) -> list[str]:
    wanted = tree.by_path()
    current = changes.current or {}
    lines: list[str] = []
    # Changed files only: the diff of a missing or stale file is the whole file, one `+` or
    # `-` line after another, and its line in the listing says all of it.
    paths = changes.changed
    for done, path in enumerate(paths):
        if len(lines) >= MAX_REPORT_DIFF_LINES:
            lines.append(
                f"... the diffs of {len(paths) - done} more file(s) are left out; after the fix, "
                "`git diff` shows every change"
            )
            break
        before = _text(current.get(path, b""))
        after = _text(wanted.get(path, b""))
        # As git names files outside the working directory: a/tmp/x, not a//tmp/x.
        shown = posixpath.normpath(f"{root}/{path}").lstrip("/")
        diff = file_diff(before, after, shown)
        lines += [line.rstrip("\n") for line in diff[:MAX_DIFF_LINES]]
        if len(diff) > MAX_DIFF_LINES:
            lines.append(f"... {len(diff) - MAX_DIFF_LINES} more diff lines for {path}")
    return lines


def file_diff(before: list[str], after: list[str], shown: str) -> list[str]:
    """The unified diff (2 lines of context) of one file's lines, as `a/shown` and `b/shown`.

    Only the span from the first difference to the last goes through difflib, whose time
    grows with the square of what it compares; a span longer than MAX_DIFF_SPAN is named
    instead of diffed.
    """
    start = _common_prefix(before, after)
    end = _common_prefix(before[start:][::-1], after[start:][::-1])
    span = max(len(before), len(after)) - start - end
    if span > MAX_DIFF_SPAN:
        last = max(len(before), len(after)) - end
        return [
            f"--- a/{shown}",
            f"+++ b/{shown}",
            f"@@ lines {start + 1}-{last} differ: too many to diff here (`git diff` shows them "
            "after the fix) @@",
        ]
    low = max(0, start - 2)  # the context the diff shows before the first difference
    high = min(end, 2)  # and after the last
    old = before[low : len(before) - end + high]
    new = after[low : len(after) - end + high]
    diff = difflib.unified_diff(old, new, f"a/{shown}", f"b/{shown}", n=2)
    return [_shifted(line, low) for line in diff]


def _common_prefix(first: list[str], second: list[str]) -> int:
    """How many lines `first` and `second` start with alike."""
    count = 0
    for one, other in zip(first, second, strict=False):
        if one != other:
            break
        count += 1
    return count


_HUNK = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def _shifted(line: str, offset: int) -> str:
    """A diff line; a hunk header's line numbers moved down by `offset` lines."""
    found = _HUNK.match(line)
    if found is None or not offset:
        return line
    old, new = int(found[1]) + offset, int(found[3]) + offset
    header = f"@@ -{old}{found[2] or ''} +{new}{found[4] or ''} @@"
    return header + line[found.end() :]


def _text(content: bytes) -> list[str]:
    return content.decode("utf-8", "replace").splitlines(keepends=True)
