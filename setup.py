"""Build hook only (all metadata is in pyproject.toml): the default adapter travels inside the wheel.

``adapters/`` is where the trainer writes and ships adapters. When a wheel is built, the files the runtime
needs of the *default* adapter (``srllm_guard.models.DEFAULT_ADAPTER``) are copied into the package as
``srllm_guard/_weights/<name>/`` (package data, read through ``importlib.resources``): the adapter GGUF, its
early-exit probe, the PEFT folder for the ``hf`` backend, the model card, the training summary (which names
the prompt format) and ``SHA256SUMS`` (checked before use); and the default rewrite faithfulness check
(``srllm_guard.models.DEFAULT_FAITHFULNESS``, 2.6 MB, used only when asked for). An editable install reads
``adapters/`` directly.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = ("adapter.gguf", "early_exit.npz", "early_exit.report.json", "README.md", "training_summary.json",
           "SHA256SUMS", "peft/adapter_config.json", "peft/adapter_model.safetensors")


FAITHFULNESS_SHIPPED = ("adapter_config.json", "adapter_model.safetensors", "head.safetensors", "faithfulness.json",
                        "README.md", "SHA256SUMS")
"""The files of the default rewrite faithfulness check (optional at run time: it needs the ``[faithful]`` extra)."""


def _named(constant: str) -> str:
    source = (ROOT / "srllm_guard" / "models.py").read_text(encoding="utf-8")
    match = re.search(rf'^{constant} = "([^"]+)"', source, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"srllm_guard/models.py must define {constant} = \"<name>\"")
    return match.group(1)


def default_adapter() -> str:
    return _named("DEFAULT_ADAPTER")


class BuildWithWeights(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install reads adapters/ in the checkout
        weights = Path(self.build_lib) / "srllm_guard" / "_weights"
        shutil.rmtree(weights, ignore_errors=True)  # a reused build dir may hold an earlier default's files
        for name, files in ((default_adapter(), SHIPPED), (_named("DEFAULT_FAITHFULNESS"), FAITHFULNESS_SHIPPED)):
            source = ROOT / "adapters" / name
            missing = [f for f in files if not (source / f).is_file()]
            if missing:
                raise RuntimeError(f"cannot package {name}: {', '.join(missing)} missing in {source}")
            for rel in files:
                (weights / name / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / rel, weights / name / rel)


setup(cmdclass={"build_py": BuildWithWeights})
