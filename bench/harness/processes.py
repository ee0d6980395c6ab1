"""Server processes for a benchmark: started on a free loopback port, pinned, ready, measured, stopped."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from harness import HOST, ROOT
from harness.load import http_request
from harness.machine import process_group_cpu_seconds

# On a machine with two cores or more, servers share one core and the load generator takes another, so that
# neither steals the other's CPU and ``srv CPU`` near 100 % means the server was the limit.
SERVER_CPU = 0
CLIENT_CPU = 1


class ServerFailed(RuntimeError):
    """A server exited or never answered; ``str`` is one line, ``log`` the end of what the server printed."""

    def __init__(self, message: str, log: str):
        super().__init__(message)
        self.log = log


def run(main: Callable[[], int]) -> None:
    """The scripts' entry point: SIGTERM unwinds (so ``finally`` blocks stop the servers), and a server that
    failed ends the run with its message and the tail of its log instead of a traceback."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main())
    except ServerFailed as error:
        raise SystemExit(f"{error}:\n{error.log}") from None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def venv_script(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} is not installed in this environment")
    return found


def gunicorn_argv(port: int, *, workers: int, threads: int = 1) -> list[str]:
    """``gunicorn config.wsgi:application``: sync workers, or gthread workers when ``threads`` > 1."""
    worker = ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else ["--worker-class", "sync"]
    bind = ["--bind", f"{HOST}:{port}", "--log-level", "warning"]
    return [venv_script("gunicorn"), "--workers", str(workers), *worker, *bind, "config.wsgi:application"]


def daphne_argv(port: int) -> list[str]:
    """ONE daphne process serving ``config.asgi:application``."""
    return [sys.executable, "-m", "daphne", "-b", HOST, "-p", str(port), "-v", "0", "config.asgi:application"]


def pin_load_generator(no_pin: bool) -> bool:
    """Pin this process to CLIENT_CPU unless told not to or the machine cannot; True when servers should be
    pinned to SERVER_CPU."""
    pinned = not no_pin and (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity")
    if pinned:
        os.sched_setaffinity(0, {CLIENT_CPU})
    return pinned


def raise_open_files_limit(needed: int) -> int:
    """Raise the soft limit on open files to ``needed`` (inherited by the servers started afterwards)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft != resource.RLIM_INFINITY and soft < needed:
        raise SystemExit(f"open files limit {soft} is below the {needed} this run needs (ulimit -n)")
    return soft


class Server:
    """One server process: ``command(port)`` on a free loopback port, output to a temporary log.

    It runs in its own process group, so that ``stop`` also stops gunicorn's workers and ``cpu_seconds`` counts
    them. ``ready_path`` is the page that answers 200 once it serves (None: accepting a connection is enough).
    """

    def __init__(
        self,
        label: str,
        command: Callable[[int], list[str]],
        env: dict[str, str],
        *,
        pinned: bool = False,
        ready_path: str | None = "/healthz",
    ):
        self.label = label
        self.port = free_port()
        self.ready_path = ready_path
        self.log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log", delete=False)
        preexec = (lambda: os.sched_setaffinity(0, {SERVER_CPU})) if pinned else None
        self.proc = subprocess.Popen(
            command(self.port),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group
            preexec_fn=preexec,  # the parent is single-threaded when servers start
        )

    def log_tail(self, lines: int = 40) -> str:
        self.log.flush()
        text = Path(self.log.name).read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_running("")
            try:
                if self.ready_path is None:
                    with socket.create_connection((HOST, self.port), timeout=1):
                        return
                elif http_request(self.port, "GET", self.ready_path, timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        what = f"answer {self.ready_path}" if self.ready_path else "accept a connection"
        raise ServerFailed(f"{self.label} did not {what} within {timeout:.0f} s", self.log_tail())

    def check_running(self, when: str = " during the run") -> None:
        if self.proc.poll() is not None:
            raise ServerFailed(f"{self.label} exited with {self.proc.returncode}{when}", self.log_tail())

    def cpu_seconds(self) -> float:
        """User + system CPU time of every process in the server's process group (gunicorn master + workers)."""
        return process_group_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)
