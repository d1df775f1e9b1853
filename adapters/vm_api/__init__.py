"""VM Internal API: the worker's only way to PostgreSQL."""

from adapters.vm_api.base import VMApi

__all__ = ["VMApi"]
