#!/usr/bin/env python3
"""The two commands a newcomer needs, on any machine with Python 3.11:

    python3 dev.py run     set up and run the service on the embedded default, with the demo city
    python3 dev.py test    run the whole test suite (what .ci/run runs)

``run`` creates .venv, installs requirements.txt (again only when it changed), migrates the SQLite database under
var/, loads the demo city (idempotent), starts a Celery worker with the beat scheduler on the embedded file broker,
and serves HTTP and WebSocket with daphne on http://127.0.0.1:8000 (``--port`` to change). Ctrl-C stops both.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
REQUIREMENTS = ROOT / "requirements.txt"
STAMP = VENV / ".requirements.sha256"


def say(message: str) -> None:
    print(f"\033[1m==> {message}\033[0m", flush=True)


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python3
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}. Run: python3.11 dev.py ...")
    if not PYTHON.exists():
        say("Creating the virtual environment in .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        say("Installing requirements.txt")
        subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "-r", REQUIREMENTS], check=True)
        STAMP.write_text(wanted)


def manage(*args: str, env: dict | None = None) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=True, env=env)


def run(port: int, host: str) -> int:
    ensure_environment()
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    # The embedded default's SQLite file, broker and uploads live here (settings make no directories themselves).
    Path(env.get("PINGAN_VAR_DIR") or ROOT / "var").mkdir(parents=True, exist_ok=True)
    say("Migrating the database")
    manage("migrate", "--no-input", env=env)
    manage("collectstatic", "--no-input", "--verbosity", "0", env=env)
    say("Loading the demo city (nothing is created twice)")
    manage("seed_demo", env=env)

    say("Starting the background worker and the periodic job scheduler")
    worker = subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "config", "worker", "--beat", "--pool=solo", "--loglevel=WARNING"],
        cwd=ROOT,
        env=env,
    )
    say(f"Serving HTTP and WebSocket on http://{host}:{port}  (API docs: /api/docs/, admin: /admin/)")
    server = subprocess.Popen(
        [PYTHON, "-m", "daphne", "-b", host, "-p", str(port), "config.asgi:application"], cwd=ROOT, env=env
    )
    try:
        return server.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for process in (server, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (server, worker):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def test(pytest_args: list[str]) -> int:
    ensure_environment()
    return subprocess.run([PYTHON, "-m", "pytest", *pytest_args], cwd=ROOT).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run the service on the embedded default with demo data")
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    run_parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    test_parser = commands.add_parser("test", help="run the test suite; extra arguments go to pytest")
    test_parser.add_argument("pytest_args", nargs=argparse.REMAINDER)
    # (argparse's REMAINDER refuses options that come first, such as "test -k idempotency -x": keep the unknown ones)
    args, unknown = parser.parse_known_args()
    if args.command == "run":
        if unknown:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        return run(args.port, args.host)
    return test(unknown + args.pytest_args)


if __name__ == "__main__":
    sys.exit(main())
