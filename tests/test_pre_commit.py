"""The real pre-commit, on a throwaway git repository, using this repository's hook:
a commit with stale generated code fails, a commit with current code passes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import EXTRA_PROTO, MINIMAL_CONFIG, TESTS, THING_PROTO, Run

REPOSITORY = TESTS.parent


def git(
    *argv: str, cwd: Path, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *argv], cwd=cwd, capture_output=True, text=True, check=check, env=env
    )


def head_has_hooks() -> str | None:
    found = git("rev-parse", "HEAD", cwd=REPOSITORY, check=False)
    if found.returncode != 0:
        return None
    listed = git("ls-tree", "HEAD", ".pre-commit-hooks.yaml", cwd=REPOSITORY, check=False)
    return found.stdout.strip() if listed.stdout else None


class Repository:
    """A user's git repository with protobuild's pre-commit hook installed: `commit` adds
    `paths` and commits, returning git's result."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env

    def commit(self, message: str, *paths: str) -> subprocess.CompletedProcess[str]:
        git("add", *(paths or (".",)), cwd=self.root, env=self.env)
        return git("commit", "-qm", message, cwd=self.root, check=False, env=self.env)


@pytest.fixture
def with_hook(
    tmp_path: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, str], Repository]:
    """A generated project under git whose pre-commit runs hook `id` of this repository."""

    def make(hook: str, config: str) -> Repository:
        rev = head_has_hooks()
        if rev is None:
            pytest.skip("this checkout has no commit with .pre-commit-hooks.yaml")
        user = tmp_path / "user"
        (user / "proto/acme/v1").mkdir(parents=True)
        (user / "Protobuild.toml").write_text(config)
        (user / "proto/acme/v1/thing.proto").write_text(THING_PROTO)
        (user / ".pre-commit-config.yaml").write_text(
            f"repos:\n- repo: {REPOSITORY}\n  rev: {rev}\n  hooks:\n  - id: {hook}\n"
        )
        monkeypatch.chdir(user)
        assert run("-q").code == 0
        env = _environment(tmp_path)
        git("init", "-q", cwd=user, env=env)
        pre_commit = [sys.executable, "-m", "pre_commit", "install"]
        subprocess.run(pre_commit, cwd=user, check=True, env=env)
        return Repository(user, env)

    return make


@pytest.mark.slow
def test_pre_commit_hook_blocks_stale_code(
    with_hook: Callable[[str, str], Repository], run: Run
) -> None:
    repo = with_hook("protobuild-check", MINIMAL_CONFIG)
    first = repo.commit("current code")
    assert first.returncode == 0, first.stdout + first.stderr

    (repo.root / "proto/acme/v1/thing.proto").write_text(THING_PROTO.replace("name", "title"))
    stale = repo.commit("stale code")
    assert stale.returncode != 0
    assert "changed: acme/v1/thing_pb2.py" in stale.stdout + stale.stderr

    assert run("-q").code == 0
    fixed = repo.commit("regenerated")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


@pytest.mark.slow
def test_the_regenerating_hook_fails_a_commit_that_lacks_new_generated_files(
    with_hook: Callable[[str, str], Repository],
) -> None:
    # Without Protobuild.sum, whose change pre-commit would notice on its own.
    config = MINIMAL_CONFIG.replace('package = "pkg"\n', 'package = "pkg"\nrecord = false\n')
    assert "record = false" in config
    repo = with_hook("protobuild", config)
    assert repo.commit("current").returncode == 0

    # A new proto, committed alone: the hook writes its modules, new untracked files.
    (repo.root / "proto/acme/v1/extra.proto").write_text(EXTRA_PROTO)
    assert repo.commit("new proto", "proto").returncode != 0
    assert (repo.root / "gen/pkg/acme/v1/extra_pb2.py").exists()
    fixed = repo.commit("new proto")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


def _environment(tmp_path: Path) -> dict[str, str]:
    """Isolated pre-commit cache, the pinned toolchain, and an identity for commits."""
    env = dict(os.environ)
    env.update(
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        PIP_CONSTRAINT=str(REPOSITORY / "constraints.txt"),
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.invalid",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.invalid",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def test_the_readme_hook_pins_what_the_constraints_pin() -> None:
    # pre-commit builds its own environment from the README's list: a version there that the
    # constraints file does not name makes every user's check report a toolchain drift.
    readme = (REPOSITORY / "README.md").read_text()
    block = readme.split("additional_dependencies:", 1)[1].split("```", 1)[0]
    pinned = [line.split("#")[0].strip().removeprefix("- ") for line in block.splitlines()]
    constraints = (REPOSITORY / "constraints.txt").read_text().splitlines()
    pinned = [pin for pin in pinned if pin]
    assert pinned
    assert [pin for pin in pinned if pin not in constraints] == []
