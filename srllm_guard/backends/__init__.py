"""Model backends. Each lives in its own module and imports its heavy dependency lazily."""

from srllm_guard.backends.base import Backend, BaseBackend, Check

__all__ = ["Backend", "BaseBackend", "Check"]
