"""Module renaming in generated code: every form that names a module, and nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protobuild import rewrite
from protobuild.rewrite import Renamer, rewrite_modules

RENAMES = {
    "acme.common.types_pb2": "pkg.acme.common.types_pb2",
    "acme.v1.thing_pb2": "pkg.acme.v1.thing_pb2",
    "top_pb2": "pkg.top_pb2",
    "ext.money_pb2": "money_sdk.money_pb2",
}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "from acme.common import types_pb2 as acme_dot_common_dot_types__pb2\n",
            "from pkg.acme.common import types_pb2 as acme_dot_common_dot_types__pb2\n",
        ),
        ("from acme.common import types_pb2\n", "from pkg.acme.common import types_pb2\n"),
        ("import acme.v1.thing_pb2\n", "import pkg.acme.v1.thing_pb2\n"),
        ("import top_pb2 as top__pb2\n", "from pkg import top_pb2 as top__pb2\n"),
        ("from acme.v1.thing_pb2 import *\n", "from pkg.acme.v1.thing_pb2 import *\n"),
        ("from ext import money_pb2 as m\n", "from money_sdk import money_pb2 as m\n"),
        ("x = acme.v1.thing_pb2.Thing\n", "x = pkg.acme.v1.thing_pb2.Thing\n"),
        (
            "_builder.BuildTopDescriptorsAndMessages(D, 'acme.v1.thing_pb2', _globals)\n",
            "_builder.BuildTopDescriptorsAndMessages(D, 'pkg.acme.v1.thing_pb2', _globals)\n",
        ),
        (
            "if True:\n    from acme.common import (types_pb2 as t, other)\n",
            "if True:\n    from acme.common import other\n"
            "    from pkg.acme.common import types_pb2 as t\n",
        ),
        ("import os, top_pb2\n", "import os\nimport pkg.top_pb2\n"),
        (
            "from acme.common import (\n    types_pb2,\n)\n",
            "from pkg.acme.common import types_pb2\n",
        ),
        ("# c\nx = (acme.v1.thing_pb2.Thing)", "# c\nx = (pkg.acme.v1.thing_pb2.Thing)"),
        (
            "import top_pb2\ns = 'a\\\nb'; t = top_pb2.T\n",
            "import pkg.top_pb2\ns = 'a\\\nb'; t = pkg.top_pb2.T\n",
        ),
        ('x: "acme.v1.thing_pb2.Thing"\n', 'x: "acme.v1.thing_pb2.Thing"\n'),
        ('m = "top_pb2"\n', 'm = "pkg.top_pb2"\n'),
    ],
)
def test_renamed(before: str, after: str) -> None:
    assert rewrite_modules(before, RENAMES) == after


@pytest.mark.parametrize(
    "source",
    [
        "# see acme.v1.thing_pb2 for details\n",
        '"""Uses acme.v1.thing_pb2.Thing."""\n',
        "y = 'acme.common.types_pb2x'\n",
        "z = b'acme.v1.thing_pb2'\n",
        "w = other.acme.v1.thing_pb2\n",
        "v = my_acme.v1.thing_pb2\n",
        "from google.protobuf import empty_pb2 as _empty_pb2\n",
        "from . import thing_pb2\n",
        "x = 'it''s top_pb2'\n",
        "y = rb'top_pb2'\n",
        "z = 3.top_pb2\n",
        '"""\nimport top_pb2\n"""\n',
        "DESCRIPTOR = pool.AddSerializedFile(b'\\n\\x13acme/v1/thing.proto')\n",
    ],
)
def test_left_alone(source: str) -> None:
    assert rewrite_modules(source, RENAMES) == source


def test_a_bare_name_is_the_top_level_module_only_where_imported_as_such() -> None:
    # readable_stubs: `types_pb2` is a proto package's module here, and also the name of a
    # top-level module (a types.proto without a package) that this file does not import.
    renames = {"types_pb2": "pkg.types_pb2", "a.v1.types_pb2": "pkg.a.v1.types_pb2"}
    source = "from a.v1 import types_pb2\ndef t(self) -> types_pb2.T: ...\n"
    assert rewrite_modules(source, renames) == "from pkg.a.v1 " + source.removeprefix("from a.v1 ")
    plain = "import types_pb2, os\ndef t(self) -> types_pb2.T: ...\n"
    expected = "import pkg.types_pb2\nimport os\ndef t(self) -> pkg.types_pb2.T: ...\n"
    assert rewrite_modules(plain, renames) == expected


def test_no_renames_is_identity() -> None:
    assert rewrite_modules("import acme.v1.thing_pb2\n", {}) == "import acme.v1.thing_pb2\n"


def test_names_longer_than_the_scan_window_are_renamed_whole() -> None:
    long = ".".join(f"segment{i}" for i in range(40)) + ".deep_pb2"
    source = f"import {long}\nx = {long}.M\n"
    assert (
        rewrite_modules(source, {long: f"pkg.{long}"}) == f"import pkg.{long}\nx = pkg.{long}.M\n"
    )


# Pieces of generated code that name modules in every way, and the same names where they must
# be left alone (comments, docstrings, prefixed strings, aliases, longer names).
FRAGMENTS = [
    "from acme.common import types_pb2 as acme_dot_common_dot_types__pb2\n",
    "from acme.v1 import thing_pb2 as _thing_pb2\n",
    "from acme.v1 import thing_pb2_grpc\n",
    "import acme.v1.thing_pb2\n",
    "import top_pb2 as top__pb2\n",
    "from acme.common import (\n    types_pb2,\n    other,\n)\n",
    "    from ext import money_pb2 as m\n",
    "x = acme.v1.thing_pb2.Thing\n",
    "y = _thing_pb2.Thing  # acme.v1.thing_pb2\n",
    "z = acme_dot_common_dot_types__pb2.T.SerializeToString\n",
    "_builder.Build(D, 'acme.v1.thing_pb2', _globals)\n",
    'm = "top_pb2"\n',
    "b = b'acme.v1.thing_pb2'\n",
    '"""Docstring.\nimport top_pb2\nfrom acme.v1 import thing_pb2\n"""\n',
    "s = '''acme.v1.thing_pb2\n'''\n",
    "# from acme.v1 import thing_pb2\n",
    "w = other.acme.v1.thing_pb2\n",
    "class C:\n    value: _thing_pb2.Thing\n",
    "def f() -> None: ...\n",
    "t = 'it\\'s top_pb2'\n",
    "u = my_top_pb2.X\n",
]
RENAMES_WITH_GRPC = {**RENAMES, "acme.v1.thing_pb2_grpc": "pkg.acme.v1.thing_pb2_grpc"}
# A proto named `odd_.proto` has a module whose name ends like protoc's aliases (`__pb2`).
ODD_FRAGMENTS = [*FRAGMENTS, "import acme.odd__pb2\n", "v = acme.odd__pb2.X  # odd__pb2\n"]
RENAMES_WITH_ODD = {**RENAMES_WITH_GRPC, "acme.odd__pb2": "pkg.acme.odd__pb2"}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12))
def test_stopping_after_the_last_name_changes_nothing(pieces: list[str]) -> None:
    """The rewrite lexes only up to the last name that may be renamed: it must give what
    lexing the whole source gives."""
    source = "".join(pieces)
    whole = rewrite._rewrite("\n" + source, RENAMES_WITH_GRPC, len(source) + 1)[1:]
    assert Renamer(RENAMES_WITH_GRPC).rewrite(source) == whole


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ODD_FRAGMENTS), max_size=12))
def test_a_module_named_like_an_alias_is_still_found_last(pieces: list[str]) -> None:
    source = "".join(pieces)
    whole = rewrite._rewrite("\n" + source, RENAMES_WITH_ODD, len(source) + 1)[1:]
    assert Renamer(RENAMES_WITH_ODD).rewrite(source) == whole


def test_a_module_named_like_an_alias_is_renamed_where_it_is_named_last() -> None:
    source = "import acme.odd__pb2\nv = acme.odd__pb2.X\n"
    expected = "import pkg.acme.odd__pb2\nv = pkg.acme.odd__pb2.X\n"
    assert Renamer(RENAMES_WITH_ODD).rewrite(source) == expected


def test_a_source_naming_no_renamed_module_is_returned_as_it_is() -> None:
    source = "from google.protobuf import empty_pb2 as _empty_pb2\nx = _empty_pb2.Empty\n"
    assert Renamer(RENAMES).rewrite(source) is source
