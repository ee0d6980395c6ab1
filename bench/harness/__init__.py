"""The benchmarks' shared harness: what every script in bench/ needs besides its own measurement.

* ``processes``: server processes (gunicorn, daphne, any command) on free loopback ports, pinned, stopped with
  their process group; the open-files limit; ``run(main)``, the scripts' entry point.
* ``machine``: who used the CPU during a measurement (server, PostgreSQL and Redis, this process, everything
  else), waiting for a quiet machine, and measuring a noisy stretch again.
* ``stores``: the servers' environment, the bench database (recreated, or created when absent, migrated, filled
  by a ``manage.py shell`` script, whose prelude ``TOKEN_FOR`` logs users in: ``token_for``, ``tokens_for``), the
  bench Redis database.
* ``load``: a raw HTTP/1.1 client for load (closed loop, for a time or over a fixed set of requests; paced open
  loop), one-off requests, WebSocket connections that stamp each frame's arrival.
* ``stats``: percentiles and the report's heading lines.
* ``alert_city``: a city of up to 200,000 people (stations, offices, alliances, memberships, stores, staff) written by
  set-based SQL inside a setup script, and the police admin who publishes to it (the alert benchmarks).

A benchmark imports what it needs (``from harness.processes import Server``: the scripts run as
``python bench/<name>.py``, so ``bench/`` is on the import path) and keeps only its own setup script, load
shape and table. docs/performance.md shows a short one.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the project: servers and manage.py run here
HOST = "127.0.0.1"  # loopback only, never anything else
