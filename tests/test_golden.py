"""Golden trees: each case under tests/cases is generated, compared byte for byte with
tests/golden/CASE, then imported and exercised, and type-checked with mypy --strict.

Set PROTOBUILD_UPDATE_GOLDEN=1 to rewrite the golden trees after a deliberate change.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from protobuild import config
from tests.conftest import GOLDEN, UPDATE_GOLDEN, Run, tree_bytes

CASES = ("nested", "googleapis", "prefixed", "overrides")
# googleapis-common-protos ships .pyi stubs but no py.typed marker, so mypy skips them unless
# told to follow them (as docs/configuration.md tells users): the code is then checked against
# the real types of google.api, google.rpc and google.type, not against Any.
UNTYPED_DISTRIBUTIONS = """\
[mypy]
[mypy-google.api.*,google.rpc.*,google.type.*]
follow_untyped_imports = True
"""


def output_of(project: Path) -> tuple[Path, Path]:
    """(output directory, the sys.path entry it is importable from) of a case."""
    cfg = config.load(project / "Protobuild.toml")
    out = cfg.output.dir
    depth = len(cfg.output.package.split(".")) if cfg.output.package else 0
    return out, out.parents[depth - 1] if depth else out


def generate(case: Callable[[str], Path], run: Run, name: str) -> tuple[Path, Path]:
    project = case(name)
    result = run("-q")
    assert (result.code, result.err) == (0, "")
    return output_of(project)


@pytest.mark.parametrize("name", CASES)
def test_generated_tree_matches_golden(case: Callable[[str], Path], run: Run, name: str) -> None:
    _, import_root = generate(case, run, name)
    golden = GOLDEN / name
    if UPDATE_GOLDEN:
        shutil.rmtree(golden, ignore_errors=True)
        shutil.copytree(import_root, golden, ignore=shutil.ignore_patterns("__pycache__"))
    expected = tree_bytes(golden)
    actual = tree_bytes(import_root)
    assert sorted(actual) == sorted(expected), "set PROTOBUILD_UPDATE_GOLDEN=1 to accept"
    for path, content in expected.items():
        assert actual[path] == content, f"{path} differs; PROTOBUILD_UPDATE_GOLDEN=1 accepts it"


@pytest.mark.parametrize("name", CASES)
def test_generated_code_imports_and_runs(
    case: Callable[[str], Path], run: Run, name: str, tmp_path: Path
) -> None:
    _, import_root = generate(case, run, name)
    env = {**os.environ, "PYTHONPATH": str(import_root)}
    # From an unrelated directory: nothing may depend on the working directory.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = Path.cwd() / "exercise.py"
    done = subprocess.run(
        [sys.executable, str(script)], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{name}: ok\n"


@pytest.mark.slow
def test_generated_code_passes_mypy_strict(case: Callable[[str], Path], run: Run) -> None:
    roots = []
    for name in CASES:
        _, import_root = generate(case, run, name)
        shutil.copy(Path.cwd() / "exercise.py", import_root / f"exercise_{name}.py")
        roots.append(import_root)
        (import_root / "mypy.ini").write_text(UNTYPED_DISTRIBUTIONS)
    for import_root in roots:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "mypy",
                "--strict",
                "--no-incremental",
                "--explicit-package-bases",
                "--config-file",
                "mypy.ini",
                ".",
            ],
            cwd=import_root,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr
