"""The public surface of ``srllm_guard``, pinned; and ``import srllm_guard`` stays light."""

from __future__ import annotations

import json
import subprocess
import sys

import srllm_guard

PUBLIC = [
    "__version__",
    "SRGuard",
    "GuardConfig",
    "AuditRecord",
    "SRGuardError",
    "ConfigError",
    "ModelFileError",
    "MissingDependencyError",
    "DataError",
    "BackendError",
    "BackendTimeout",
]


def test_all_is_pinned_and_every_name_resolves():
    assert sorted(srllm_guard.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(srllm_guard, name) is not None
    assert srllm_guard.SRGuard.__module__ == "srllm_guard.guard"
    assert set(PUBLIC) <= set(dir(srllm_guard))


def test_nothing_else_leaks_from_the_package_or_the_service():
    import types

    import srllm_guard.serve

    names = {n for n in dir(srllm_guard) if not n.startswith("_")
             and not isinstance(getattr(srllm_guard, n), types.ModuleType)}
    assert names == set(PUBLIC) - {"__version__"}
    assert sorted(srllm_guard.serve.__all__) == ["ServeConfig", "create_app", "run"]
    served = {n for n in dir(srllm_guard.serve) if not n.startswith("_")
              and not isinstance(getattr(srllm_guard.serve, n), types.ModuleType)}
    assert served == set(srllm_guard.serve.__all__)
    import srllm_guard.faithfulness

    assert sorted(srllm_guard.faithfulness.__all__) == ["FaithfulnessCheck", "FaithfulnessScorer"]


def test_import_does_not_load_heavy_dependencies():
    code = (
        "import json, sys, srllm_guard\n"
        "bare = sorted(m for m in ('torch', 'transformers', 'llama_cpp', 'langchain_core') if m in sys.modules)\n"
        "srllm_guard.SRGuard, srllm_guard.GuardConfig, srllm_guard.AuditRecord\n"
        "used = sorted(m for m in ('torch', 'transformers', 'llama_cpp') if m in sys.modules)\n"
        "print(json.dumps([bare, used]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [[], []]
