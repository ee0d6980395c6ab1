"""The embedded default: one machine, nothing but Python installed. DEBUG stays off so errors look as in production."""

from .base import *  # noqa: F403
