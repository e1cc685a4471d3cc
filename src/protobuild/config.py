"""Stage 1: read Protobuild.toml into a validated, immutable `Config`.

Decoding is strict: an unknown key, a wrong type, an unknown generator or an unknown generator
option is a `ConfigError` that names the file, the key path (with its line when it can be found)
and what is allowed. Every path in the file is relative to the file's own directory, never to
the working directory.
"""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from protobuild import globs
from protobuild.errors import ConfigError, Location
from protobuild.toml_reader import TableReader, did_you_mean, kind
from protobuild.tomlpos import find_key

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_NAME = "Protobuild.toml"
SUPPORTED_VERSIONS = (1,)
INIT_POLICIES = ("none", "empty")

# Options each generator accepts, with their type. protoc's builtin generators take none that
# matter for Python; mypy-protobuf's are validated here because the plugin itself matches them
# by substring and silently ignores typos.
_MYPY_FLAGS = {
    "readable_stubs": bool,
    "relax_strict_optional_primitives": bool,
    "use_default_deprecation_warnings": bool,
    "generate_concrete_servicer_stubs": bool,
}
GENERATOR_OPTIONS: Mapping[str, Mapping[str, type]] = {
    "python": {},
    "pyi": {},
    "grpc": {},
    "mypy": _MYPY_FLAGS,
    "mypy_grpc": {**_MYPY_FLAGS, "flavour": str},
    "services": {"templates": str},
}
GRPC_FLAVOURS = ("both", "sync", "async")

_TOP_KEYS = (
    "version",
    "output",
    "roots",
    "includes",
    "generators",
    "overrides",
    "packages",
    "descriptors",
    "breaking",
)
_DESCRIPTOR_KEYS = ("prefix", "target", "exclude", "source_info")
_IGNORE_KEYS = ("rule", "files", "reason")
_OUTPUT_KEYS = ("dir", "package", "init_files", "py_typed", "record")
_ROOT_KEYS = ("path", "prefix", "python_package", "exclude")
_INCLUDE_KEYS = ("before", "after", "distributions")
_OVERRIDE_KEYS = ("files", "generators")
_IMPORT_PATH = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")


class SourceRoot(NamedTuple):
    """A directory of .proto files to compile, optionally mounted under an import prefix."""

    path: Path
    prefix: str = ""
    # The Python package (relative to the output package) that `prefix` becomes; None keeps
    # the prefix's own dotted name, "" drops it.
    python_package: str | None = None
    # Patterns over import paths (as [[overrides]] files) of protos below `path` not to compile.
    exclude: tuple[str, ...] = ()

    def excludes(self, import_path: str) -> bool:
        return any(globs.match(pattern, import_path) for pattern in self.exclude)


class Generator(NamedTuple):
    """One enabled generator and its validated options, sorted by name."""

    name: str
    options: tuple[tuple[str, bool | str], ...] = ()

    def option(self, name: str, default: bool | str) -> bool | str:
        return dict(self.options).get(name, default)


class Override(NamedTuple):
    """Replaces the generator set for the files whose import path matches one of `files`."""

    files: tuple[str, ...]
    generators: tuple[Generator, ...]


class Snapshot(NamedTuple):
    """A `[[descriptors]]` entry: an API snapshot of the files under `prefix`."""

    prefix: str
    target: Path
    exclude: tuple[str, ...] = ()
    source_info: bool = False


class BreakingIgnore(NamedTuple):
    """A breaking-change rule switched off for some files, and why."""

    rule: str
    files: tuple[str, ...]
    reason: str


class Output(NamedTuple):
    """Where generated code goes and which Python package that directory is."""

    dir: Path
    package: str
    init_files: str = "empty"
    py_typed: bool = True
    # Keep the committed record of inputs and outputs (record.py) beside the config file.
    record: bool = True


class Config(NamedTuple):
    """The whole validated configuration; every path is absolute."""

    path: Path
    output: Output
    roots: tuple[SourceRoot, ...]
    before: tuple[Path, ...] = ()
    after: tuple[Path, ...] = ()
    distributions: tuple[str, ...] = ()
    generators: tuple[Generator, ...] = ()
    overrides: tuple[Override, ...] = ()
    packages: tuple[tuple[str, str], ...] = ()
    snapshots: tuple[Snapshot, ...] = ()
    breaking_ignores: tuple[BreakingIgnore, ...] = ()

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def override_for(self, import_path: str) -> int | None:
        """The index of the `[[overrides]]` table whose generators `import_path` gets (the
        last one that matches), or None for `[generators]`."""
        found = None
        for index, override in enumerate(self.overrides):
            if any(globs.match(pattern, import_path) for pattern in override.files):
                found = index
        return found

    def generators_for(self, import_path: str) -> tuple[Generator, ...]:
        """The generators that run for `import_path`."""
        index = self.override_for(import_path)
        return self.generators if index is None else self.overrides[index].generators

    @property
    def enabled_generators(self) -> tuple[Generator, ...]:
        """Every generator the config enables, those of overrides included."""
        return (*self.generators, *(g for o in self.overrides for g in o.generators))


def load(path: Path) -> Config:
    """Read and validate the config at `path`.

    Raises ConfigError for a missing or unreadable file, TOML syntax errors (with line and
    column) and every validation failure.
    """
    path = path.absolute()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path.name} not found; create one (see docs/configuration.md) or pass -f PATH",
            Location(path),
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config: {exc}", Location(path)) from exc
    return parse(text, path)


def parse(text: str, path: Path) -> Config:
    """Validate TOML `text` as the config file `path` (used for error locations and paths)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, path) from None
    return _Decoder(text, path).decode(data)


def _syntax_error(exc: tomllib.TOMLDecodeError, path: Path) -> ConfigError:
    message = str(exc)
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if found is None:
        return ConfigError(f"invalid TOML: {message}", Location(path))
    reason = message[: found.start()].strip()
    return ConfigError(f"invalid TOML: {reason}", Location(path, int(found[1]), int(found[2])))


def locate(config: Config, key: str) -> Location:
    """Where `key` (a dotted path such as `overrides[1].files`) stands in the config file, for
    errors that later stages find (the file is read again: this is only for an error)."""
    try:
        lines = config.path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return Location(config.path)
    return Location(config.path, *find_key(lines, key))


def is_python_package(name: str) -> bool:
    """True when `name` is a dotted Python package name ("" is the top level)."""
    if name == "":
        return True
    return all(part.isidentifier() and not keyword.iskeyword(part) for part in name.split("."))


class _Decoder(TableReader):
    """Walks the parsed TOML, checking each key against what is allowed where it stands."""

    def decode(self, data: dict[str, Any]) -> Config:
        self.keys(data, _TOP_KEYS, "")
        self._version(data)
        includes = self.table(data, "includes", _INCLUDE_KEYS)
        output = self._output(data)
        return Config(
            path=self.path,
            output=output,
            roots=self._roots(data),
            before=self.dirs(includes, "includes.before"),
            after=self.dirs(includes, "includes.after"),
            distributions=self.strings(includes, "includes.distributions"),
            generators=self._generators(data.get("generators", {}), "generators"),
            overrides=self._overrides(data),
            packages=self._packages(data),
            snapshots=self._snapshots(data, output.dir),
            breaking_ignores=self._breaking(data),
        )

    # -- sections ---------------------------------------------------------------------------

    def _version(self, data: dict[str, Any]) -> None:
        version = data.get("version", 1)
        if version not in SUPPORTED_VERSIONS or isinstance(version, bool):
            raise self.error(
                f"version: unsupported value {version!r}; supported: {list(SUPPORTED_VERSIONS)}",
                "version",
            )

    def _output(self, data: dict[str, Any]) -> Output:
        if "output" not in data:
            raise self.error(
                "output is required: add [output] with dir = ... and package = ...", ""
            )
        table = self.table(data, "output", _OUTPUT_KEYS)
        package = self.string(table, "output.package", required=True)
        if not is_python_package(package):
            raise self.error(
                f"output.package: {package!r} is not a dotted Python package name", "output.package"
            )
        init_files = self.string(table, "output.init_files", default="empty")
        if init_files not in INIT_POLICIES:
            raise self.error(
                f"output.init_files: {init_files!r} is not one of {list(INIT_POLICIES)}",
                "output.init_files",
            )
        return Output(
            dir=self.directory(self.string(table, "output.dir", required=True), "output.dir"),
            package=package,
            init_files=init_files,
            py_typed=self.boolean(table, "output.py_typed", default=True),
            record=self.boolean(table, "output.record", default=True),
        )

    def _roots(self, data: dict[str, Any]) -> tuple[SourceRoot, ...]:
        entries = self.array_of_tables(data, "roots")
        if not entries:
            where = "roots" if "roots" in data else ""  # `roots = []` has a line; absence none
            raise self.error("roots is required: add at least one [[roots]] with path = ...", where)
        return tuple(self._root(entry, f"roots[{i}]") for i, entry in enumerate(entries))

    def _root(self, entry: dict[str, Any], key: str) -> SourceRoot:
        self.keys(entry, _ROOT_KEYS, key)
        prefix = self.string(entry, f"{key}.prefix", default="").strip("/")
        if prefix and not _IMPORT_PATH.match(prefix):
            raise self.error(f"{key}.prefix: {prefix!r} is not an import path prefix", key)
        python_package = entry.get("python_package")
        if python_package is not None:
            python_package = self.string(entry, f"{key}.python_package")
            if not is_python_package(python_package):
                raise self.error(
                    f"{key}.python_package: {python_package!r} is not a dotted Python name", key
                )
        return SourceRoot(
            self.proto_path(self.string(entry, f"{key}.path", required=True), f"{key}.path"),
            prefix,
            python_package,
            self.strings(entry, f"{key}.exclude"),
        )

    def _generators(self, table: object, key: str) -> tuple[Generator, ...]:
        if not isinstance(table, dict):
            raise self.error(f"{key}: expected a table of generators, got {kind(table)}", key)
        self.keys(table, tuple(GENERATOR_OPTIONS), key, what="generator")
        found = tuple(self._generator(name, table[name], f"{key}.{name}") for name in sorted(table))
        names = {g.name for g in found}
        if {"pyi", "mypy"} <= names:
            raise self.error(
                f"{key}: pyi and mypy both write _pb2.pyi files; keep one of them", key
            )
        importers = [g.name for g in found if _imports_messages(g)]
        if importers and "python" not in names:
            raise self.error(
                f"{key}: {importers[0]} writes modules that import the _pb2 modules of the "
                "python generator, which is not on; add python = {}",
                key,
            )
        if "mypy_grpc" in names and "grpc" not in names:
            # Its stubs describe grpc's _pb2_grpc modules: code typed against them passes
            # mypy and then fails to import them.
            raise self.error(
                f"{key}: mypy_grpc writes stubs of the _pb2_grpc modules of the grpc "
                "generator, which is not on; add grpc = {}, or drop mypy_grpc",
                key,
            )
        return found

    def _generator(self, name: str, options: object, key: str) -> Generator:
        if not isinstance(options, dict):
            raise self.error(f"{key}: expected a table of options ({{}} for none)", key)
        allowed = GENERATOR_OPTIONS[name]
        self.keys(options, tuple(allowed), key, what=f"option of generator {name!r}")
        for option, value in options.items():
            if not isinstance(value, allowed[option]):
                raise self.error(
                    f"{key}.{option}: expected {allowed[option].__name__}, got {kind(value)}",
                    f"{key}.{option}",
                )
        flavour = options.get("flavour", "both")
        if flavour not in GRPC_FLAVOURS:
            raise self.error(f"{key}.flavour: {flavour!r} is not one of {list(GRPC_FLAVOURS)}", key)
        if "templates" in options:
            options = {**options, "templates": str(self._template_dir(options, key))}
        return Generator(name, tuple(sorted(options.items())))

    def _template_dir(self, options: dict[str, Any], key: str) -> Path:
        if not options["templates"].strip():
            raise self.error(
                f"{key}.templates: empty; name your template directory (relative to the config "
                "file), or drop the option for the stock templates",
                f"{key}.templates",
            )
        directory = self.directory(options["templates"], f"{key}.templates")
        if not directory.is_dir():
            raise self.error(
                f"{key}.templates: {options['templates']!r} is not a directory (paths are "
                "relative to the config file); fix the path, or drop the option for the stock "
                "templates",
                f"{key}.templates",
            )
        return directory

    def _overrides(self, data: dict[str, Any]) -> tuple[Override, ...]:
        found = []
        for i, entry in enumerate(self.array_of_tables(data, "overrides")):
            key = f"overrides[{i}]"
            self.keys(entry, _OVERRIDE_KEYS, key)
            files = self.strings(entry, f"{key}.files")
            if not files:
                raise self.error(f"{key}.files: give at least one pattern", key)
            if "generators" not in entry:
                raise self.error(f"{key}.generators is required", key)
            generators = self._generators(entry["generators"], f"{key}.generators")
            found.append(Override(files, generators))
        return tuple(found)

    def _snapshots(self, data: dict[str, Any], output_dir: Path) -> tuple[Snapshot, ...]:
        found = []
        for i, entry in enumerate(self.array_of_tables(data, "descriptors")):
            key = f"descriptors[{i}]"
            self.keys(entry, _DESCRIPTOR_KEYS, key)
            if "prefix" not in entry:
                raise self.error(f'{key}.prefix is required ("" for every file)', key)
            found.append(
                Snapshot(
                    prefix=self.string(entry, f"{key}.prefix").strip("/"),
                    target=self._target(entry, f"{key}.target", output_dir),
                    exclude=self.strings(entry, f"{key}.exclude"),
                    source_info=self.boolean(entry, f"{key}.source_info", default=False),
                )
            )
        targets = [s.target for s in found]
        if len(set(targets)) != len(targets):
            raise self.error("descriptors: two entries write the same target", "descriptors")
        return tuple(found)

    def _target(self, entry: dict[str, Any], key: str, output_dir: Path) -> Path:
        """A snapshot's file: neither the config file nor the output directory (or one
        holding it), which the run would replace with a file."""
        value = self.string(entry, key, required=True)
        target = self.directory(value, key)
        if target == self.path:
            raise self.error(f"{key}: the snapshot would replace this config file", key)
        if target == self.path.with_suffix(".sum"):
            raise self.error(f"{key}: the snapshot would replace this config's record", key)
        if target == output_dir or target in output_dir.parents:
            raise self.error(
                f"{key}: {value!r} is a directory the output goes in (output.dir); "
                "name a file, such as api/next.pb.txt",
                key,
            )
        return target

    def _breaking(self, data: dict[str, Any]) -> tuple[BreakingIgnore, ...]:
        table = self.table(data, "breaking", ("ignore",))
        found = []
        for i, entry in enumerate(self.array_of_tables(table, "ignore")):
            key = f"breaking.ignore[{i}]"
            self.keys(entry, _IGNORE_KEYS, key)
            rule = self.string(entry, f"{key}.rule", required=True)
            reason = self.string(entry, f"{key}.reason", required=True)
            if not reason.strip():
                raise self.error(
                    f"{key}.reason: say why the rule may be broken here, for whoever reads "
                    "the exception next",
                    f"{key}.reason",
                )
            files = self.strings(entry, f"{key}.files") or ("**",)
            found.append(BreakingIgnore(rule, files, reason))
        if found:
            self._known_rules(found)
        return tuple(found)

    def _known_rules(self, ignores: list[BreakingIgnore]) -> None:
        from protobuild.breaking import RULES  # only configs that use it pay for the import

        for i, ignore in enumerate(ignores):
            if ignore.rule not in RULES:
                hint = did_you_mean(ignore.rule, list(RULES))
                raise self.error(
                    f"breaking.ignore[{i}].rule: unknown rule {ignore.rule!r}; {hint}"
                    "docs/breaking.md lists them",
                    f"breaking.ignore[{i}].rule",
                )

    def _packages(self, data: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        table = data.get("packages", {})
        if not isinstance(table, dict):
            raise self.error(f"packages: expected a table, got {kind(table)}", "packages")
        for proto, module in table.items():
            if not proto.endswith(".proto") or not isinstance(module, str):
                raise self.error(
                    f"packages: entries map a proto import path to a module, "
                    f'e.g. "vendor/x.proto" = "x_sdk.x_pb2"; got {proto!r}',
                    "packages",
                )
            if not module or not is_python_package(module):
                raise self.error(
                    f"packages.{proto!r}: {module!r} is not a Python module", "packages"
                )
        return tuple(sorted(table.items()))


def _imports_messages(generator: Generator) -> bool:
    """Whether `generator`'s modules import the `_pb2` modules at run time: grpc's, and the
    stock services templates' (a template directory of one's own may render anything)."""
    if generator.name == "services":
        return not generator.option("templates", "")
    return generator.name == "grpc"
