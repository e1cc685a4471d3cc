"""protobuild against the protoc lines it replaces, as ratios measured in one run.

Usage: python benchmarks/protobuild_bench.py [--files 1000] [--repeat 3] [--scaling]
       [--skip-per-directory]

Writes a synthetic tree (see synth.py) into a temporary directory and times, as separate
processes, plain `python -m grpc_tools.protoc` (the baselines) and protobuild in each situation
of issue 5; then the googleapis-common-protos tree and the content service fixture. Each figure
is the median of --repeat runs; peak memory is the child's maximum resident set size.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from synth import CONFIG, write_tree

BIN = Path(sys.executable).parent
REPOSITORY = Path(__file__).resolve().parent.parent
RACY_WAIT = 2.1  # outputs younger than this are re-hashed by design (see cache.py)
# Children may cache bytecode, as on a developer's machine (some sandboxes disable it).
_ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_kib: int


def run(argv: Sequence[str], cwd: Path) -> Sample:
    """Run a child to completion; its wall time and its peak RSS (from wait4)."""
    # stderr goes to a file, not a pipe: the mypy plugins print a line per file, and a full
    # pipe that nobody reads until the child exits would block the child forever.
    # Each command starts with the disk quiet: the previous one's written files are flushed
    # first, so neither side pays for the other's writeback (it doubled some timings).
    os.sync()
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        child = subprocess.Popen(
            argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors, env=_ENVIRONMENT
        )
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"failed: {' '.join(argv)}\n{errors.read().decode()[-2000:]}")
    return Sample(elapsed, usage.ru_maxrss)


def median(samples: Sequence[Sample]) -> Sample:
    return Sample(statistics.median(s.seconds for s in samples), max(s.peak_kib for s in samples))


def repeat(times: int, prepare: Callable[[], object], measure: Callable[[], Sample]) -> Sample:
    samples = []
    for _ in range(times):
        prepare()
        samples.append(measure())
    return median(samples)


class Tree:
    """A project directory with protos and a Protobuild.toml, and the commands to time."""

    def __init__(self, root: Path, protos: list[str], proto_dir: str = "proto") -> None:
        self.root = root
        self.protos = protos
        self.proto_dir = proto_dir
        self.wkt = _wkt()

    def raw(self, outputs: Sequence[str], files: Sequence[str] | None = None) -> Sample:
        out = self.root / "raw-out"
        discard(out)
        out.mkdir()
        plugins = [
            f"--plugin=protoc-gen-mypy={BIN / 'protoc-gen-mypy'}",
            f"--plugin=protoc-gen-mypy_grpc={BIN / 'protoc-gen-mypy_grpc'}",
        ]
        argv = [sys.executable, "-m", "grpc_tools.protoc", f"-I{self.proto_dir}", f"-I{self.wkt}"]
        argv += plugins + [f"--{name}_out={out}" for name in outputs]
        return run([*argv, *(files or self.protos)], self.root)

    def per_directory(self) -> Sample:
        directories: dict[str, list[str]] = {}
        for proto in self.protos:
            directories.setdefault(proto.rsplit("/", 1)[0], []).append(proto)
        samples = [self.raw(["python", "pyi", "grpc_python"], f) for f in directories.values()]
        return Sample(sum(s.seconds for s in samples), max(s.peak_kib for s in samples))

    def protobuild(self, *argv: str) -> Sample:
        return run([sys.executable, "-m", "protobuild", "-q", *argv], self.root)

    def clean(self) -> None:
        discard(self.root / "gen")
        self.drop_cache()

    def drop_cache(self) -> None:
        discard(self.root / ".protobuild-cache")

    def settle(self) -> None:
        """Let freshly written outputs leave the cache's racy window, as they do in real use."""
        time.sleep(RACY_WAIT)


def discard(path: Path) -> None:
    """Move `path` out of the way, into a trash directory deleted when the benchmark ends.

    Deleting instead would skew every timing that follows: on an ext4 file system without a
    journal (this project's VM), creating a file skips every inode freed in the last one to
    six minutes, one by one (`recently_deleted` in the kernel's inode allocator), so after a
    4,000-file tree is deleted each new file costs up to 0.5 ms more. Both protoc and
    protobuild would pay it, in proportion to how many files they create and how much was
    deleted before them, not to their own work.
    """
    if not path.exists():
        return
    trash = path.parent.parent / "trash"
    trash.mkdir(exist_ok=True)
    path.rename(trash / f"{len(os.listdir(trash))}-{path.name}")


def _wkt() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("grpc_tools")
    if spec is None or spec.origin is None:
        raise SystemExit("grpcio-tools is not installed")
    return Path(spec.origin).parent / "_proto"


def synthetic(base: Path, files: int) -> Tree:
    root = base / f"synth-{files}-{len(list(base.iterdir()))}"
    root.mkdir()
    return Tree(root, write_tree(root, files))


def measure_tree(tree: Tree, times: int, per_directory: bool) -> list[tuple[str, float, str]]:
    b1, b2, full, check_cold, check_unrecorded = _interleaved(tree, times)
    tree.protobuild()  # writes the record the last check ran without, as a developer would
    tree.settle()
    warm = repeat(times, lambda: None, tree.protobuild)
    tree.settle()
    check_warm = repeat(times, lambda: None, lambda: tree.protobuild("check"))
    edited = repeat(times, lambda: _edit_one(tree), tree.protobuild)
    rows = [
        ("full protobuild / raw protoc (python+pyi+grpc)", full.seconds / b1.seconds, "<= 1.5"),
        ("full protobuild / raw protoc with mypy plugins", full.seconds / b2.seconds, "<= 0.6"),
        ("protobuild, nothing changed / raw protoc", warm.seconds / b1.seconds, "<= 0.1"),
        ("protobuild check, cold cache / raw protoc", check_cold.seconds / b1.seconds, "<= 1.3"),
        ("protobuild check, warm cache / raw protoc", check_warm.seconds / b1.seconds, "<= 0.1"),
        (
            "protobuild check, no cache, no Protobuild.sum / raw protoc",
            check_unrecorded.seconds / b1.seconds,
            "reported",
        ),
        ("one proto edited, regenerate / raw protoc", edited.seconds / b1.seconds, "<= 0.5"),
        ("peak memory protobuild / raw protoc", full.peak_kib / b1.peak_kib, "<= 2"),
    ]
    if per_directory:
        old = tree.per_directory()
        rows.append(
            ("per-directory protoc (old way) / protobuild", old.seconds / full.seconds, "reported")
        )
    seconds = {
        "raw protoc": b1,
        "raw protoc + mypy plugins": b2,
        "protobuild full": full,
        "protobuild warm": warm,
        "check cold": check_cold,
        "check, no record": check_unrecorded,
        "check warm": check_warm,
        "one edited": edited,
    }
    rows += [
        (f"  ({name}: {s.seconds:.2f} s, {s.peak_kib // 1024} MiB)", 0.0, "")
        for name, s in seconds.items()
    ]
    return rows


def _interleaved(tree: Tree, times: int) -> tuple[Sample, Sample, Sample, Sample, Sample]:
    """Raw protoc (both baselines), a full build and cold checks, taken in turn `times` times:
    the VM's speed drifts over minutes, and measuring each in its own block skewed ratios.

    A cold check is a fresh clone's: no cache, and the committed Protobuild.sum the build
    wrote. Without the record too, a check regenerates everything (reported, no target)."""
    samples: list[list[Sample]] = [[], [], [], [], []]
    for _ in range(times):
        samples[0].append(tree.raw(["python", "pyi", "grpc_python"]))
        samples[1].append(tree.raw(["python", "grpc_python", "mypy", "mypy_grpc"]))
        tree.clean()
        samples[2].append(tree.protobuild())
        tree.drop_cache()
        samples[3].append(tree.protobuild("check"))
        tree.drop_cache()
        (tree.root / "Protobuild.sum").unlink()
        samples[4].append(tree.protobuild("check"))
    b1, b2, full, check_cold, unrecorded = (median(group) for group in samples)
    return b1, b2, full, check_cold, unrecorded


def _edit_one(tree: Tree) -> None:
    """Add a message to the last proto (a leaf nothing imports), as a developer would."""
    target = tree.root / tree.proto_dir / tree.protos[-1]
    target.write_text(
        target.read_text() + f"\nmessage Edit{time.monotonic_ns()} {{ int32 n = 1; }}\n"
    )


def googleapis(base: Path) -> Tree:
    root = base / "googleapis"
    root.mkdir()
    dist = importlib.metadata.distribution("googleapis-common-protos")
    protos = sorted(str(f) for f in dist.files or () if str(f).endswith(".proto"))
    for name in protos:
        (root / "proto" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(str(dist.locate_file(name))), root / "proto" / name)
    (root / "Protobuild.toml").write_text(
        CONFIG.replace('"synth"', '"gapi"').replace("gen/synth", "gen/gapi")
    )
    return Tree(root, protos)


def fixture(base: Path) -> Tree:
    root = base / "fixture"
    shutil.copytree(REPOSITORY / "fixtures" / "proto", root / "proto")
    protos = sorted(
        p.relative_to(root / "proto").as_posix() for p in (root / "proto").rglob("*.proto")
    )
    (root / "Protobuild.toml").write_text(
        CONFIG.replace('"synth"', '"contentd_api"').replace("gen/synth", "gen/contentd_api")
    )
    return Tree(root, protos)


def scaling(base: Path, sizes: Sequence[int]) -> list[tuple[int, float, float]]:
    found = []
    for size in sizes:
        tree = synthetic(base, size)
        full = repeat(1, tree.clean, tree.protobuild)
        raw = tree.raw(["python", "pyi", "grpc_python"])
        found.append((size, full.seconds, raw.seconds))
    return found


def print_table(title: str, rows: list[tuple[str, float, str]]) -> None:
    print(f"\n{title}")
    print(f"| {'figure':58} | {'ratio':>6} | target |")
    print(f"| {'-' * 58} | {'-' * 6} | ------ |")
    for name, ratio, target in rows:
        shown = f"{ratio:6.2f}" if target else " " * 6
        verdict = (
            "" if target in ("", "reported") else (" ok" if _meets(ratio, target) else " MISSED")
        )
        print(f"| {name:58} | {shown} | {target}{verdict} |")


def _meets(ratio: float, target: str) -> bool:
    return ratio <= float(target.split()[-1])


# A fixed amount of pure-Python work: how fast the machine is right now, alone and two at once.
_PROBE = "s = 0\nfor i in range(1_500_000): s += i * i"


def machine_speed() -> str:
    """One process running the probe, then two at once: a shared VM's speed drifts over
    minutes and its second core may not give a second core's worth, which every ratio of a
    single-process baseline against a two-worker build inherits."""
    alone = _probe_wall(1)
    together = _probe_wall(2)
    return (
        f"CPU probe {alone:.2f} s alone, {together:.2f} s with two at once "
        f"(two cores give {2 * alone / together:.2f}x one)"
    )


def _probe_wall(processes: int) -> float:
    argv = [sys.executable, "-c", _PROBE]
    started = time.perf_counter()
    running = [subprocess.Popen(argv) for _ in range(processes)]
    for process in running:
        process.wait()
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scaling", action="store_true", help="also 100, 1,000 and 5,000 files")
    parser.add_argument("--skip-per-directory", action="store_true")
    args = parser.parse_args(argv)
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"grpcio-tools {importlib.metadata.version('grpcio-tools')}"
    )
    print(f"at the start: {machine_speed()}")
    with tempfile.TemporaryDirectory(prefix="protobuild-bench-") as tmp:
        base = Path(tmp)
        tree = synthetic(base, args.files)
        print_table(
            f"synthetic tree, {args.files} files",
            measure_tree(tree, args.repeat, not args.skip_per_directory),
        )
        print_table("googleapis-common-protos", measure_tree(googleapis(base), args.repeat, False))
        print_table("content service fixture", measure_tree(fixture(base), args.repeat, False))
        if args.scaling:
            print("\n| files | protobuild (s) | raw protoc (s) | protobuild s per 1,000 files |")
            print("| ----- | -------------- | -------------- | ---------------------------- |")
            for size, full, raw in scaling(base, (100, 1000, 5000)):
                print(f"| {size:5} | {full:14.2f} | {raw:14.2f} | {full / size * 1000:28.2f} |")
    print(f"\nat the end: {machine_speed()}")


if __name__ == "__main__":
    main()
