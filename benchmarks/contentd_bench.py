"""Benchmark contentd against plain file I/O, and RemoteStore against LocalStore.

Every figure is a ratio of two measurements taken in the same run, on the same machine:

- LocalStore write  / plain ``write + sha256 + fsync``          (target >= 0.85)
- LocalStore read   / plain file read                           (target >= 0.85)
- RemoteStore write / LocalStore write, over a unix socket      (target >= 0.5)
- RemoteStore read  / LocalStore read, over a unix socket with fd passing (target >= 0.5):
  the same-host fast path, which reads the blob through a descriptor the server passes
- RemoteStore read over gRPC only / LocalStore read               (reported, no target):
  the Read stream itself, as any client that is not on the same host gets it
- peak RSS above idle of the client and of the server process while moving the blob
  (VmHWM from /proc, reset through /proc/PID/clear_refs)         (target < 64 MiB)
- 100 clients writing 1 MiB blobs at once: all committed and verified

Usage: ``python benchmarks/contentd_bench.py [--size-mib 1024 | --quick]``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from contentd import helpers
from contentd.errors import NotFound
from contentd.local import LocalStore
from contentd.remote import RemoteStore
from contentd.store import Store
from contentd.types import Descriptor

MiB = 1 << 20
BLOCK = 4 * MiB  # what each write call carries (copy() uses the same)
READ = MiB  # what each read call asks for


def main() -> int:
    args = _arguments()
    size = (64 if args.quick else args.size_mib) * MiB
    base = Path(tempfile.mkdtemp(prefix="contentd-bench-", dir=args.dir))
    try:
        rows = run(base, size, args.clients)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print_table(rows, size)
    return 0 if all(ok for _, _, _, ok in rows) else 1


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="blob size (default 1024)")
    parser.add_argument("--quick", action="store_true", help="a 64 MiB blob")
    parser.add_argument("--clients", type=int, default=100, help="concurrent clients")
    parser.add_argument("--dir", default=None, help="where to put the stores (default: tmp)")
    return parser.parse_args()


Row = tuple[str, str, str, bool]


def run(base: Path, size: int, clients: int) -> list[Row]:
    """Measure everything on ``size`` bytes under ``base``; one table row per measure."""
    blocks = _blocks()
    times = _local_times(base, size, blocks)
    server = _Server(base / "remote", f"unix:{base}/bench.sock")
    try:
        remote, client, served = _remote(server, size, blocks)
        times.update(remote)
        committed = _many_clients(server.address, clients)
    finally:
        server.stop()
    rate = {name: f"{size / MiB / seconds:.0f}" for name, seconds in times.items()}
    return [
        _ratio(
            "LocalStore write / plain write+sha256+fsync", times, "plain write", "local write", 0.85
        ),
        _ratio("LocalStore read / plain read", times, "plain read", "local read", 0.85),
        _ratio("RemoteStore write / LocalStore write", times, "local write", "remote write", 0.5),
        _ratio(
            "RemoteStore read / LocalStore read (unix socket, fd passing)",
            times,
            "local read",
            "remote read",
            0.5,
        ),
        _reported(
            "RemoteStore read over gRPC only / LocalStore read (reported)",
            times,
            "local read",
            "remote gRPC read",
        ),
        _memory("client peak RSS above idle", client),
        _memory("server peak RSS above idle", served),
        (
            f"{clients} clients x 1 MiB, committed+verified",
            f"{committed}/{clients}",
            "all",
            committed == clients,
        ),
        (
            "(MiB/s plain write / local write / remote write)",
            " / ".join(rate[k] for k in ("plain write", "local write", "remote write")),
            "",
            True,
        ),
        (
            "(MiB/s plain read / local read / remote fd / remote gRPC)",
            " / ".join(
                rate[k] for k in ("plain read", "local read", "remote read", "remote gRPC read")
            ),
            "",
            True,
        ),
    ]


def _local_times(base: Path, size: int, blocks: list[bytes]) -> dict[str, float]:
    """Seconds for plain and LocalStore writes and reads of the same bytes."""
    digest = _digest_of(size, blocks)
    local = LocalStore(base / "local")
    # Alternate the two writers and keep the best of each: fsync times depend on what the
    # kernel still has to write back from the previous run.
    times = {"plain write": float("inf"), "local write": float("inf")}
    for _ in range(2):
        plain = _timed(lambda: _plain_write(base / "p", size, blocks))
        times["plain write"] = min(times["plain write"], plain)
        _forget(local, digest)
        stored = _timed(lambda: _store_write(local, "w", size, blocks))
        times["local write"] = min(times["local write"], stored)
    blob = base / "local" / "blobs" / "sha256" / digest.removeprefix("sha256:")
    times["plain read"] = _best(lambda: _plain_read(blob))
    times["local read"] = _best(lambda: _store_read(local, digest))
    local.close()
    return times


def _blocks() -> list[bytes]:
    """Four distinct 4 MiB blocks, cycled: data without the cost of generating it."""
    rng = random.Random(1)
    return [rng.randbytes(BLOCK) for _ in range(4)]


def _pieces(size: int, blocks: list[bytes]) -> Iterator[bytes]:
    for index, offset in enumerate(range(0, size, BLOCK)):
        block = blocks[index % len(blocks)]
        yield block if size - offset >= BLOCK else block[: size - offset]


def _digest_of(size: int, blocks: list[bytes]) -> str:
    hasher = hashlib.sha256()
    for piece in _pieces(size, blocks):
        hasher.update(piece)
    return "sha256:" + hasher.hexdigest()


def _timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _best(action: Callable[[], object], runs: int = 2) -> float:
    return min(_timed(action) for _ in range(runs))


def _plain_write(path: Path, size: int, blocks: list[bytes]) -> str:
    hasher = hashlib.sha256()
    # A fresh file, like an ingest: rewriting a truncated file makes ext4 flush early.
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        for piece in _pieces(size, blocks):
            view = memoryview(piece)
            for start in range(0, len(view), MiB):  # 1 MiB writes, as LocalStore does
                os.write(fd, view[start : start + MiB])
            hasher.update(piece)
        os.fsync(fd)
    finally:
        os.close(fd)
    return hasher.hexdigest()


def _forget(store: Store, digest: str) -> None:
    """Delete a blob from an earlier run, so that the next write commits it again."""
    with contextlib.suppress(NotFound):
        store.delete(digest)


def _plain_read(path: Path) -> int:
    total = 0
    with open(path, "rb", buffering=0) as file:
        while data := file.read(READ):
            total += len(data)
    return total


def _store_write(store: Store, ref: str, size: int, blocks: list[bytes]) -> str:
    with store.writer(ref) as writer:
        for piece in _pieces(size, blocks):
            writer.write(piece)
        writer.commit(size)
        return writer.digest()


def _store_read(store: Store, digest: str) -> int:
    total = 0
    with store.reader_at(digest) as reader:
        for offset in range(0, reader.size, READ):
            total += len(reader.read_at(offset, READ))
    return total


class _Server:
    """``contentd serve`` in a subprocess, so that its memory is its own."""

    def __init__(self, root: Path, address: str) -> None:
        self.address = address
        command = [
            sys.executable,
            "-m",
            "contentd.cli",
            "serve",
            "--root",
            str(root),
            "--address",
            address,
        ]
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE)
        assert self.process.stderr is not None
        self.process.stderr.readline()  # printed once it listens

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


def _remote(server: _Server, size: int, blocks: list[bytes]) -> tuple[dict[str, float], int, int]:
    """Seconds for remote write, read (fd passing) and read over gRPC only; peak memory."""
    times: dict[str, float] = {"remote write": float("inf")}
    with (
        RemoteStore(server.address) as store,
        RemoteStore(server.address, fd_passing=False) as grpc_only,
    ):
        for connecting in (store, grpc_only):
            connecting.list_statuses()  # connect before measuring idle memory
        idle = {pid: _reset_peak(pid) for pid in (os.getpid(), server.process.pid)}
        digest = _digest_of(size, blocks)
        for _ in range(2):  # the best of two, like the local writes
            _forget(store, digest)
            seconds = _timed(lambda: _store_write(store, "bench", size, blocks))
            times["remote write"] = min(times["remote write"], seconds)
        times["remote read"] = _best(lambda: _store_read(store, digest))
        times["remote gRPC read"] = _best(lambda: _store_read(grpc_only, digest))
        peaks = [_peak(pid) - idle[pid] for pid in (os.getpid(), server.process.pid)]
    return times, peaks[0], peaks[1]


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak(pid: int) -> int:
    """Reset the process's VmHWM to its current RSS (bytes), which is returned."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return _status_kib(pid, "VmRSS") * 1024


def _peak(pid: int) -> int:
    return _status_kib(pid, "VmHWM") * 1024


def _many_clients(address: str, clients: int) -> int:
    """``clients`` threads, each with its own channel, write a 1 MiB blob; count verified."""
    blobs = [random.Random(1000 + i).randbytes(MiB) for i in range(clients)]
    digests = ["sha256:" + hashlib.sha256(blob).hexdigest() for blob in blobs]
    barrier = threading.Barrier(clients)

    def client(index: int) -> None:
        with RemoteStore(address) as store:
            barrier.wait()  # all at once
            desc = Descriptor(digests[index], MiB)
            helpers.write_blob(store, f"client-{index}", _Bytes(blobs[index]), desc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with RemoteStore(address) as store:
        return sum(helpers.read_blob(store, d) == b for d, b in zip(digests, blobs, strict=True))


class _Bytes:
    """A seekable reader over bytes without the copy io.BytesIO would make."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._offset = 0

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int) -> int:
        self._offset = offset
        return offset

    def read(self, n: int = -1, /) -> bytes:
        end = len(self._view) if n < 0 else self._offset + n
        data = bytes(self._view[self._offset : end])
        self._offset += len(data)
        return data


def _ratio(name: str, times: dict[str, float], reference: str, measured: str, target: float) -> Row:
    """Throughput of ``measured`` relative to ``reference`` (time ratio inverted)."""
    ratio = times[reference] / times[measured]
    return name, f"{ratio:.2f}", f">= {target}", ratio >= target


def _reported(name: str, times: dict[str, float], reference: str, measured: str) -> Row:
    """A ratio shown for information: it has no target to meet."""
    return name, f"{times[reference] / times[measured]:.2f}", "", True


def _memory(name: str, peak: int) -> Row:
    return name, f"{peak / MiB:.1f} MiB", "< 64 MiB", peak < 64 * MiB


def print_table(rows: list[Row], size: int) -> None:
    print(f"contentd benchmark, blob of {size // MiB} MiB")
    width = max(len(name) for name, *_ in rows)
    wide = max(20, *(len(value) for _, value, _, _ in rows))
    print(f"| {'measure':<{width}} | {'value':>{wide}} | {'target':>10} | ok |")
    print(f"|{'-' * (width + 2)}|{'-' * (wide + 2)}|{'-' * 12}|----|")
    for name, value, target, ok in rows:
        print(f"| {name:<{width}} | {value:>{wide}} | {target:>10} | {'OK' if ok else '--'} |")


if __name__ == "__main__":
    sys.exit(main())
