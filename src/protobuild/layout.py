"""Stage 5a: turn generator outputs into the output tree, exactly as it should be on disk.

Each generated file moves from protoc's path to its module's place under the output package,
with every reference to another generated module renamed to go through that package (well-known
types and protos of installed distributions keep their own absolute imports). Every file gets
the protobuild header; `__init__.py` files and `py.typed` are added as the config asks. The
result is a value: writing it and checking it against disk are separate stages.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from protobuild import toolchain
from protobuild.errors import CompileError
from protobuild.model import module_location
from protobuild.resolve import Plan, protoc_module
from protobuild.rewrite import Renamer
from protobuild.tree import OutputFile, OutputTree

if TYPE_CHECKING:
    from protobuild.compile import Compiled, GeneratedFile

TYPED_GENERATORS = ("pyi", "mypy", "mypy_grpc", "services")
# Namespace packages that installed distributions share (protobuf and googleapis-common-protos
# both install into google/, and into google.cloud and more below it): generated code joins
# them (output.package = "" with protos under google/, or output.package = "google"), since a
# google/__init__.py would hide google.protobuf itself, and google/cloud/__init__.py
# googleapis' google.cloud.location.
SHARED_NAMESPACES = frozenset({"google"})


@dataclass(frozen=True)
class Placed:
    """A generated file at its place in the output tree, and where it came from."""

    file: OutputFile
    proto: str
    generator: str


def place(plan: Plan, compiled: Compiled) -> tuple[Placed, ...]:
    """Each compiled file moved to its module's directory, renamed and with its header."""
    modules = plan.module_map()
    renamer = Renamer(module_renames(plan))
    return tuple(
        Placed(_place(relative_dir(plan, modules[g.proto]), g, renamer), g.proto, g.generator)
        for g in compiled.files
    )


def lay_out(
    plan: Plan,
    placed: Iterable[Placed],
    rendered: Mapping[str, Rendered],
    compiled: Compiled,
    snapshots: bool = True,
    carried: Mapping[str, str] | None = None,
) -> OutputTree:
    """The output tree for `plan` from its placed and rendered files.

    `rendered` maps paths relative to the output directory to rendered modules. With
    `snapshots`, the `[[descriptors]]` targets (from `compiled`'s descriptor sets) are part of
    the tree, at paths relative to the output directory (outside it, they start with `../`).
    `carried` are finished outputs of protos outside `plan` (path -> owning proto), verified
    on disk: the tree keeps them as they are. Raises CompileError when two generators produce
    the same path.
    """
    files: dict[str, OutputFile] = {}
    claims: dict[str, str] = {}
    owners: dict[str, str] = {}
    for item in placed:
        _claim(claims, item.file.path, f"{item.generator} for {item.proto}")
        files[item.file.path] = item.file
        owners[item.file.path] = item.proto
    for path, module in sorted(rendered.items()):
        _claim(claims, path, module.maker())
        source = module.owner or "the services templates"  # per package or run: many protos
        header = toolchain.header(source, f"templates {module.templates}")
        files[path] = OutputFile(path, (header + module.text).encode("utf-8"))
        if module.owner:
            owners[path] = module.owner
    for path, owner in sorted((carried or {}).items()):
        _claim(claims, path, f"the outputs of {owner}")
        owners[path] = owner
    for extra in _package_files(plan, [*files, *(carried or ())]):
        _claim(claims, extra.path, "the output settings")
        files[extra.path] = extra
    for snapshot in _snapshot_files(plan, compiled) if snapshots else ():
        _claim(claims, snapshot.path, "[[descriptors]]")
        files[snapshot.path] = snapshot
    _reject_files_over_directories(claims)
    ordered = tuple(files[p] for p in sorted(files))
    kept = frozenset(carried or ())
    return OutputTree(plan.config.output.dir, ordered, tuple(sorted(owners.items())), kept)


@dataclass(frozen=True)
class Rendered:
    """A module the render stage produced: its text, the digest of the templates that made
    it, and the proto it was rendered from ("" when it draws on several)."""

    text: str
    templates: str
    owner: str = ""
    template: str = ""  # the template file, as errors show it

    def maker(self) -> str:
        """Who made it, for errors naming two makers of one path."""
        return f"template {self.template}" if self.template else "the services templates"


def _snapshot_files(plan: Plan, compiled: Compiled) -> Iterable[OutputFile]:
    """Each `[[descriptors]]` target: a text-format FileDescriptorSet behind the header."""
    if not plan.config.snapshots:
        return
    from protobuild.descriptors import snapshot

    fds = compiled.merged
    for entry in plan.config.snapshots:
        text = snapshot(fds, entry.prefix, entry.exclude, entry.source_info)
        header = toolchain.header(f"the protos under {entry.prefix or 'every root'}")
        path = os.path.relpath(entry.target, plan.config.output.dir).replace(os.sep, "/")
        yield OutputFile(path, (header + text).encode("utf-8"))


def module_renames(plan: Plan) -> dict[str, str]:
    """protoc's module name -> the module generated code must import, where they differ."""
    renames = {}
    for import_path, module in plan.modules:
        original = protoc_module(import_path)
        if original != module:
            renames[original] = module
            renames[original + "_grpc"] = module + "_grpc"
    return renames


def relative_dir(plan: Plan, module: str) -> str:
    """The directory (relative to the output directory) that holds `module`."""
    return module_location(module, plan.config.output.package)[0]


def _place(directory: str, generated: GeneratedFile, renamer: Renamer) -> OutputFile:
    path = posixpath.join(directory, posixpath.basename(generated.path))
    text = renamer.rewrite(generated.content.decode("utf-8"))
    return OutputFile(path, (toolchain.header(generated.proto) + text).encode("utf-8"))


def _claim(owners: dict[str, str], path: str, owner: str) -> None:
    if path in owners:
        raise CompileError(
            f"{path} was generated twice, by {owners[path]} and by {owner}; "
            "rename one of the protos or templates"
        )
    owners[path] = owner


def _reject_files_over_directories(claims: Mapping[str, str]) -> None:
    """Raise CompileError when the tree needs a path both as a file and as the directory of
    other files (a template `acme.j2` beside the `acme/` package): writing it would fail
    half way."""
    directories: dict[str, str] = {}  # directory -> the owner of a file below it
    for path, owner in claims.items():
        parent = posixpath.dirname(path)
        while parent and parent not in directories:
            directories[parent] = owner
            parent = posixpath.dirname(parent)
    both = sorted(claims.keys() & directories.keys())
    if both:
        path = both[0]
        raise CompileError(
            f"{path} would be a file, written by {claims[path]}, and a directory, holding "
            f"files of {directories[path]}; rename the template or the proto package"
        )
    _reject_modules_beside_packages(claims, directories)


def _reject_modules_beside_packages(
    claims: Mapping[str, str], directories: Mapping[str, str]
) -> None:
    """Raise CompileError for a module `x.py` (or stub) beside a directory `x/` of the tree:
    one name for two things, so Python imports one of them and the other is unreachable."""
    for path in sorted(claims):
        stem, dot, suffix = path.rpartition(".")
        if dot and suffix in ("py", "pyi") and stem in directories:
            raise CompileError(
                f"{path}, written by {claims[path]}, and the package {stem}/, holding files of "
                f"{directories[stem]}, would have one module name and only one could be "
                "imported; rename the template or the proto file or package"
            )


def _package_files(plan: Plan, files: Iterable[str]) -> Iterable[OutputFile]:
    """The files a package needs (`__init__.py`, `py.typed`) for the output `files` (paths)."""
    output = plan.config.output
    if output.init_files == "empty":
        directories = _package_dirs(files, top_level=not output.package)
        directories = [d for d in directories if not _in_shared_namespace(output.package, d)]
        for directory in directories:
            yield OutputFile(
                posixpath.join(directory, "__init__.py"),
                f"{toolchain.MARKER}. DO NOT EDIT.\n".encode(),
            )
    if output.py_typed and _typed(plan):
        for directory in _typed_packages(output.package, files):
            yield OutputFile(posixpath.join(directory, "py.typed"), b"")


def _typed_packages(package: str, files: Iterable[str]) -> list[str]:
    """Where `py.typed` goes (PEP 561: in each top-level package): the output directory, or
    with `package = ""` each top-level package it holds. Within a shared namespace (see
    _in_shared_namespace) every level may be other distributions' too, so the marker goes
    into each directory that holds modules of ours, and never into a shared one above."""
    if package and not _in_shared_namespace(package, ""):
        return [""]
    found = set()
    for path in files:
        directory = path.rpartition("/")[0]
        if not path.endswith((".py", ".pyi")) or not (directory or package):
            continue  # a top-level module is no package
        shared = _in_shared_namespace(package, directory)
        found.add(directory if shared else directory.partition("/")[0])
    return sorted(found)


def _in_shared_namespace(package: str, directory: str) -> bool:
    """Whether `directory` is, or lies below, a shared namespace (`google`, `google.cloud`).
    Distributions install into its subpackages too (googleapis-common-protos has
    google.cloud.location, every google-cloud-* library its own google.cloud.x): an
    `__init__.py` at any level would make that level a regular package and hide theirs."""
    dotted = _dotted(package, directory)
    return any(dotted == name or dotted.startswith(f"{name}.") for name in SHARED_NAMESPACES)


def _dotted(package: str, directory: str) -> str:
    """The module name of `directory` (relative to the output directory of `package`)."""
    return ".".join(part for part in (package, directory.replace("/", ".")) if part)


def _typed(plan: Plan) -> bool:
    """Whether any generator the config enables, overrides included, writes typed code."""
    return any(g.name in TYPED_GENERATORS for g in plan.config.enabled_generators)


def _package_dirs(files: Iterable[str], top_level: bool) -> list[str]:
    """Every directory holding a module, with its ancestors up to the output directory.

    The output directory itself is a package too, unless it is a top-level source root
    (output.package = "").
    """
    dirs: set[str] = set() if top_level else {""}
    for path in files:
        if not path.endswith((".py", ".pyi")):
            continue  # a rendered document or data file makes no directory a package
        directory = path.rpartition("/")[0]
        # A directory already seen has had its ancestors added with it.
        while directory and directory not in dirs:
            dirs.add(directory)
            directory = directory.rpartition("/")[0]
    return sorted(dirs)
