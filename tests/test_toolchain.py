"""The toolchain's versions are read from the installers' `NAME-VERSION.dist-info` directory
names, without importlib.metadata; they must be what importlib.metadata says."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from protobuild import toolchain


def test_every_installed_distribution_has_the_version_importlib_metadata_gives() -> None:
    names = {dist.metadata["Name"] for dist in importlib.metadata.distributions()}
    assert len(names) > 10
    for name in names:
        found = toolchain._named_by_dist_info(name)
        assert found in (None, importlib.metadata.version(name)), name


def test_the_toolchain_is_found_without_importlib_metadata() -> None:
    for name in (*toolchain.DISTRIBUTIONS, "jinja2", "Jinja2", "grpcio_tools"):
        assert toolchain._named_by_dist_info(name) == importlib.metadata.version(name)


def test_an_entry_with_two_copies_or_an_egg_is_left_to_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed upgrade can leave two dist-info directories; which one counts is then for
    importlib.metadata to say. The first sys.path entry holding any copy decides."""
    (tmp_path / "grpcio_tools-1.0.0.dist-info").mkdir()
    (tmp_path / "grpcio_tools-2.0.0.dist-info").mkdir()
    (tmp_path / "Mypy_Protobuf-9.9.egg-info").mkdir()
    (tmp_path / "protobuf-0.1.dist-info").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    assert toolchain._named_by_dist_info("grpcio-tools") is None
    assert toolchain._named_by_dist_info("mypy-protobuf") is None
    assert toolchain._named_by_dist_info("protobuf") == "0.1"  # shadows the installed one


@pytest.mark.parametrize(
    "directory",
    ["mypy_protobuf.egg-info", "Mypy.Protobuf-6.0.dev0.egg-info", "mypy.protobuf-6.0.dist-info"],
)
def test_names_compare_as_importlib_metadata_compares_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, directory: str
) -> None:
    """A source checkout's `setup.py develop` leaves `NAME.egg-info` (no version in its name)
    ahead on sys.path; another tool may keep dots in the name. Each is the distribution
    importlib.metadata finds first, so the installed copy further on must not answer."""
    (tmp_path / directory).mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    found = toolchain._named_by_dist_info("mypy-protobuf")
    assert found == ("6.0" if directory.endswith(".dist-info") else None)


def test_a_zip_archive_on_the_path_is_left_to_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "bundle.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
    monkeypatch.syspath_prepend(str(archive))
    assert toolchain._named_by_dist_info("protobuf") is None


def test_a_distribution_that_is_not_installed_is_missing() -> None:
    assert toolchain._look_up("no-such-distribution-anywhere") == "missing"
