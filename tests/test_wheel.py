"""The built wheel works on its own: it carries the stock templates, and generating from an
installed copy (not this checkout) gives the same typed services as the golden tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from protobuild.cli import main
from tests.conftest import MINIMAL_CONFIG, TESTS, THING_PROTO

REPOSITORY = TESTS.parent


@pytest.mark.slow
def test_wheel_ships_templates_and_generates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dist = tmp_path / "dist"
    # setuptools keeps build/lib between builds, and a module deleted from src/ would still
    # ship from there: build from scratch, as a clean clone does.
    shutil.rmtree(REPOSITORY / "build", ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPOSITORY)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("protobuild-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "protobuild/templates/{stem}_services.py.j2" in names
    assert "protobuild/py.typed" in names

    target = tmp_path / "installed"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    project = tmp_path / "project"
    (project / "proto/acme/v1").mkdir(parents=True)
    (project / "Protobuild.toml").write_text(MINIMAL_CONFIG + "services = {}\n")
    (project / "proto/acme/v1/thing.proto").write_text(THING_PROTO)
    # The installed copy first; dependencies from this environment's site-packages, whose
    # .pth files (among them the editable install of this checkout) are not processed.
    path = os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]])
    env = {**os.environ, "PYTHONPATH": path}
    code = "import protobuild; print(protobuild.__file__); import protobuild.cli as c; c.entry()"
    done = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=project, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(str(target))
    services = project / "gen/pkg/acme/v1/thing_services.py"
    assert "class ThingsClient" in services.read_text()
    # The record the installed copy wrote holds for this checkout too: the same version
    # digests alike however it is installed, so a check here neither rebuilds nor nags.
    os.chdir(project)
    try:
        assert main(["check"]) == 0
    finally:
        os.chdir(REPOSITORY)
    assert "note" not in capsys.readouterr().err
    shutil.rmtree(target)
