"""srllm-guard: detect biased LLM output and swap in benign rewrites (SR-LLM, arXiv 2404.01399).

``import srllm_guard`` stays light: torch and llama_cpp are imported only when a backend is built.
"""

from srllm_guard.errors import (
    BackendError,
    BackendTimeout,
    ConfigError,
    DataError,
    MissingDependencyError,
    ModelFileError,
    SRGuardError,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "SRGuardError",
    "ConfigError",
    "ModelFileError",
    "MissingDependencyError",
    "DataError",
    "BackendError",
    "BackendTimeout",
]
