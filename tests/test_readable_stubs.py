"""mypy-protobuf's readable_stubs: stubs import other modules under their own names
(`from acme.common import types_pb2`, then `types_pb2.Money`) instead of mangled aliases; moved
into the output package, they must still import and type-check there."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import MINIMAL_CONFIG, Run

CONFIG = MINIMAL_CONFIG.replace("mypy = {}", "mypy = { readable_stubs = true }").replace(
    "mypy_grpc = {}", "mypy_grpc = { readable_stubs = true }"
)
assert CONFIG.count("readable_stubs") == 2

TYPES = """\
syntax = "proto3";
package acme.common;
// Money, as in acme.common.types_pb2 (a comment that must not be renamed).
message Money { int64 units = 1; string currency = 2; }
"""

THING = """\
syntax = "proto3";
package acme.v1;
import "acme/common/types.proto";
message Priced { acme.common.Money price = 1; repeated acme.common.Money history = 2; }
service Prices { rpc Quote(Priced) returns (acme.common.Money); }
"""

USAGE = """\
from pkg.acme.common import types_pb2
from pkg.acme.v1 import thing_pb2

priced = thing_pb2.Priced(price=types_pb2.Money(units=3, currency="EUR"))
priced.history.append(types_pb2.Money(units=1))
units: int = priced.price.units
print(units, len(priced.history), type(priced.price).__module__)
"""


@pytest.fixture
def generated(project: Callable[[dict[str, str]], Path], run: Run) -> Path:
    files = {
        "Protobuild.toml": CONFIG,
        "proto/acme/common/types.proto": TYPES,
        "proto/acme/v1/thing.proto": THING,
        # A top-level module of the same name as acme.common's: the stubs' `types_pb2.Money`
        # must stay a reference to the module they import, not become this one.
        "proto/types.proto": 'syntax = "proto3";\nmessage Top { string s = 1; }\n',
    }
    root = project(files)
    assert run("-q").code == 0
    (root / "gen/usage.py").write_text(USAGE)
    return root / "gen"


def test_imports_name_the_package_and_references_keep_their_names(generated: Path) -> None:
    for stub in ("thing_pb2.pyi", "thing_pb2_grpc.pyi"):
        text = (generated / "pkg/acme/v1" / stub).read_text()
        assert "from pkg.acme.common import types_pb2\n" in text
        assert "types_pb2.Money" in text
        assert "pkg.types_pb2" not in text
        assert not re.search(r"^(from|import) acme\b", text, re.MULTILINE)
    # The proto's comment, now a docstring, is text: left as written.
    assert (
        "Money, as in acme.common.types_pb2 (a comment"
        in (generated / "pkg/acme/common/types_pb2.pyi").read_text()
    )


def test_the_stubs_type_check_and_the_modules_run(generated: Path) -> None:
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "usage.py", "pkg"]
    checked = subprocess.run(mypy, cwd=generated, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout
    ran = subprocess.run(
        [sys.executable, "usage.py"], cwd=generated, capture_output=True, text=True, timeout=60
    )
    assert ran.stdout == "3 1 pkg.acme.common.types_pb2\n", ran.stderr
