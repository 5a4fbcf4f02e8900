"""The code style the project holds itself to (``[tool.ruff]`` in pyproject.toml), checked with the suite so that
the README's test command and CI enforce it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_the_package_never_imports_the_trainers():
    """Layering: ``trainers`` builds on ``srllm_guard``, never the other way (a wheel ships without them)."""
    import ast

    offenders = []
    for path in sorted((ROOT / "srllm_guard").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno} imports {n}" for n in names
                          if n == "trainers" or n.startswith("trainers.")]
    assert not offenders, offenders


def test_mypy_finds_nothing_in_the_package():
    """The shipped package type-checks (``[tool.mypy]`` in pyproject.toml)."""
    done = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
