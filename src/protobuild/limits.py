"""The limits of the machine a run can meet, and the way out of each, named where they are
met: the CLI, for an error nothing else caught (console.limit_reached), and the stages that
write files (a staged output, protoc's output, a worker's result)."""

from __future__ import annotations

import errno
from collections.abc import Callable

ONE_PROCESS = "build in one process with PROTOBUILD_WORKERS=1"


def way_out(number: int | None) -> str | None:
    """What to do about an OSError with errno `number` when it is a limit of the machine (too
    many open files, a file or path too large); None for any other error."""
    found = _WAYS_OUT.get(number) if number is not None else None
    return found() if found is not None else None


def or_one_process() -> str:
    """ ", or build in one process ...", unless the run builds in one process already (where
    the hint would only send the user round in a circle)."""
    from protobuild import parallel  # imported here: parallel's own errors use this module
    from protobuild.errors import ConfigError

    try:
        single = parallel.workers() == 1
    except ConfigError:  # refused before anything ran; not what is being reported
        single = False
    return "" if single else f", or {ONE_PROCESS}"


def fills_file_size_limit(size: int) -> bool:
    """Whether `size` bytes written to a file are all the limit on file size allows (what was
    to follow them was cut off)."""
    import resource

    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    return soft != resource.RLIM_INFINITY and size >= soft


def _open_files() -> str:
    import resource

    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return f"raise the open-files limit (ulimit -n, now {soft}){or_one_process()}"


def _file_size() -> str:
    """The way out when a file outgrew the limit on the size of files a process writes: a
    large tree's worker result and protoc's output archive are several MB."""
    import resource

    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    now = "unlimited" if soft == resource.RLIM_INFINITY else f"{soft // 1024} KiB"
    return f"raise the limit on file size (ulimit -f, now {now})"


_WAYS_OUT: dict[int, Callable[[], str]] = {
    errno.EMFILE: _open_files,
    errno.ENFILE: lambda: (
        "the whole system is out of open files: close other programs or raise its limit "
        "(sysctl fs.file-max)"
    ),
    errno.ENAMETOOLONG: lambda: (
        "shorten the path: move the project, or the directory Protobuild.toml names, "
        "somewhere with a shorter path"
    ),
    errno.EFBIG: _file_size,
}
