"""The diffs `protobuild check` prints: only the span from a file's first difference to its
last goes through difflib, and a span too long to diff is named instead."""

from __future__ import annotations

import difflib
import re

from hypothesis import given
from hypothesis import strategies as st

from protobuild.report import MAX_DIFF_SPAN, file_diff

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _applied(before: list[str], diff: list[str]) -> list[str]:
    """`before` with the hunks of a unified diff applied (checking its context lines)."""
    result: list[str] = []
    done = 0  # lines of `before` consumed
    for line in diff[2:]:
        header = HUNK.match(line)
        if header is not None:
            start = int(header[1]) - (1 if header[2] != "0" else 0)
            result += before[done:start]
            done = start
        elif line.startswith("+"):
            result.append(line[1:])
        else:
            assert before[done] == line[1:], (done, line)
            if line.startswith(" "):
                result.append(line[1:])
            done += 1
    return result + before[done:]


@given(
    st.lists(st.sampled_from(["a\n", "b\n", "c\n", "}\n"]), max_size=40),
    st.lists(st.sampled_from(["a\n", "b\n", "c\n", "}\n"]), max_size=40),
)
def test_the_diff_turns_the_old_lines_into_the_new(before: list[str], after: list[str]) -> None:
    diff = file_diff(before, after, "x.py")
    assert _applied(before, diff) == after
    if before == after:
        assert diff == []


def test_a_change_deep_in_a_long_file_is_the_diff_difflib_gives() -> None:
    before = [f"line {n}\n" for n in range(3000)]
    after = [*before[:2500], "changed\n", *before[2501:]]
    expected = list(difflib.unified_diff(before, after, "a/x.py", "b/x.py", n=2))
    assert file_diff(before, after, "x.py") == expected
    assert expected[2] == "@@ -2499,5 +2499,5 @@\n"


def test_a_span_too_long_to_diff_is_named() -> None:
    """A 100,000-line snapshot changed near both ends: difflib took minutes over it."""
    before = [f"  field_{n % 977}: {n}\n" for n in range(100_000)]
    after = ["first changed\n", *before[1:-1], "last changed\n"]
    diff = file_diff(before, after, "api/next.pb.txt")
    assert MAX_DIFF_SPAN < 100_000
    assert diff == [
        "--- a/api/next.pb.txt",
        "+++ b/api/next.pb.txt",
        "@@ lines 1-100000 differ: too many to diff here (`git diff` shows them after the fix) @@",
    ]
