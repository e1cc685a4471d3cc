"""Stage 2: lay the proto trees out as protoc and Python will see them.

Every .proto under a source root gets its canonical import path (the root's prefix joined with
the path under the root), its generators (after overrides) and the Python module it becomes.
Include roots are assembled in a fixed order: before, source roots, installed distributions,
after, and the well-known types bundled with grpcio-tools. Every import of a source file is
resolved here, so that a missing or shadowed file is reported with the roots that were searched
instead of as protoc's bare "not found".
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from protobuild import cache, consistency
from protobuild import resolve_messages as messages
from protobuild.config import Config, Generator, SourceRoot, is_python_package, locate
from protobuild.errors import ConfigError, InternalError, Location, ResolveError, shown
from protobuild.protofile import ProtoImport, ProtoSummary, summarize

if TYPE_CHECKING:
    import importlib.metadata

SOURCE, BEFORE, DISTRIBUTION, AFTER, WELL_KNOWN = (
    "source",
    "before",
    "distribution",
    "after",
    "well-known types",
)


@dataclass(frozen=True)
class IncludeRoot:
    """A directory protoc searches (`-I[PREFIX=]DIR`), and why it is there."""

    path: Path
    kind: str
    prefix: str = ""
    label: str = ""

    def protoc_flag(self) -> str:
        mapped = f"{self.prefix}={self.path}" if self.prefix else str(self.path)
        return f"-I{mapped}"

    def file_for(self, import_path: str) -> Path:
        """Where the file at `import_path` (under this root's prefix) is on disk."""
        return self.path / import_path.removeprefix(self.prefix).lstrip("/")

    def describe(self) -> str:
        name = f"{self.label} " if self.label else ""
        mount = f" as {self.prefix}/" if self.prefix else ""
        return f"{name}({self.kind}: {self.path}{mount})"


@dataclass(frozen=True)
class ResolvedImport:
    """One import of a source file and the root that provides it."""

    path: str
    line: int
    column: int
    root: IncludeRoot
    public: bool = False


@dataclass(frozen=True)
class ProtoFile:
    """A source .proto that this run compiles."""

    import_path: str
    source: Path
    root: IncludeRoot
    module: str  # the fully qualified module of its _pb2, as generated code imports it
    generators: tuple[Generator, ...]
    imports: tuple[ResolvedImport, ...]
    has_services: bool = False

    @property
    def protoc_module(self) -> str:
        return protoc_module(self.import_path)


@dataclass(frozen=True)
class Plan:
    """Everything the later stages need: the files, the include roots, the module map."""

    config: Config
    files: tuple[ProtoFile, ...]
    includes: tuple[IncludeRoot, ...]
    # proto import path -> Python module of its _pb2, for every file any source file imports
    # and every source file itself.
    modules: tuple[tuple[str, str], ...]

    def module_map(self) -> dict[str, str]:
        return dict(self.modules)

    def with_files(self, files: Iterable[ProtoFile]) -> Plan:
        """The same plan for only `files` (a chunk, a selection, a partial rebuild)."""
        return replace(self, files=tuple(files))


def summary_of(proto: ProtoFile) -> ProtoSummary:
    """What `summarize` found in `proto`'s source, back from the plan."""
    imports = tuple(ProtoImport(i.path, i.line, i.column, i.public) for i in proto.imports)
    return ProtoSummary(imports, proto.has_services)


def protoc_module(import_path: str) -> str:
    """The module name protoc's Python generator gives a file (`a/b-c.proto` -> `a.b_c_pb2`)."""
    stem = import_path.removesuffix(".proto").replace("-", "_").replace("/", ".")
    return stem + "_pb2"


def resolve(
    config: Config,
    known: Mapping[str, ProtoSummary] | None = None,
    sources: cache.ProtoSources | None = None,
) -> Plan:
    """Build the plan for `config`, checking the tree on disk. `known` are summaries of source
    protos (by import path) known to hold for their current bytes: those are not read again.
    `sources` walks the roots and reads the protos (those the inputs' digest read already
    are not read again).

    Raises ResolveError for a missing source root, an import that resolves nowhere, one import
    path under two roots, two protos that become one module, or a root whose import paths are
    not valid Python names; ConfigError for a distribution that is not installed.
    """
    return _Resolver(config, known or {}, sources or cache.ProtoSources()).plan()


class _Resolver:
    def __init__(
        self, config: Config, known: Mapping[str, ProtoSummary], sources: cache.ProtoSources
    ) -> None:
        self.config = config
        self.known = known
        self.sources = sources
        # [packages]: proto import path -> the module another project built from it.
        self.package_modules: Mapping[str, str] = dict(config.packages)
        # (include dir, import path) -> whether the file is there: most files import the same
        # few well-known types, which would otherwise cost a stat per import.
        self._present: dict[tuple[Path, str], bool] = {}
        self._unresolved: list[tuple[str, Location, str]] = []  # (import, where, message)

    def plan(self) -> Plan:
        sources = self._source_files()
        distributions = self._distributions()
        includes = self._include_roots(sources, distributions)
        external: dict[str, str] = {}
        files = tuple(
            self._proto_file(path, root, sources, distributions, includes, external)
            for path, (root, _spec) in sorted(sources.items())
        )
        if self._unresolved:
            raise messages.unresolved(self._unresolved)
        consistency.reject_module_collisions(files)
        consistency.reject_imports_without_python(self.config, files)
        modules = {**external, **{f.import_path: f.module for f in files}}
        consistency.reject_unused_entries(self.config, files, modules)
        return Plan(self.config, files, includes, tuple(sorted(modules.items())))

    # -- source roots -----------------------------------------------------------------------

    def _source_files(self) -> dict[str, tuple[IncludeRoot, SourceRoot]]:
        found: dict[str, tuple[IncludeRoot, SourceRoot]] = {}
        for index, spec in enumerate(self.config.roots):
            root = IncludeRoot(spec.path, SOURCE, spec.prefix, f"roots[{index}]")
            for import_path in _walk(spec, self.config, self.sources):
                if import_path in found:
                    raise messages.shadowed(import_path, found[import_path][0], root)
                found[import_path] = (root, spec)
        if len(self.config.roots) > 1:
            _reject_overlapping_roots(found, self.config)
        return found

    def _distributions(self) -> dict[str, tuple[IncludeRoot, dict[str, str]]]:
        """import path -> (root, {import path: module}) for each named distribution."""
        found: dict[str, tuple[IncludeRoot, dict[str, str]]] = {}
        for name in self.config.distributions:
            root, protos = _distribution_protos(name, self.config)
            for import_path in protos:
                found.setdefault(import_path, (root, protos))
        return found

    def _include_roots(
        self,
        sources: Mapping[str, tuple[IncludeRoot, SourceRoot]],
        distributions: Mapping[str, tuple[IncludeRoot, dict[str, str]]],
    ) -> tuple[IncludeRoot, ...]:
        before = [
            IncludeRoot(p, BEFORE, label=f"includes.before[{i}]")
            for i, p in enumerate(self.config.before)
        ]
        after = [
            IncludeRoot(p, AFTER, label=f"includes.after[{i}]")
            for i, p in enumerate(self.config.after)
        ]
        for root in (*before, *after):
            if not root.path.is_dir():
                raise ResolveError(
                    f"{root.label}: directory {root.path} does not exist (paths are relative "
                    "to the config file)",
                    locate(self.config, root.label.split("[")[0]),
                )
        source_roots = _unique(root for root, _ in sources.values())
        dist_roots = _unique(root for root, _ in distributions.values())
        wkt = IncludeRoot(well_known_types_dir(), WELL_KNOWN, label="grpcio-tools")
        return (*before, *_ordered_sources(source_roots, self.config), *dist_roots, *after, wkt)

    # -- one file -----------------------------------------------------------------------------

    def _proto_file(
        self,
        import_path: str,
        root: IncludeRoot,
        sources: Mapping[str, tuple[IncludeRoot, SourceRoot]],
        distributions: Mapping[str, tuple[IncludeRoot, dict[str, str]]],
        includes: tuple[IncludeRoot, ...],
        external: dict[str, str],
    ) -> ProtoFile:
        spec = sources[import_path][1]
        source = root.file_for(import_path)
        self._reject_shadowing_include(import_path, root, includes)
        imports = []
        summary = self.known.get(import_path) or summarize(self._read(source))
        for found in summary.imports:
            provider = self._provider(
                found.path, sources, includes, source, found.line, found.column
            )
            imports.append(
                ResolvedImport(found.path, found.line, found.column, provider, found.public)
            )
            if found.path not in sources:
                external[found.path] = self._external_module(found.path, distributions)
        return ProtoFile(
            import_path,
            source,
            root,
            self._module(import_path, spec),
            self.config.generators_for(import_path),
            tuple(imports),
            summary.has_services,
        )

    def _read(self, path: Path) -> str:
        """The text of the proto at `path`, its line ends made `\n` (as text mode reads)."""
        try:
            text = self.sources.read(str(path)).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ResolveError(f"cannot read proto: {exc}", Location(path)) from exc
        return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text

    def _provider(
        self,
        path: str,
        sources: Mapping[str, tuple[IncludeRoot, SourceRoot]],
        includes: tuple[IncludeRoot, ...],
        importer: Path,
        line: int,
        column: int,
    ) -> IncludeRoot:
        for root in includes:
            if root.kind == SOURCE:
                if path in sources and sources[path][0] == root:
                    return root
            elif self._is_file(root.path, path):
                return root
        left_out = _excluded_by(path, self.config)
        if left_out is not None:
            raise ResolveError(
                f'import "{path}" is a proto that {left_out} leaves out of the build; compile it '
                "(narrow the pattern) or provide it through includes",
                Location(importer, line, column),
            )
        # Recorded, not raised: a tree brought in from elsewhere often misses several
        # directories, and one run should name them all (see _unresolved).
        message = messages.unresolved_message(path, includes, sources)
        self._unresolved.append((path, Location(importer, line, column), message))
        return includes[-1]  # a stand-in: the plan is refused once every file is read

    def _reject_shadowing_include(
        self, import_path: str, root: IncludeRoot, includes: tuple[IncludeRoot, ...]
    ) -> None:
        for other in includes:
            if other.kind != SOURCE and self._is_file(other.path, import_path):
                raise messages.vendored(import_path, root, other)

    def _is_file(self, directory: Path, path: str) -> bool:
        key = (directory, path)
        if key not in self._present:
            self._present[key] = os.path.isfile(os.path.join(directory, path))
        return self._present[key]

    def _external_module(
        self, path: str, distributions: Mapping[str, tuple[IncludeRoot, dict[str, str]]]
    ) -> str:
        if path in self.package_modules:
            return self.package_modules[path]
        if path in distributions:
            return distributions[path][1][path]
        return protoc_module(path)

    def _module(self, import_path: str, spec: SourceRoot) -> str:
        if import_path in self.package_modules:
            raise ConfigError(
                f"packages: {import_path!r} is compiled from roots here; remove its mapping",
                locate(self.config, "packages"),
            )
        rest = import_path
        package = self.config.output.package
        if spec.python_package is not None:
            rest = import_path.removeprefix(spec.prefix).lstrip("/")
            package = ".".join(p for p in (package, spec.python_package) if p)
        relative = protoc_module(rest)
        if not is_python_package(relative):
            raise messages.not_importable(import_path, relative, spec, self.config)
        if not package and relative.partition(".")[0] in _TAKEN_TOP_LEVEL:
            raise messages.shadowing(import_path, relative.partition(".")[0], spec, self.config)
        return f"{package}.{relative}" if package else relative


def well_known_types_dir() -> Path:
    """grpcio-tools' bundled google/protobuf/*.proto, found without importing grpc_tools."""
    spec = importlib.util.find_spec("grpc_tools")
    if spec is None or spec.origin is None:
        raise InternalError("grpcio-tools is a dependency of protobuild but is not installed")
    return Path(spec.origin).parent / "_proto"


def _walk(spec: SourceRoot, config: Config, sources: cache.ProtoSources) -> list[str]:
    if not spec.path.is_dir():
        what = "is a file, not a directory" if spec.path.exists() else "does not exist"
        raise ResolveError(
            f"source root {spec.path} {what}; fix [[roots]] path (relative to this file)",
            locate(config, f"roots[{config.roots.index(spec)}].path"),
        )
    # Strings, not Path.rglob: pathlib's objects were half of resolving a large tree. The
    # cache's key is computed over the same files (cache.root_protos), never another walk.
    paths = sorted(sources.under(str(spec.path), spec.prefix))
    key = f"roots[{config.roots.index(spec)}].exclude"
    hint = " (it matches import paths, the root's prefix included)"
    consistency.reject_unmatched(spec.exclude, paths, config, key, "under this root", hint)
    return [path for path in paths if not spec.excludes(path)]


def _distribution_protos(name: str, config: Config) -> tuple[IncludeRoot, dict[str, str]]:
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError(
            f"includes.distributions: {name!r} is not installed in this Python environment; "
            f"{messages.installed_near(name)}install it (pip install {name}) or remove it from "
            "the list",
            locate(config, "includes.distributions"),
        ) from None
    files = [str(f) for f in dist.files or ()]
    protos = {f: protoc_module(f) for f in files if f.endswith(".proto")}
    if not protos:
        raise ConfigError(_ships_none(name, dist), locate(config, "includes.distributions"))
    root = Path(str(dist.locate_file("")))
    return IncludeRoot(root, DISTRIBUTION, label=name), protos


def _ships_none(name: str, dist: importlib.metadata.Distribution) -> str:
    """Why `dist` lists no .proto file: an editable install lists none of its files."""
    if _is_editable(dist):
        return (
            f"includes.distributions: {name!r} is installed in editable mode (pip install -e), "
            "which lists none of its files; name its proto directory in includes.before or "
            "includes.after instead"
        )
    return f"includes.distributions: {name!r} ships no .proto files; remove it from the list"


def _is_editable(dist: importlib.metadata.Distribution) -> bool:
    import json

    try:
        found = json.loads(dist.read_text("direct_url.json") or "{}")
        return bool(found.get("dir_info", {}).get("editable"))
    except (ValueError, AttributeError):
        return False


def _ordered_sources(roots: list[IncludeRoot], config: Config) -> list[IncludeRoot]:
    order = {spec.path: i for i, spec in enumerate(config.roots)}
    return sorted(roots, key=lambda root: order[root.path])


def _unique(roots: Iterable[IncludeRoot]) -> list[IncludeRoot]:
    return list(dict.fromkeys(roots))


def _reject_overlapping_roots(
    found: Mapping[str, tuple[IncludeRoot, SourceRoot]], config: Config
) -> None:
    """ConfigError when one file is under two roots (nested ones): it would have two import
    paths, and protoc would define its contents twice."""
    first: dict[str, tuple[str, IncludeRoot]] = {}  # file on disk -> its first import path
    for import_path, (root, _spec) in found.items():
        source = os.path.abspath(root.file_for(import_path))
        if source not in first:
            first[source] = (import_path, root)
            continue
        first_path, first_root = first[source]
        raise ConfigError(
            f"{root.label}: {shown(source)} is also under {first_root.label}, as {first_path} "
            f"there and {import_path} here; roots must not overlap: add an exclude to "
            f"{first_root.label} or remove one root",
            locate(config, root.label),
        )


def _excluded_by(import_path: str, config: Config) -> str | None:
    """`roots[i].exclude` when a source root holds `import_path` but excludes it."""
    for index, spec in enumerate(config.roots):
        if not spec.excludes(import_path):
            continue
        relative = import_path.removeprefix(f"{spec.prefix}/") if spec.prefix else import_path
        if (spec.path / relative).is_file():
            return f"roots[{index}].exclude"
    return None


# Top-level names generated modules may not take with output.package = "": the standard
# library's and those generated code imports (grpc, typing_extensions). A generated package
# of that name hides the real one. (`google` is a namespace they join instead: see layout.)
_TAKEN_TOP_LEVEL = frozenset(sys.stdlib_module_names) | {"grpc", "typing_extensions"}
