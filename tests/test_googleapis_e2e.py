"""End to end over every .proto that googleapis-common-protos ships, compiled as sources under
a package of our own: generation succeeds, every module imports, and mypy --strict passes."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Run

CONFIG = """\
version = 1
[output]
dir = "gen/gapi"
package = "gapi"
[[roots]]
path = "proto"
[generators]
python = {}
grpc = {}
mypy = {}
mypy_grpc = {}
"""


def copy_distribution_protos(target: Path) -> list[str]:
    dist = importlib.metadata.distribution("googleapis-common-protos")
    protos = sorted(str(f) for f in dist.files or () if str(f).endswith(".proto"))
    for name in protos:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(str(dist.locate_file(name))), target / name)
    return protos


@pytest.mark.slow
def test_every_googleapis_proto(tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Protobuild.toml").write_text(CONFIG)
    protos = copy_distribution_protos(tmp_path / "proto")
    assert len(protos) > 50
    result = run("-q")
    assert (result.code, result.err) == (0, "")
    modules = ["gapi." + p.removesuffix(".proto").replace("/", ".") + "_pb2" for p in protos]
    # A fresh interpreter that never imports the distribution's own copies: both would
    # register the same file names in protobuf's global descriptor pool.
    script = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)\n"
    done = subprocess.run(
        [sys.executable, "-c", script, *modules],
        cwd=tmp_path / "gen",
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    typed = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-p", "gapi"],
        cwd=tmp_path / "gen",
        capture_output=True,
        text=True,
    )
    assert typed.returncode == 0, typed.stdout
    assert run("check").code == 0
