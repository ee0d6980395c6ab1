"""Ids in URLs: ``<id:group_id>`` in every app's urls.py.

Every primary key and sequence number is a 64-bit integer (BigAutoField, BigIntegerField). Django's ``<int:...>``
takes any run of digits, and on SQLite (the embedded default) an id beyond 2**63 - 1 reached the database driver
and answered 500; such an id names nothing, so the URL does not match and the answer is an ordinary 404.
"""

from __future__ import annotations

from django.urls import register_converter

MAX_ID = 2**63 - 1  # the largest value of a bigint column (PostgreSQL bigint, SQLite INTEGER)


def is_id(value, *, minimum: int = 1) -> bool:
    """A whole number the database can hold (JSON true is not 1): an id or seq taken from a socket frame."""
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= MAX_ID


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError("beyond the database's integer range")  # Django treats this as "no match": 404
        return number

    def to_url(self, value) -> str:
        return str(int(value))


register_converter(IdConverter, "id")
