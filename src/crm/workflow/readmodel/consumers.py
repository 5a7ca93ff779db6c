"""The events workflow listens to: SyncEvents and PaymentEvents, applied to its read model."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from crm.platform.consumer import EventConsumer
from crm.workflow.readmodel import models as _models  # noqa: F401

CONSUMERS: list[Callable[[FastAPI], EventConsumer]] = []
