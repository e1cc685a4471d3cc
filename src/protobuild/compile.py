"""Stage 3: run protoc (the one bundled in grpcio-tools) and the Python plugins.

protoc runs in-process, once per distinct set of builtin generators (normally once for the
whole tree: never once per directory), into a temporary directory that is read back, so every
generator yields the same in-memory files. mypy-protobuf runs in-process from the descriptor
set protoc wrote, without a plugin subprocess. Outputs are exactly protoc's: imports are
rewritten later, by the layout stage.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, NamedTuple

from google.protobuf import descriptor_pb2

# mypy-protobuf's field options (casttype, keytype, valuetype) must be known extensions before
# any descriptor set is parsed: protobuf never turns a field parsed as unknown into an
# extension afterwards, so the stubs depended on whether mypy-protobuf happened to be imported
# first (in a worker, or not in a serial run). protoc-gen-mypy always honours them.
from mypy_protobuf import extensions_pb2  # noqa: F401

from protobuild import grpc_modules, limits
from protobuild.chunks import temporary_directory
from protobuild.config import Generator
from protobuild.errors import CompileError, Location, shown
from protobuild.resolve import Plan, ProtoFile
from protobuild.tree import as_lf

# Generators implemented inside protoc (flag per name); the rest run in-process.
BUILTIN_FLAGS = {"python": "--python_out", "pyi": "--pyi_out", "grpc": "--grpc_python_out"}
# What each generator writes for a file, as a suffix of protoc's module path.
SUFFIXES = {
    "python": "_pb2.py",
    "pyi": "_pb2.pyi",
    "grpc": "_pb2_grpc.py",
    "mypy": "_pb2.pyi",
    "mypy_grpc": "_pb2_grpc.pyi",
}
SERVICE_ONLY = ("grpc", "mypy_grpc")
_MAX_ERROR_LINES = 5


@dataclass(frozen=True)
class GeneratedFile:
    """One file a generator produced, at protoc's own path for it."""

    proto: str  # import path of the source proto
    generator: str
    path: str  # posix path as protoc names it, e.g. acme/v1/thing_pb2.py
    content: bytes


# A file's source locations (SourceCodeInfo) that carry comments, by path (message 4, index
# 0, field 2, ...): all that the stubs and the templates look up.
Commented = dict[tuple[int, ...], descriptor_pb2.SourceCodeInfo.Location]


def commented_locations(fd: descriptor_pb2.FileDescriptorProto) -> Commented:
    """The locations of `fd` that carry comments. There is a location for nearly every token
    and few have comments; going through them all costs a large tree 50 ms, once per file."""
    return {
        tuple(location.path): location
        for location in fd.source_code_info.location
        if location.leading_comments
        or location.trailing_comments
        or location.leading_detached_comments
    }


@dataclass(frozen=True)
class Compiled:
    """protoc's and the plugins' outputs, and the descriptor sets protoc wrote for them."""

    files: tuple[GeneratedFile, ...]
    # Serialized FileDescriptorSets (with imports and source info), one per protoc run; parsed
    # and merged only when something asks for them.
    descriptors: tuple[bytes, ...]
    # Their merged set, where the compiling process has it parsed already: parsing a large
    # tree's set again costs about as much as protoc's own writing of it.
    parsed: descriptor_pb2.FileDescriptorSet | None = field(default=None, compare=False, repr=False)
    # The commented locations of the compiled files, by import path, where the compiling
    # process has them: the stubs need them, and the templates again.
    commented: Mapping[str, Commented] = field(default_factory=dict, compare=False, repr=False)

    @functools.cached_property
    def merged(self) -> descriptor_pb2.FileDescriptorSet:
        """Every file of every run once, each after its dependencies (do not modify it)."""
        return self.parsed if self.parsed is not None else merge_sets(self.descriptors)


def merge_sets(descriptors: Sequence[bytes]) -> descriptor_pb2.FileDescriptorSet:
    """Serialized descriptor sets as one, every file once, each after its dependencies."""
    if len(descriptors) == 1:  # protoc already orders dependencies first
        return descriptor_pb2.FileDescriptorSet.FromString(descriptors[0])
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    for serialized in descriptors:
        for proto in descriptor_pb2.FileDescriptorSet.FromString(serialized).file:
            files.setdefault(proto.name, proto)
    return descriptor_pb2.FileDescriptorSet(file=_topological(files))


class _ProtocRun(NamedTuple):
    """What one protoc run gave: the outputs and its descriptor set, serialized and parsed."""

    outputs: list[GeneratedFile]
    serialized: bytes
    parsed: descriptor_pb2.FileDescriptorSet


def compile_plan(plan: Plan) -> Compiled:
    """Compile every file of `plan` with its generators, in this process.

    (The pipeline splits large plans into chunks and compiles each in its own process.)
    Raises CompileError when protoc or mypy-protobuf rejects the input; protoc's messages keep
    their line and column and name the user's real file instead of its import path.
    """
    runs = [_run_protoc(plan, b, group) for b, group in protoc_groups(plan.files).items()]
    serialized = tuple(run.serialized for run in runs)
    # The usual case is one run, whose set, parsed already, is the merged one.
    fds = runs[0].parsed if len(runs) == 1 else merge_sets(serialized)
    grpc_modules.reject_special_rpc_names(fds, plan.files)
    commented = _commented(fds, plan.files)
    files = [f for run in runs for f in run.outputs] + _run_mypy_protobuf(plan, fds, commented)
    return Compiled(tuple(sorted(files, key=lambda f: f.path)), serialized, fds, commented)


def _commented(
    fds: descriptor_pb2.FileDescriptorSet, files: Sequence[ProtoFile]
) -> dict[str, Commented]:
    """The commented locations of each of `files`, by import path."""
    wanted = {proto.import_path for proto in files}
    return {fd.name: commented_locations(fd) for fd in fds.file if fd.name in wanted}


def descriptor_set(plan: Plan) -> descriptor_pb2.FileDescriptorSet:
    """Every file of `plan` and its imports, with source info, from one protoc run that
    generates nothing (for comparisons, where no code is needed)."""
    with _scratch_directory() as tmp:
        code, errors = run_protoc(protoc_argv(plan, plan.files, (), Path(tmp)))
        if code != 0:
            raise _protoc_failure(errors, plan.files, Path(tmp))
        return descriptor_pb2.FileDescriptorSet.FromString(
            (Path(tmp) / "descriptors.binpb").read_bytes()
        )


def protoc_groups(files: Sequence[ProtoFile]) -> dict[tuple[str, ...], list[ProtoFile]]:
    """Files by their set of builtin generators: each group is one protoc run."""
    groups: dict[tuple[str, ...], list[ProtoFile]] = {}
    for proto in files:
        key = tuple(g.name for g in proto.generators if g.name in BUILTIN_FLAGS)
        groups.setdefault(key, []).append(proto)
    return groups


def protoc_argv(
    plan: Plan, group: Sequence[ProtoFile], builtins: Sequence[str], out: Path
) -> list[str]:
    """The exact protoc command line for one group (argv[0] is the program name)."""
    argv = ["protoc", *(root.protoc_flag() for root in plan.includes)]
    # A .zip output is one file protoc writes, instead of a file and directories per proto:
    # half of protoc's time on a large tree.
    argv += [f"{BUILTIN_FLAGS[name]}={out / (name + '.zip')}" for name in builtins]
    argv += [f"--descriptor_set_out={out / 'descriptors.binpb'}", "--include_imports"]
    argv += ["--include_source_info", *(proto.import_path for proto in group)]
    return argv


def _run_protoc(plan: Plan, builtins: Sequence[str], group: Sequence[ProtoFile]) -> _ProtocRun:
    """One protoc run for `group`: its outputs and the descriptor set, serialized and parsed."""
    with _scratch_directory() as tmp:
        out = Path(tmp)
        code, errors = run_protoc(protoc_argv(plan, group, builtins, out))
        if code != 0:
            raise _protoc_failure(errors, plan.files, out)
        serialized = (out / "descriptors.binpb").read_bytes()
        descriptors = descriptor_pb2.FileDescriptorSet.FromString(serialized)
        with_services = _files_with_services(descriptors)
        outputs = []
        for name in builtins:
            wanted = [
                p for p in group if name not in SERVICE_ONLY or p.import_path in with_services
            ]
            outputs += _read_zip(out / f"{name}.zip", name, wanted)
    return _ProtocRun(
        grpc_modules.tidied(outputs, descriptors, group, serialized), serialized, descriptors
    )


def _read_zip(archive: Path, generator: str, group: Sequence[ProtoFile]) -> list[GeneratedFile]:
    """`generator`'s outputs for `group` from the archive protoc wrote."""
    # Read whole, then unpacked from memory: from the file, each entry cost a seek and reads.
    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as files:
        entries = {_entry_name(info): info for info in files.infolist()}
        return [
            GeneratedFile(proto.import_path, generator, path, files.read(entries[path]))
            for proto in group
            for path in [output_path(proto.import_path, generator)]
        ]


def _entry_name(info: zipfile.ZipInfo) -> str:
    """The real name of an entry of protoc's archive.

    protoc stores names in UTF-8 without setting the archive's UTF-8 flag, so zipfile decodes
    them as cp437: `ü/a_pb2.py` would not be found under its own name.
    """
    if info.flag_bits & _ZIP_UTF8_FLAG:
        return info.filename
    raw = info.filename.encode("cp437")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return info.filename


_ZIP_UTF8_FLAG = 0x800  # general purpose bit 11: the name is UTF-8


def output_path(import_path: str, generator: str) -> str:
    """Where protoc's naming puts `generator`'s output for a file (`a/b.proto` -> `a/b_pb2.py`)."""
    stem = import_path.removesuffix(".proto").replace("-", "_").replace(".", "/")
    return stem + SUFFIXES[generator]


def run_protoc(argv: Sequence[str]) -> tuple[int, str]:
    """Run the bundled protoc in-process; returns its exit code and what it wrote to stderr.

    protoc writes to file descriptor 2 directly, so the descriptor itself is redirected
    (redirect_stderr would see nothing). Raises CompileError when protoc failed and what it
    wrote was cut short by the limit on file size (its last words, the error, are lost).
    """
    compiler = _compiler()
    with _captured_fd(2) as read:
        code = compiler.run_main([arg.encode() for arg in argv])
        errors = read()
    if code != 0 and limits.fills_file_size_limit(len(errors.encode())):
        raise CompileError(
            "protoc failed, and the limit on file size cut its messages short; "
            + (limits.way_out(errno.EFBIG) or "")
        )
    return int(code), errors


def _compiler() -> _ProtocCompiler:
    # Importing grpc_tools.protoc would add import hooks to sys.meta_path; the compiler
    # extension alone does not.
    os.environ.setdefault("GRPC_PYTHON_DISABLE_DYNAMIC_STUBS", "true")
    from grpc_tools import _protoc_compiler

    compiler: _ProtocCompiler = _protoc_compiler
    return compiler


class _ProtocCompiler:
    """The shape of grpc_tools._protoc_compiler, which ships no type information."""

    @staticmethod
    def run_main(argv: list[bytes]) -> int:
        raise NotImplementedError


@contextlib.contextmanager
def _captured_fd(fd: int) -> Iterator[functools.partial[str]]:
    # Not a pipe: protoc runs holding the GIL, so no thread could drain one while it writes.
    with _memory_file() as sink:
        saved = os.dup(fd)
        os.dup2(sink.fileno(), fd)
        try:
            yield functools.partial(_read_back, sink)
        finally:
            os.dup2(saved, fd)
            os.close(saved)


def _memory_file() -> IO[bytes]:
    """A file in memory where the platform has them (Linux): protoc's message about a full
    temporary directory must not need space there to reach the user."""
    if hasattr(os, "memfd_create"):
        return os.fdopen(os.memfd_create("protoc-stderr"), "w+b")
    return tempfile.TemporaryFile()


def _read_back(sink: IO[bytes]) -> str:
    sink.seek(0)
    return sink.read().decode("utf-8", "replace")


def _protoc_failure(
    errors: str, files: Sequence[ProtoFile], scratch: Path | None = None
) -> CompileError | OSError:
    """protoc's first errors, with import paths replaced by the files users edit. Warnings
    (an unused import) are left out when there are errors: a tree with hundreds of them
    otherwise hid the one line that said what failed."""
    sources = {proto.import_path: proto.source for proto in files}
    if _out_of_descriptors(errors, sources):
        return OSError(errno.EMFILE, os.strerror(errno.EMFILE))
    lines = [line for line in errors.splitlines() if line.strip()]
    if not lines:
        return CompileError("protoc failed without a message")
    lines = [line for line in lines if not _is_warning(line)] or lines
    if scratch is not None and lines[0].startswith(f"{scratch}{os.sep}"):
        return _scratch_error(lines[0].rpartition(": ")[2])
    lines = [_real_path(line, sources) for line in lines]
    first = re.match(r"^(.+?):(\d+):(\d+): (.*)$", lines[0])
    extra = lines[1:_MAX_ERROR_LINES]
    more = len(lines) - _MAX_ERROR_LINES
    tail = "".join(f"\n{line}" for line in extra) + (f"\n... and {more} more" if more > 0 else "")
    if first is None:
        return CompileError(f"protoc: {lines[0]}{tail}")
    location = Location(first[1], int(first[2]), int(first[3]))
    return CompileError(first[4] + tail, location)


# Fewer free file descriptors than this when protoc could not open a file: the likely cause.
_FEW_DESCRIPTORS = 16


def _out_of_descriptors(errors: str, sources: Mapping[str, Path]) -> bool:
    """Whether protoc failed to open files for want of descriptors. It reports such a file
    as missing ("No such file or directory"), which sent users looking for a file that is
    there: a file it calls missing that exists, with few descriptors left free (Linux names
    them in /proc/self/fd), is taken for that."""
    if "Too many open files" in errors:
        return True
    named = [_missing_file(line) for line in errors.splitlines()]
    there = [path for path in named if path and os.path.exists(sources.get(path, path))]
    if not there:
        return False
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        used = len(os.listdir("/proc/self/fd"))
    except (ImportError, OSError):
        return False
    return limit != resource.RLIM_INFINITY and limit - used < _FEW_DESCRIPTORS


def _missing_file(line: str) -> str:
    """The file a protoc line says does not exist ("" for other lines)."""
    head, found, _ = line.partition(": No such file or directory")
    return head.removeprefix("Could not make proto path relative: ") if found else ""


def _is_warning(line: str) -> bool:
    return ": warning: " in line or line.startswith("warning: ")


@contextlib.contextmanager
def _scratch_directory() -> Iterator[str]:
    """A temporary directory for protoc's outputs; CompileError naming TMPDIR if there is no
    room to make one (no free inodes, a full disk)."""
    try:
        directory = tempfile.TemporaryDirectory(prefix="protobuild-")
    except OSError as exc:
        raise _scratch_error(exc.strerror or str(exc)) from exc
    with directory as path:
        yield path


def _scratch_error(reason: str) -> CompileError:
    """protoc could not write its output, which goes to a temporary directory first."""
    way_out = "free space there, or set TMPDIR to another directory"
    if reason == os.strerror(errno.EFBIG):  # protoc says only why, as strerror words it
        way_out = limits.way_out(errno.EFBIG) or way_out
    return CompileError(
        f"protoc cannot write its output in the temporary directory {temporary_directory()}: "
        f"{reason}; {way_out}"
    )


def _real_path(line: str, sources: Mapping[str, Path]) -> str:
    """`line` with the file it starts with as the user would type it: protoc names a file by
    its import path in some errors and by its (absolute) path on disk in others."""
    head, sep, rest = line.partition(":")
    if sep and head in sources:
        return f"{shown(sources[head])}:{rest}"
    if sep and os.path.isabs(head):
        return f"{shown(head)}:{rest}"
    return line


def _files_with_services(fds: descriptor_pb2.FileDescriptorSet) -> set[str]:
    return {proto.name for proto in fds.file if proto.service}


def _topological(
    files: Mapping[str, descriptor_pb2.FileDescriptorProto],
) -> list[descriptor_pb2.FileDescriptorProto]:
    """Files ordered so that each comes after its dependencies, ties broken by name."""
    ordered: list[descriptor_pb2.FileDescriptorProto] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen or name not in files:
            return
        seen.add(name)
        for dependency in sorted(files[name].dependency):
            visit(dependency)
        ordered.append(files[name])

    for name in sorted(files):
        visit(name)
    return ordered


def _run_mypy_protobuf(
    plan: Plan, fds: descriptor_pb2.FileDescriptorSet, commented: Mapping[str, Commented]
) -> list[GeneratedFile]:
    groups = _plugin_groups(plan.files)
    if not groups:  # neither mypy generator: no index of the set, no mypy-protobuf import
        return []
    from protobuild import distribution_stubs, mypy_plugin

    with_services = _files_with_services(fds)
    stubs = mypy_plugin.Stubs(fds, commented)
    typed_stubs = any(generator.name == "mypy" for generator in groups)
    enums = distribution_stubs.protoc_styled_enums(plan, fds) if typed_stubs else {}
    outputs = []
    for generator, group in groups.items():
        targets = group
        if generator.name == "mypy_grpc":
            targets = [p for p in group if p.import_path in with_services]
            mypy_plugin.reject_stub_clashes(fds, group, generator)
        for import_path, content in stubs.generate(targets, generator).items():
            # Comments of a CRLF proto keep their carriage returns: LF files throughout.
            content = as_lf(content)
            if enums and generator.name == "mypy":  # mypy_grpc's stubs name no enum
                content = distribution_stubs.retyped(content.decode(), enums).encode()
            path = output_path(import_path, generator.name)  # mypy-protobuf's naming too
            outputs.append(GeneratedFile(import_path, generator.name, path, content))
    return outputs


def _plugin_groups(files: Sequence[ProtoFile]) -> dict[Generator, list[ProtoFile]]:
    groups: dict[Generator, list[ProtoFile]] = {}
    for proto in files:
        for generator in proto.generators:
            if generator.name in ("mypy", "mypy_grpc"):
                groups.setdefault(generator, []).append(proto)
    return groups
