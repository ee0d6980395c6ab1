"""The load: raw HTTP/1.1 requests from asyncio (closed loop), one-off requests, WebSocket clients.

The load generator is this Python process. It writes prepared request bytes and parses just enough of the
answer (status, body, whether the connection stays open), so that its own cost stays small next to the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from harness import HOST
from harness.machine import CpuMeter, CpuUse, Slices, measure_in_slices

T = TypeVar("T")

# A failed request: counted as an error, and the connection is opened again.
RETRYABLE = (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)


def http_request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10,
) -> tuple[int, bytes]:
    """One request outside the measurement (a readiness check, a probe): (status, body)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def raw_request(method: str, path: str, port: int, headers: dict[str, str], body: bytes = b"") -> bytes:
    """One complete HTTP/1.1 request, ready to write; a POST carries ``body`` as JSON."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Read one HTTP/1.x response; return (status, body, connection may be reused)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    version, status_text = lines[0].split(b" ", 2)[:2]
    length = None
    chunked = False
    connection = b""
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        value = value.strip()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection":
            connection = value.lower()
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, up to the empty line
                    pass
                break
            parts.append((await reader.readexactly(size + 2))[:-2])
        body = b"".join(parts)
    elif length is not None:
        body = await reader.readexactly(length)
    else:
        return int(status_text), await reader.read(), False
    keep = connection != b"close" if version == b"HTTP/1.1" else connection == b"keep-alive"
    return int(status_text), body, keep


class LoadState:
    """The measured window of one load run (``warmup`` seconds from now, ``duration`` long, or until
    ``max_requests`` answers) and the answers counted in it; anything but ``ok_status`` is an error."""

    def __init__(self, warmup: float, duration: float, max_requests: int, ok_status: int):
        now = time.perf_counter()
        self.window_start = now + warmup
        self.window_end = self.window_start + duration
        self.max_requests = max_requests
        self.ok_status = ok_status
        self.latencies: list[float] = []
        self.errors = 0
        self.statuses: dict[int, int] = {}
        self.first_error_body = b""
        self.stopped_at: float | None = None

    def done(self) -> bool:
        return self.stopped_at is not None or time.perf_counter() >= self.window_end

    def in_window(self, t_end: float) -> bool:
        return self.window_start <= t_end <= self.window_end and self.stopped_at is None

    @property
    def measured_seconds(self) -> float:
        return (self.stopped_at or self.window_end) - self.window_start

    def record(self, t_start: float, t_end: float, status: int, body: bytes) -> None:
        """An answer that ended at ``t_end``: counted when that is within the window."""
        if not self.in_window(t_end):
            return
        self.count(status, body, t_end - t_start)
        if len(self.latencies) >= self.max_requests:
            self.stopped_at = t_end

    def count(self, status: int, body: bytes, latency: float) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status != self.ok_status:
            self.errors += 1
            self.first_error_body = self.first_error_body or body[:300] or b"-"
        self.latencies.append(latency)

    def error(self) -> None:
        if self.in_window(time.perf_counter()):
            self.errors += 1

    def end(self) -> None:
        """The load ended before the window did (its requests ran out): the window ends now."""
        if self.stopped_at is None:
            self.stopped_at = min(time.perf_counter(), self.window_end)


async def connection_worker(
    state: LoadState, port: int, make_request: Callable[[], bytes | None], timeout: float
) -> None:
    """Closed loop: one request after the other on one connection (a new one whenever the server closed it),
    until the window ends or ``make_request`` has no more (None: a fixed set of requests, each sent once)."""
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while not state.done():
        request = make_request()
        if request is None:
            break
        t_start = time.perf_counter()  # includes the TCP connect when the server closed the last one
        reused = writer is not None
        try:
            async with asyncio.timeout(timeout):
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                writer.write(request)
                status, body, keep = await read_response(reader)
        except RETRYABLE as exc:
            if writer is not None:
                writer.close()
            reader = writer = None
            stale = reused and isinstance(exc, asyncio.IncompleteReadError) and not exc.partial
            if not stale:  # a kept-alive connection the server had closed: retry quietly, as clients do
                state.error()
                await asyncio.sleep(0.01)
            continue
        state.record(t_start, time.perf_counter(), status, body)
        if not keep:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def run_closed_loop(
    state: LoadState,
    port: int,
    make_request: Callable[[], bytes | None],
    concurrency: int,
    timeout: float,
    meter: CpuMeter,
) -> CpuUse:
    """``concurrency`` connections in a closed loop until the window ends (or ``make_request`` runs out); the CPU
    used over the window."""
    use = CpuUse()

    async def sample_cpu() -> None:
        nonlocal use
        await asyncio.sleep(max(0.0, state.window_start - time.perf_counter()))
        meter.start()
        while not state.done():
            await asyncio.sleep(min(0.05, max(0.0, state.window_end - time.perf_counter())))
        use = meter.stop()

    async def main() -> None:
        sampler = asyncio.create_task(sample_cpu())
        await asyncio.gather(*(connection_worker(state, port, make_request, timeout) for _ in range(concurrency)))
        state.end()
        await sampler

    asyncio.run(main())
    return use


@dataclass
class Paced:
    """What an open-loop run did besides its answers: requests sent more than 5 ms after they were due (``late``),
    not sent because ``max_in_flight`` were still open (``shed``), and the CPU over the measured part."""

    late: int = 0
    shed: int = 0
    use: CpuUse = field(default_factory=CpuUse)


def run_paced(
    state: LoadState,
    port: int,
    make_request: Callable[[], bytes],
    rate: float,
    total: int,
    max_in_flight: int,
    timeout: float,
    meter: CpuMeter,
) -> Paced:
    """Open loop: request i of ``total`` is due at start + i / ``rate`` (start: the window's start less its
    warmup) and is sent then on a new connection, whether or not the earlier ones have answered. Latency counts
    from when it was DUE, so a client or server falling behind shows up as latency (no coordinated omission);
    only the requests due within the window count. ``make_request`` is called before each is due: building it
    is not part of its latency."""
    paced = Paced()
    warmup = max(0.0, state.window_start - time.perf_counter())

    async def one(due: float, request: bytes) -> None:
        writer = None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(HOST, port)
                writer.write(request)
                status, body, _keep = await read_response(reader)
        except RETRYABLE:
            state.errors += int(due >= state.window_start)
            return
        finally:
            if writer is not None:
                writer.close()
        if due >= state.window_start:  # counted by when it was due, so the window holds exactly the paced ones
            state.count(status, body, time.perf_counter() - due)

    async def main() -> None:
        in_flight: set[asyncio.Task] = set()
        start = state.window_start - warmup
        measured_started = False
        for i in range(total):
            due = start + i / rate
            if not measured_started and due >= state.window_start:
                meter.start()
                measured_started = True
            request = make_request()
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.perf_counter() - due > 0.005 and due >= state.window_start:
                paced.late += 1
            if len(in_flight) >= max_in_flight:
                paced.shed += int(due >= state.window_start)
                continue
            task = asyncio.create_task(one(due, request))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.gather(*in_flight)
        if measured_started:
            paced.use = meter.stop()

    asyncio.run(main())
    return paced


def add_round_options(parser: argparse.ArgumentParser, *, rounds: int, warmup: int, each: str) -> None:
    """``--rounds``, ``--warmup`` and ``--round-timeout`` of a benchmark measured in rounds (one ``each`` a round)."""
    parser.add_argument("--rounds", type=int, default=rounds, help=f"measured rounds (one {each} each)")
    parser.add_argument("--warmup", type=int, default=warmup, help="unmeasured rounds first")
    parser.add_argument("--round-timeout", type=float, default=10.0, help="seconds a round may take")


# --- WebSocket clients ---------------------------------------------------------------------------------------


def stamping_connection_class():
    """A websockets client connection that stamps each text frame when its bytes reach this process.

    The event loop hands every readable socket its bytes first (``data_received``) and resumes the tasks waiting
    in ``recv()`` afterwards, so the time ``recv()`` returns includes the client's own work on the other sockets
    that were ready in the same turn. ``data_received`` parses the bytes into frames and hands each to
    ``process_event`` right away: a stamp taken there does not include that work, also for the later frames of a
    chunk that holds several. Stamps queue in frame order, ``recv()`` returns messages in the same order, so
    ``arrival()`` after each ``recv()`` pops the stamp of that message.
    """
    from collections import deque

    from websockets.asyncio.client import ClientConnection
    from websockets.frames import Frame, Opcode

    class StampingConnection(ClientConnection):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.stamps: deque[float] = deque()
            self.chunk_at = 0.0

        def data_received(self, data: bytes) -> None:
            self.chunk_at = time.perf_counter()
            super().data_received(data)

        def process_event(self, event) -> None:
            if isinstance(event, Frame) and event.fin and event.opcode in (Opcode.TEXT, Opcode.CONT):
                self.stamps.append(self.chunk_at)
            super().process_event(event)

        def arrival(self) -> float:
            """The stamp of the message ``recv()`` just returned (or now, when it had none)."""
            return self.stamps.popleft() if self.stamps else time.perf_counter()

    return StampingConnection


async def open_socket(url: str, timeout: float, connection_class) -> tuple[object, dict]:
    """A WebSocket connection of ``connection_class`` and the first event it received (``hello``)."""
    from websockets.asyncio.client import connect

    ws = await connect(
        url,
        compression=None,
        ping_interval=None,
        proxy=None,
        open_timeout=timeout,
        close_timeout=2,
        max_queue=None,
        create_connection=connection_class,
    )
    hello = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    ws.stamps.clear()
    return ws, hello


async def open_in_batches(
    open_one: Callable[[T], Awaitable[object]], each: Sequence[T], batch: int, sockets: list, progress: bool = False
) -> None:
    """``open_one(item)`` for every item, ``batch`` at a time, into ``sockets`` (so that closing them also closes
    the ones opened before a failure); any failure ends it."""
    for start in range(0, len(each), batch):
        opened = await asyncio.gather(*(open_one(item) for item in each[start : start + batch]), return_exceptions=True)
        sockets += [ws for ws in opened if not isinstance(ws, BaseException)]
        failures = [ws for ws in opened if isinstance(ws, BaseException)]
        if failures:
            raise RuntimeError(f"{len(failures)} connections failed, first: {failures[0]!r}")
        if progress:
            print(f"\r  connected {len(sockets)}/{len(each)}", end="", flush=True)
    if progress:
        print(flush=True)


async def close_sockets(sockets: list, readers: list[asyncio.Task]) -> None:
    """Stop the reading tasks and close the connections, 200 at a time, within 30 s."""
    for task in readers:
        task.cancel()
    try:
        async with asyncio.timeout(30):
            for start in range(0, len(sockets), 200):
                await asyncio.gather(*(ws.close() for ws in sockets[start : start + 200]), return_exceptions=True)
    except TimeoutError:
        print("  closing the client connections timed out", flush=True)


class RoundsClient(Protocol):
    sockets: list
    readers: list[asyncio.Task]

    async def connect_all(self) -> None: ...

    async def run_rounds(self, total: int) -> list: ...


def measure_rounds(
    client: RoundsClient,
    meter: CpuMeter,
    args: argparse.Namespace,
    *,
    pause: float = 0.0,
    after_quiet: Callable[[], Awaitable[object]] | None = None,
) -> tuple[Slices, float]:
    """Connect the client's sockets, give the server 1 s to finish what connecting queued, run ``args.warmup``
    unmeasured rounds, then ``args.rounds`` measured ones in slices (``measure_in_slices``, which ``pause`` and
    ``after_quiet`` go to); all within ``args.timeout``, the sockets closed whatever happens. The kept slices and
    the seconds connecting took."""

    async def main() -> tuple[Slices, float]:
        try:
            async with asyncio.timeout(args.timeout):
                started = time.perf_counter()
                await client.connect_all()
                connect = time.perf_counter() - started
                await asyncio.sleep(1.0)
                await client.run_rounds(args.warmup)
                kept = await measure_in_slices(
                    client.run_rounds, args.rounds, meter, args, pause=pause, after_quiet=after_quiet
                )
                return kept, connect
        finally:
            await close_sockets(client.sockets, client.readers)

    return asyncio.run(main())
