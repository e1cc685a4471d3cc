"""protoc's messages reach the user whole, however long, and without needing space in the
temporary directory (which may be the full disk protoc is complaining about)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from protobuild.compile import run_protoc
from tests.conftest import MINIMAL_CONFIG, Run, python


def test_more_errors_than_a_pipe_holds_are_all_captured(tmp_path: Path) -> None:
    # Each undefined type is one line of about 45 bytes: 3,000 of them overflow a 64 KiB pipe,
    # which would hang a capture through a pipe (protoc holds the GIL while it writes).
    fields = "".join(f"  Missing{n} f{n} = {n + 1};\n" for n in range(3000))
    (tmp_path / "many.proto").write_text(f'syntax = "proto3";\nmessage M {{\n{fields}}}\n')
    code, errors = run_protoc(["protoc", f"-I{tmp_path}", f"--python_out={tmp_path}", "many.proto"])
    assert code != 0
    lines = errors.splitlines()
    assert len(lines) == 3000
    assert sum(len(line) + 1 for line in lines) > 65536
    assert lines[-1] == f'{tmp_path / "many.proto"}:3002:3: "Missing2999" is not defined.'


def test_stderr_is_restored_after_a_capture(tmp_path: Path) -> None:
    before = os.fstat(2)
    argv = ["protoc", f"-I{tmp_path}", f"--descriptor_set_out={tmp_path / 'set'}", "absent.proto"]
    code, errors = run_protoc(argv)
    assert code != 0
    assert "absent.proto" in errors
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
    sys.stderr.write("")  # Python's own stderr still works


GRPC_ONLY = MINIMAL_CONFIG.replace("mypy = {}\nmypy_grpc = {}\n", "")


@pytest.mark.parametrize(
    "service",
    ["service S {\nrpc async(M) returns (M);\n}", "service lambda {\nrpc Get(M) returns (M);\n}"],
    ids=["keyword-rpc", "keyword-service"],
)
def test_grpc_module_that_is_not_python_is_an_error(
    project: Callable[[dict[str, str]], Path], run: Run, service: str
) -> None:
    # grpc's generator copies service and rpc names into Python as they are.
    proto = f'syntax = "proto3";\npackage p;\nmessage M {{}}\n{service}\n'
    project({"Protobuild.toml": GRPC_ONLY, "proto/p/m.proto": proto})
    result = run()
    assert result.code == 3
    assert result.err.startswith(
        "protobuild: error: proto/p/m.proto: grpc's generator wrote p/m_pb2_grpc.py, which is "
        "not valid Python (invalid syntax"
    )
    assert not Path("gen").exists()


QUOTES_ERROR = (
    'a comment on {} holds """, which grpc\'s generator copies into a docstring as it is: the '
    "docstring would end there and the rest of the comment become code; write the quotes "
    "another way (''' or a single \")\n"
)


@pytest.mark.parametrize(
    ("service", "where", "what"),
    [
        (
            'service S {\n  // Say """hi""" twice.\n  rpc Get(M) returns (M);\n}',
            "5:10",
            "rpc S.Get",
        ),
        ('service S {\n  // Ends with """\n  rpc Get(M) returns (M);\n}', "5:16", "rpc S.Get"),
        # On lines of their own the module stays valid Python, and `text` would run as code.
        (
            'service S {\n  // Example:\n  //   """\n  //   text\n  //   """\n'
            "  rpc Get(M) returns (M);\n}",
            "6:8",
            "rpc S.Get",
        ),
        ('// """Quoted""" service.\nservice S {\n  rpc Get(M) returns (M);\n}', "4:4", "service S"),
        ('service S {\n  rpc Get(M) returns (M); // trailing """\n}', "5:39", "rpc S.Get"),
    ],
    ids=["inside", "at-the-end", "own-lines", "service", "trailing"],
)
def test_triple_quotes_in_a_grpc_comment_are_an_error_at_the_comment(
    project: Callable[[dict[str, str]], Path], run: Run, service: str, where: str, what: str
) -> None:
    # grpc's generator copies these comments into docstrings as they are.
    proto = f'syntax = "proto3";\npackage p;\nmessage M {{}}\n{service}\n'
    project({"Protobuild.toml": GRPC_ONLY, "proto/p/m.proto": proto})
    result = run()
    assert result.code == 3
    assert result.err == f"proto/p/m.proto:{where}: " + QUOTES_ERROR.format(what)
    assert not Path("gen").exists()


def test_quotes_grpc_writes_correctly_are_not_an_error(
    project: Callable[[dict[str, str]], Path], run: Run
) -> None:
    comment = "// A \"quoted\" word, '''single''' triples and \"\" pairs."
    service = f"service S {{\n{comment}\nrpc Get(M) returns (M);\n}}\n"
    proto = f'syntax = "proto3";\npackage p;\nmessage M {{}}\n{service}'
    project({"Protobuild.toml": GRPC_ONLY, "proto/p/m.proto": proto})
    assert run("-q").code == 0


BACKSLASHES = (
    "syntax = 'proto3';\r\npackage p;\r\n// A message,\r\n// two lines.\r\nmessage M {}\r\n"
    "// Matches \\d+ under C:\\dir; \\\\ stays two.\r\n// Second line.\r\nservice S {\r\n"
    "  // rpc comment with \\ backslash\r\n  rpc Get(M) returns (M);\r\n"
    "  // Ends with a backslash \\\\\r\n  rpc Put(M) returns (M);\r\n}\r\n"
)


def test_comments_with_backslashes_and_crlf_make_clean_modules(
    project: Callable[[dict[str, str]], Path], run: Run
) -> None:
    # grpc's generator copies comments into docstrings as they are: `\d` would be an invalid
    # escape (a SyntaxWarning from 3.12, an import error under -W error) and CRLF protos
    # would leave carriage returns in LF files.
    root = project({"Protobuild.toml": MINIMAL_CONFIG, "proto/p/m.proto": BACKSLASHES})
    assert run("-q").code == 0
    for path in (root / "gen/pkg/p").iterdir():
        assert b"\r" not in path.read_bytes(), path.name
    script = (
        "import warnings; warnings.simplefilter('error')\n"
        "from pkg.p import m_pb2_grpc as g\n"
        "print(repr(g.SServicer.__doc__)); print(repr(g.SServicer.Get.__doc__))\n"
        "print(repr(g.SServicer.Put.__doc__))\n"
    )
    done = python(script, root / "gen")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        repr("Matches \\d+ under C:\\dir; \\\\ stays two.\n    Second line.\n    "),
        repr("rpc comment with \\ backslash\n        "),
        repr("Ends with a backslash \\\\\n        "),
    ]


ORDERS = (
    'syntax = "proto3";\npackage s;\nmessage M {}\n'
    "service Order { rpc Get(M) returns (M); }\nservice OrderAsync { rpc Get(M) returns (M); }\n"
)


@pytest.mark.parametrize("flavour", ["both", "sync", "async"])
def test_services_whose_mypy_grpc_stubs_share_a_name_are_an_error(
    project: Callable[[dict[str, str]], Path], run: Run, flavour: str
) -> None:
    # With both flavours, mypy-protobuf's asyncio stub of Order is OrderAsyncStub, as is the
    # stub of OrderAsync: the stubs would fail mypy.
    config = MINIMAL_CONFIG.replace("mypy_grpc = {}", f'mypy_grpc = {{ flavour = "{flavour}" }}')
    project({"Protobuild.toml": config, "proto/s/o.proto": ORDERS})
    result = run()
    if flavour != "both":
        assert result.code == 0
        return
    assert result.code == 3
    assert result.err == (
        "proto/s/o.proto: services Order and OrderAsync would both have a stub named "
        "OrderAsyncStub in mypy-protobuf's gRPC stubs (its asyncio stub of Order has that name "
        'too), which then fail mypy; rename one of the services, or set flavour = "sync" or '
        '"async" on mypy_grpc\n'
    )
    assert not Path("gen").exists()


@pytest.mark.parametrize(
    "generator", ["grpc = {}", "grpc = {}\nmypy = {}\nmypy_grpc = {}", "services = {}"]
)
def test_an_rpc_named_like_pythons_own_methods_is_an_error(
    project: Callable[[dict[str, str]], Path], run: Run, generator: str
) -> None:
    # `rpc __init__` would replace the constructor of the servicer each generator writes.
    config = MINIMAL_CONFIG.split("[generators]")[0] + f"[generators]\npython = {{}}\n{generator}\n"
    proto = (
        'syntax = "proto3";\npackage s;\nmessage M {}\nservice S { rpc __init__(M) returns (M); }\n'
    )
    project({"Protobuild.toml": config, "proto/s/o.proto": proto})
    result = run()
    assert result.code == 3
    assert result.err == (
        "proto/s/o.proto: rpc S.__init__: names with leading and trailing double underscores "
        "are Python's own, and the generated method would replace the class's; rename the rpc\n"
    )


def test_triple_quotes_in_comments_are_fine_without_grpcs_generator(
    project: Callable[[dict[str, str]], Path], run: Run
) -> None:
    # mypy-protobuf and the services templates escape them; only grpc's generator does not.
    config = MINIMAL_CONFIG.replace("mypy_grpc = {}\n", "").replace("grpc = {}\n", "")
    config += "services = {}\n"
    service = 'service S {\n  // Returns """M""".\n  rpc Get(M) returns (M);\n}'
    proto = f'syntax = "proto3";\npackage p;\nmessage M {{}}\n{service}\n'
    project({"Protobuild.toml": config, "proto/p/m.proto": proto})
    assert run("-q").code == 0


def test_the_error_leads_however_many_warnings_come_before_it(
    project: Callable[[dict[str, str]], Path], run: Run
) -> None:
    # protoc warns of each unused import; in a large tree they came first and the one line
    # that said what failed was left out as "... and 40 more".
    unused = 'syntax = "proto3";\npackage p;\nimport "google/protobuf/empty.proto";\n'
    files = {f"proto/p/a{n}.proto": unused + f"message A{n} {{}}\n" for n in range(40)}
    broken = 'syntax = "proto3";\npackage p;\nmessage Z { Missing m = 1; }\n'
    project({"Protobuild.toml": GRPC_ONLY, **files, "proto/p/z.proto": broken})
    result = run("-q")
    assert result.code == 3
    assert result.err.startswith('proto/p/z.proto:3:13: "Missing" is not defined.'), result.err
    assert "warning" not in result.err


# A run whose files may be at most 64 KiB: a build's generated modules fit, the archive protoc
# writes in the temporary directory does not (Python ignores SIGXFSZ: the write fails).
LIMITED_RUN = """\
import resource, sys
from protobuild.cli import main
resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 10, 64 << 10))
sys.exit(main(["-q"]))
"""


def test_protoc_unable_to_write_its_output_names_the_temporary_directory(
    project: Callable[[dict[str, str]], Path], tmp_path: Path
) -> None:
    fields = "".join(f"  string field_{n} = {n + 1};\n" for n in range(60))
    files = {
        f"proto/p/m{n}.proto": f'syntax = "proto3";\npackage p;\nmessage M{n} {{\n{fields}}}\n'
        for n in range(40)
    }
    root = project({"Protobuild.toml": GRPC_ONLY, **files})
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", LIMITED_RUN],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch), "PROTOBUILD_WORKERS": "1"},
    )
    assert done.returncode == 3, done.stderr
    assert done.stderr == (
        f"protobuild: error: protoc cannot write its output in the temporary directory "
        f"{scratch}: File too large; raise the limit on file size (ulimit -f, now 64 KiB)\n"
    )
    assert not (root / "gen").exists()
    assert list(scratch.iterdir()) == []


def test_protoc_messages_cut_short_by_the_file_size_limit_say_so(
    project: Callable[[dict[str, str]], Path], tmp_path: Path
) -> None:
    """protoc's messages are captured in a file, which the limit cuts short: a flood of
    warnings ahead of the error left a line cut in the middle as the only message."""
    unused = 'import "google/protobuf/empty.proto";\n'  # a warning each
    files = {
        f"proto/p/m{n}.proto": f'syntax = "proto3";\npackage p;\n{unused}message M{n} {{}}\n'
        for n in range(120)
    }
    root = project({"Protobuild.toml": GRPC_ONLY, **files})
    done = subprocess.run(
        [sys.executable, "-c", LIMITED_RUN.replace("64 << 10", "4 << 10")],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path), "PROTOBUILD_WORKERS": "1"},
    )
    assert (done.returncode, done.stderr) == (
        3,
        "protobuild: error: protoc failed, and the limit on file size cut its messages short; "
        "raise the limit on file size (ulimit -f, now 4 KiB)\n",
    )
    assert not (root / "gen").exists()
