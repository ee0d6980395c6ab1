"""Checks CI must hold the project to: lint clean, migrations match the models, production settings are safe."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.servers import ROOT


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)


def test_ruff_is_clean():
    result = _run(sys.executable, "-m", "ruff", "check", ".")

    assert result.returncode == 0, result.stdout + result.stderr


def test_migrations_match_the_models():
    result = _run(sys.executable, "manage.py", "makemigrations", "--check", "--dry-run")

    assert result.returncode == 0, result.stdout + result.stderr


def _production_env(**overrides: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/pingan",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    env.update(overrides)
    return env


def test_production_refuses_to_start_without_a_secret_key_or_hosts():
    no_secret = _run(sys.executable, "manage.py", "check", env=_production_env(DJANGO_ALLOWED_HOSTS="example.org"))
    no_hosts = _run(sys.executable, "manage.py", "check", env=_production_env(DJANGO_SECRET_KEY="s" * 60))

    assert no_secret.returncode != 0 and "DJANGO_SECRET_KEY" in no_secret.stderr
    assert no_hosts.returncode != 0 and "DJANGO_ALLOWED_HOSTS" in no_hosts.stderr


def test_production_settings_pass_the_deploy_check_without_warnings():
    env = _production_env(
        DJANGO_SECRET_KEY="k9!Vx2#pQ7@rT4$wY8^zL1&nM5*bC3(dF6)gH0-jK" * 2, DJANGO_ALLOWED_HOSTS="pingan.example"
    )

    result = _run(sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
