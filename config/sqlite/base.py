"""SQLite for the embedded default, making the database file's folder (``var/``) when it is first opened.

Settings make no directories when imported (production processes import them too), yet every entry point of the
embedded default (``manage.py migrate`` in a fresh clone, daphne, the Celery worker) must find the folder there.
Opening the first connection is the one moment they all share.
"""

from pathlib import Path

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        name = str(conn_params.get("database", ""))
        if name and not self.is_in_memory_db() and not name.startswith("file:"):
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        return super().get_new_connection(conn_params)
