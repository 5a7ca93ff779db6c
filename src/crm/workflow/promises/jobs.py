"""Background jobs of promises to pay (run by the service's leader process)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI

BACKGROUND: list[Callable[[FastAPI], Coroutine[Any, Any, None]]] = []
