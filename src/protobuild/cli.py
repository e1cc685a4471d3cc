"""The `protobuild` command: parse arguments, call the library, map errors to exit codes.

Exit codes: 0 ok, 1 check found drift, 2 usage or config error, 3 protoc, plugin, template
or write error (stdout and stderr included) or a limit of the machine (memory, open files,
path length), 4 a bug in protobuild, 120 output pipe closed early, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple, TextIO, cast

from protobuild import console
from protobuild.config import CONFIG_NAME
from protobuild.errors import InternalError, ProtobuildError, WriteError, shown

COMMANDS = ("generate", "check", "explain", "breaking")
FORMATS = ("text", "json", "github")
EXIT_OK, EXIT_STALE, EXIT_USAGE, EXIT_ERROR, EXIT_BUG = 0, 1, 2, 3, 4
# What Python itself exits with when it cannot flush stdout at exit.
EXIT_BROKEN_PIPE = 120
# What shells report for a command ended by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130


class Arguments(NamedTuple):
    """The parsed command line."""

    command: str
    config: Path
    quiet: bool
    dry_run: bool
    paths: tuple[Path, ...]
    config_given: bool
    against: Path | None = None
    format: str = "text"
    exit_code: bool = False  # generate: exit 1 when files were written


def entry() -> None:
    """Console-script entry point.

    It ends the process without tearing the interpreter down: freeing a build's millions of
    objects one by one took a tenth of a partial rebuild, and nothing is left to clean up
    (worker pools and files are closed by then). mypy exits the same way.

    SIGTERM (a CI job cancelled, a pre-commit timeout) and SIGHUP (its terminal closed) stop
    a run the way Ctrl-C does, so that staged files are removed and the output tree is left
    whole either way: by default, SIGHUP ended the run half way through its renames.
    """
    signal.signal(signal.SIGTERM, _raise_interrupt)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:  # nohup: the run goes on
        signal.signal(signal.SIGHUP, _raise_interrupt)
    try:
        code = _flushed(main(sys.argv[1:]))
    except BrokenPipeError:  # `protobuild explain | head`: the reader has all it wanted
        code = EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        console.report(console.Stream(sys.stderr, "standard error"), _interrupted)
        code = EXIT_INTERRUPTED
    os._exit(code)


# What an interrupted run says: once it is writing the generated files, what became of them.
_interrupted = "protobuild: interrupted"
_INTERRUPTED_WRITING = (
    "protobuild: interrupted; the generated files were either all written or left as they were"
)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _flushed(code: int) -> int:
    """`code`, once what was printed is out; exit 3 if it cannot be (stdout is /dev/full):
    os._exit would drop it silently, and a report that never arrived must not read as 0."""
    err = console.Stream(sys.stderr, "standard error")
    try:
        console.Stream(sys.stdout, "standard output").flush()
        err.flush()
    except WriteError as exc:
        console.report(err, _format_error(exc))
        return exc.exit_code
    return code


def main(argv: Sequence[str]) -> int:
    """Run protobuild with `argv` (without the program name); returns the exit code.

    Results go to stdout (check reports, explain, --version), progress and errors to stderr.
    """
    out, err = (
        console.Stream(sys.stdout, "standard output"),
        console.Stream(sys.stderr, "standard error"),
    )
    try:
        return _main(list(argv), out, err)
    except ProtobuildError as exc:
        console.report(err, _format_error(exc))
        return exc.exit_code
    except InternalError as exc:
        console.report(err, f"protobuild: {exc}")
        return EXIT_BUG
    except BrokenPipeError:
        raise  # the reader went away: entry() ends quietly
    except Exception as exc:  # no error of ours: a bug, which must not read as "stale" (1)
        return _unexpected(exc, err)


def _main(argv: list[str], out: console.Writer, err: console.Writer) -> int:
    if "--version" in argv[: _command_index(argv)]:
        from protobuild.toolchain import tool_versions

        out.write("".join(f"{name} {version}\n" for name, version in tool_versions()))
        return EXIT_OK
    try:
        # argparse prints --help to sys.stdout and ignores an OSError doing it; through `out`
        # a help that could not be printed is an error.
        with contextlib.redirect_stdout(cast(TextIO, out)):
            args = _parse(argv)
    except SystemExit as exc:  # argparse exits for --help and usage errors
        return int(exc.code or 0)
    return _run(args, out, err)


def _unexpected(exc: Exception, err: console.Writer) -> int:
    """Exit 3 and one line for a limit of the machine (see console.limit_reached), else a bug's
    traceback and exit 4."""
    limit = console.limit_reached(exc)
    if limit is not None:
        console.report(err, f"protobuild: error: {limit}")
        return EXIT_ERROR
    import traceback

    console.report(err, "".join(traceback.format_exception(exc)).rstrip("\n"))
    console.report(err, f"protobuild: {InternalError(f'{type(exc).__name__}: {exc}')}")
    return EXIT_BUG


def _run(args: Arguments, out: console.Writer, err: console.Writer) -> int:
    from protobuild import commands

    if args.command == "explain":
        out.write(commands.explain(args.config, args.paths))
        return EXIT_OK
    if args.command == "breaking":
        if args.against is None:  # _parse refuses that: a bug, never a run that writes
            raise InternalError("breaking without a snapshot to compare with")
        text, summary, broken = commands.breaking(args.config, args.against, args.format)
        out.write(text)
        (console.Null() if args.quiet else err).write(summary)
        return EXIT_STALE if broken else EXIT_OK
    _check_workers()
    waiting = functools.partial(_note_waiting, console.Null() if args.quiet else err)
    if args.command == "check":
        text, stale = commands.check(args.config, _fix_command(args), waiting)
        (out if stale else err if not args.quiet else console.Null()).write(text)
        return EXIT_STALE if stale else EXIT_OK
    if args.command != "generate":
        raise InternalError(f"no way to run command {args.command!r}")
    if not args.dry_run:
        global _interrupted
        _interrupted = _INTERRUPTED_WRITING
    text, changed = commands.generate(args.config, args.paths, args.dry_run, waiting)
    # What a dry run prints is its result (for a pipe or a file), even with -q; a real run's
    # summary is progress.
    (out if args.dry_run else console.Null() if args.quiet else err).write(text)
    return EXIT_STALE if changed and args.exit_code else EXIT_OK


def _check_workers() -> None:
    """ConfigError for a bad PROTOBUILD_WORKERS, before anything is built: only a large tree
    fans out, and a run on a small one or a cache hit would otherwise ignore the typo."""
    from protobuild import parallel  # light: its pool and multiprocessing load on first use

    parallel.workers()


def _note_waiting(err: console.Writer, holder: str) -> None:
    err.write(f"protobuild: waiting for another run on this project ({holder}) to finish\n")
    err.flush()


def find_config(start: Path) -> Path:
    """The Protobuild.toml in `start` or the nearest directory above it, like git finds its
    repository; `start/Protobuild.toml` (so the error names it) when there is none."""
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return start / CONFIG_NAME


def _fix_command(args: Arguments) -> str:
    if not args.config_given and args.config.parent == Path.cwd():
        return "protobuild"
    if not args.config_given:
        return f"protobuild -f {shlex.quote(os.path.relpath(args.config))}"
    return f"protobuild -f {shlex.quote(str(args.config))}"


def _format_error(exc: ProtobuildError) -> str:
    if exc.location is None:
        return f"protobuild: error: {exc.message}"
    return str(exc).replace(str(exc.location.path), shown(exc.location.path), 1)


def _parse(argv: list[str]) -> Arguments:
    parser = _parser()
    namespace = parser.parse_args(_with_default_command(argv))
    if namespace.command == "breaking":
        namespace.against = _against(parser, namespace)
    return Arguments(
        command=namespace.command,
        config=Path(namespace.file) if namespace.file else find_config(Path.cwd()),
        quiet=namespace.quiet,
        dry_run=getattr(namespace, "dry_run", False),
        paths=tuple(Path(p) for p in getattr(namespace, "paths", ())),
        config_given=namespace.file is not None,
        against=Path(namespace.against) if getattr(namespace, "against", None) else None,
        format=getattr(namespace, "format", "text"),
        exit_code=getattr(namespace, "exit_code", False),
    )


def _against(parser: argparse.ArgumentParser, namespace: argparse.Namespace) -> str:
    """The snapshot `breaking` compares with: `breaking FILE` or `breaking --against FILE`."""
    given: set[str] = {f for f in (namespace.against_file, namespace.against) if f is not None}
    if len(given) != 1 or "" in given:
        problem = "two different snapshots given" if len(given) > 1 else "no snapshot given"
        parser.error(f"breaking: {problem}; name one: protobuild breaking api/v1.pb.txt")
    return given.pop()


def _with_default_command(argv: list[str]) -> list[str]:
    """Insert `generate` where no command is named: `protobuild -q` = `protobuild generate -q`."""
    index = _command_index(argv)
    if (index < len(argv) and argv[index] in COMMANDS) or "-h" in argv or "--help" in argv:
        return argv
    return ["generate", *argv]


def _command_index(argv: list[str]) -> int:
    """Where the command (or the first positional argument) stands in `argv`."""
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        index += 2 if argv[index] in ("-f", "--file") else 1
    return index


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, told the terminal width: left to find it, argparse imports
    shutil, which imports bz2 and lzma (a twentieth of a run with nothing to do)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_terminal_width() - 2)


def _terminal_width() -> int:
    """What shutil.get_terminal_size would say: $COLUMNS, the terminal's width, or 80."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 80
    except (OSError, ValueError):
        return 80


def _common_options(defaults: bool) -> argparse.ArgumentParser:
    """-f and -q, accepted before and after the command.

    The copy on each command suppresses its defaults, or `protobuild -q check` would have the
    command's default overwrite the -q given before it.
    """
    default = None if defaults else argparse.SUPPRESS
    common = argparse.ArgumentParser(
        add_help=False, argument_default=default, formatter_class=_Formatter
    )
    common.add_argument(
        "-f", "--file", help="the config file (default: Protobuild.toml here or above)"
    )
    common.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    return common


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="protobuild",
        description="Generate typed Python from .proto files as Protobuild.toml describes.",
        parents=[_common_options(defaults=True)],
        formatter_class=_Formatter,
    )
    common = _common_options(defaults=False)
    # For --help only: main() answers --version before parsing (it must not import the
    # heavy modules that a command's run would).
    parser.add_argument("--version", action="store_true", help="print the toolchain versions")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    gen = sub.add_parser(
        "generate", parents=[common], formatter_class=_Formatter, help="generate code (the default)"
    )
    gen.add_argument(
        "--dry-run", action="store_true", help="print protoc argv and changes; write nothing"
    )
    gen.add_argument(
        "--exit-code",
        action="store_true",
        help="exit 1 when files were added, changed or removed (for pre-commit, which does "
        "not notice new untracked files)",
    )
    gen.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="only these protos: files, directories or import paths",
    )
    sub.add_parser(
        "check",
        parents=[common],
        formatter_class=_Formatter,
        help="exit 1 if generated code is not current",
    )
    explain = sub.add_parser(
        "explain",
        parents=[common],
        formatter_class=_Formatter,
        help="show roots, modules and imports",
    )
    explain.add_argument(
        "paths", nargs="*", metavar="PROTO", help="proto files, directories or import paths"
    )
    breaking = sub.add_parser(
        "breaking",
        parents=[common],
        formatter_class=_Formatter,
        help="exit 1 if the protos break compatibility with FILE",
    )
    breaking.add_argument(
        "against_file", nargs="?", metavar="FILE", help="a descriptor snapshot or binary set"
    )
    breaking.add_argument("--against", metavar="FILE", help="the same, as an option")
    breaking.add_argument("--format", choices=FORMATS, default="text", help="output format")
    return parser


if __name__ == "__main__":  # pragma: no cover
    entry()
