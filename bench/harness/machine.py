"""Who used the CPU during a measurement, from /proc; waiting for a quiet machine; measuring noise again.

The machine is shared: a measurement that another workload competed with is noise. Every figure therefore
comes with ``other``, the CPU everything else used meanwhile, and the loops here wait for quiet before a
measurement and take it again when ``other`` went above ``--max-other``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Generator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Protocol, TypeVar

T = TypeVar("T")


def _stat_fields(pid: str | int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces


def _cpu(fields_: list[str]) -> float:
    return (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def proc_cpu_seconds(pid: str | int) -> float | None:
    found = _stat_fields(pid)
    return _cpu(found) if found is not None else None


def process_group_cpu_seconds(pgid: int) -> float:
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (found := _stat_fields(entry)) is not None and int(found[2]) == pgid:
            total += _cpu(found)
    return total


def data_store_cpu(dbname: str) -> dict[str, float]:
    """CPU seconds per PID of the data stores this run uses: redis-server, and the PostgreSQL processes except
    backends of other databases (their title is ``postgres: [cluster:] user db host(port) state``).

    Per PID, so that a backend which exits or starts between two readings does not count as negative CPU."""
    found: dict[str, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
            if comm == "postgres":
                title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                tokens = title.split()
                client = next((i for i, token in enumerate(tokens) if "(" in token and token.endswith(")")), None)
                if client is not None and client >= 1 and tokens[client - 1] != dbname:
                    continue  # a backend of another database: someone else's work
            elif comm != "redis-server":
                continue
        except OSError:
            continue
        cpu = proc_cpu_seconds(entry)
        if cpu is not None:
            found[entry] = cpu
    return found


def machine_busy_seconds() -> float:
    """CPU time spent busy by the whole machine (all cores), from /proc/stat."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuUse:
    """CPU seconds used over ``elapsed`` wall seconds: by the servers, the data stores, this process (the load
    generator or client) and everything else on the machine."""

    elapsed: float = 0.0
    server: float = 0.0
    stores: float = 0.0
    own: float = 0.0
    other: float = 0.0

    def share(self, seconds: float) -> float:
        """``seconds`` as a fraction of one core over the stretch."""
        return seconds / self.elapsed if self.elapsed else 0.0

    def __add__(self, more: CpuUse) -> CpuUse:
        return CpuUse(**{f.name: getattr(self, f.name) + getattr(more, f.name) for f in fields(self)})


class Measured(Protocol):
    def cpu_seconds(self) -> float: ...


class CpuMeter:
    """Reads the CPU counters at ``start`` and at ``stop``. Without ``dbname`` the data stores are not told
    apart: their CPU counts as ``other``."""

    def __init__(self, servers: Sequence[Measured], dbname: str | None = None):
        self.servers = servers
        self.dbname = dbname

    def _stores(self) -> dict[str, float]:
        return data_store_cpu(self.dbname) if self.dbname is not None else {}

    def start(self) -> None:
        self.started = time.perf_counter()
        self.server_cpu = sum(server.cpu_seconds() for server in self.servers)
        self.stores = self._stores()
        self.own = time.process_time()
        self.busy = machine_busy_seconds()

    def stop(self) -> CpuUse:
        elapsed = time.perf_counter() - self.started
        server = sum(server.cpu_seconds() for server in self.servers) - self.server_cpu
        stores = sum(cpu - self.stores.get(pid, 0.0) for pid, cpu in self._stores().items())
        own = time.process_time() - self.own
        busy = machine_busy_seconds() - self.busy
        other = max(0.0, busy - server - stores - own)
        return CpuUse(elapsed=elapsed, server=server, stores=stores, own=own, other=other)


def _waiting_for_quiet(limit: float, timeout: float, inline: bool) -> Generator[float, None, float]:
    """The steps of a quiet wait: yields the seconds to sleep, returns the busy CPU of the last second."""
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        before = machine_busy_seconds()
        yield 1.0
        busy = machine_busy_seconds() - before
        if busy <= limit or time.monotonic() >= deadline:
            if announced and inline:
                print(f"(busy {busy * 100:.0f}%)", end=" ", flush=True)
            elif announced:
                print(f"  (busy {busy * 100:.0f}%, measuring)", flush=True)
            return busy
        if not announced and inline:
            print(f"[machine busy {busy * 100:.0f}% of a core, waiting]", end=" ", flush=True)
        elif not announced:
            print(f"  [machine busy {busy * 100:.0f}% of a core, waiting up to {timeout:.0f} s]", flush=True)
        announced = True


def wait_for_quiet(limit: float, timeout: float) -> float:
    """Wait until the machine's busy CPU over one second is at most ``limit`` (fraction of one core), at most
    ``timeout`` seconds. It says so within the current line: for scripts that print a line per measurement."""
    steps = _waiting_for_quiet(limit, timeout, inline=True)
    try:
        while True:
            time.sleep(next(steps))
    except StopIteration as done:
        return done.value


async def wait_for_quiet_async(limit: float, timeout: float) -> float:
    """The same in an event loop (the client's sockets stay open), saying so on lines of its own."""
    steps = _waiting_for_quiet(limit, timeout, inline=False)
    try:
        while True:
            await asyncio.sleep(next(steps))
    except StopIteration as done:
        return done.value


def measure_until_quiet(run: Callable[[], T], other_share: Callable[[T], float], args: argparse.Namespace) -> T:
    """``run()`` once the machine is quiet, again (up to ``args.retries`` times) while others used more than
    ``args.max_other`` % of a core meanwhile (0: never wait); the last result."""
    for attempt in range(1 + args.retries):
        if args.max_other:
            wait_for_quiet(args.max_other / 100, args.quiet_wait)
        result = run()
        other = other_share(result)
        if not args.max_other or other * 100 <= args.max_other:
            break
        if attempt < args.retries:
            print(f"[noisy: other CPU {other * 100:.0f}%, again]", end=" ", flush=True)
    return result


@dataclass
class Slices:
    items: list  # what the kept slices returned, in order
    use: CpuUse  # summed over the kept slices
    repeated: int  # noisy slices measured again


async def measure_in_slices(
    run: Callable[[int], Awaitable[list]],
    total: int,
    meter: CpuMeter,
    args: argparse.Namespace,
    *,
    pause: float = 0.0,
    after_quiet: Callable[[], Awaitable[object]] | None = None,
) -> Slices:
    """``run(n)`` for ``total`` items in slices of ``args.slice``, each measured by ``meter``. Before each
    slice: ``pause`` seconds, then a quiet wait (when ``args.max_other``) followed by ``after_quiet()``; a slice
    during which others used more than ``args.max_other`` % is measured again, up to ``args.retries`` times."""
    kept = Slices(items=[], use=CpuUse(), repeated=0)
    remaining = total
    while remaining:
        count = min(args.slice, remaining)
        for attempt in range(args.retries + 1):
            if pause:
                await asyncio.sleep(pause)
            if args.max_other:
                await wait_for_quiet_async(args.max_other / 100, args.quiet_wait)
                if after_quiet is not None:
                    await after_quiet()
            meter.start()
            items = await run(count)
            use = meter.stop()
            other = use.share(use.other)
            if not args.max_other or other * 100 <= args.max_other or attempt == args.retries:
                break
            kept.repeated += 1
            print(f"  [noisy slice: other CPU {other * 100:.0f}%, measuring it again]", flush=True)
        kept.items += items
        kept.use = kept.use + use
        remaining -= count
    return kept


def add_machine_options(
    parser: argparse.ArgumentParser, *, max_other: float, retries: int, quiet_wait: float, slice_rounds: int = 0
) -> None:
    """``--no-pin`` and the noise options the loops above read; ``--slice`` too when measuring rounds in slices
    (``slice_rounds``, its default)."""
    unit = "slice" if slice_rounds else "measurement"
    parser.add_argument("--no-pin", action="store_true", help="do not pin servers and this process to CPUs")
    parser.add_argument(
        "--max-other",
        type=float,
        default=max_other,
        help=f"%% of a core other processes (not the servers, this one, nor the data stores where told apart) may "
        f"use: wait for a quiet machine before each {unit} and measure it again when they used more (0: never wait)",
    )
    if slice_rounds:
        parser.add_argument("--slice", type=int, default=slice_rounds, help="measured rounds per slice (noise check)")
    parser.add_argument("--retries", type=int, default=retries, help=f"how often a noisy {unit} is measured again")
    parser.add_argument(
        "--quiet-wait", type=float, default=quiet_wait, help="longest wait for a quiet machine, seconds"
    )
