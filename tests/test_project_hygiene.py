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
            "SMS_PROVIDER": "console",
            "PINGAN_TRUSTED_PROXY_COUNT": "1",
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


def test_production_refuses_to_start_without_the_database_redis_sms_provider_or_proxy_count():
    # given otherwise complete production settings
    complete = _production_env(DJANGO_SECRET_KEY="s" * 60, DJANGO_ALLOWED_HOSTS="pingan.example")

    for name in ("DATABASE_URL", "REDIS_URL", "SMS_PROVIDER", "PINGAN_TRUSTED_PROXY_COUNT"):
        # when one of them is missing, or empty
        for env in ({k: v for k, v in complete.items() if k != name}, {**complete, name: ""}):
            result = _run(sys.executable, "manage.py", "check", env=env)

            # then the process does not start, and says which variable to set
            assert result.returncode != 0, name
            assert f"Set the {name} environment variable" in result.stderr, result.stderr[-500:]
    tests_only = _run(sys.executable, "manage.py", "check", env={**complete, "SMS_PROVIDER": "memory"})
    assert tests_only.returncode != 0 and "SMS_PROVIDER=memory" in tests_only.stderr


def test_settings_make_no_directories_when_imported(tmp_path):
    # given the embedded default pointed at a folder that does not exist yet
    var_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", "PINGAN_VAR_DIR": str(var_dir)})
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)

    # when a process loads the settings and the apps (as every command does)
    result = _run(sys.executable, "-c", "import django; django.setup(); print('loaded')", env=env)

    # then nothing was created on disk
    assert result.returncode == 0 and "loaded" in result.stdout, result.stderr
    assert not var_dir.exists()

    # and a fresh clone's first command that opens the database makes the folder itself (not only dev.py run)
    migrated = _run(sys.executable, "manage.py", "migrate", "--no-input", "--verbosity", "0", env=env)
    assert migrated.returncode == 0, migrated.stderr[-1000:]
    assert (var_dir / "db.sqlite3").exists()


def test_dev_py_test_passes_pytest_options_through():
    # README: "python3 dev.py test -k idempotency -x passes arguments to pytest" (options first used to be refused)
    result = _run(
        sys.executable, "dev.py", "test", "-q", "--collect-only", "-k", "ruff", "tests/test_project_hygiene.py"
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_ruff_is_clean" in result.stdout and "1/" in result.stdout
