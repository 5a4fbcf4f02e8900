"""The wheel works outside the checkout: it carries the default adapter, and ``prepare`` removes first-use work.

The wheel is built from this checkout and installed (without dependencies) into a fresh virtual environment in
a temporary folder; the heavy dependencies already installed for the tests are reused through a ``.pth`` file
(the same packages a user's ``pip install srllm-guard`` would fetch). Commands run with the temporary folder as
their working directory, so nothing is found through the checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest

from srllm_guard import __version__, models

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def _run(cmd: list[str], *, cwd: Path, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = _run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                  "-w", str(out)], cwd=out)
    assert built.returncode == 0, built.stderr[-3000:]
    (path,) = out.glob("srllm_guard-*.whl")
    return path


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel) -> Path:
    root = tmp_path_factory.mktemp("venv")
    made = _run([sys.executable, "-m", "venv", str(root / "env")], cwd=root)
    assert made.returncode == 0, made.stderr
    python = root / "env" / "bin" / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root)
    Path(site.stdout.strip(), "_test_reuse_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], cwd=root)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return root / "env"


def test_wheel_carries_the_default_adapter_and_nothing_it_must_not(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    weights = f"srllm_guard/_weights/{models.DEFAULT_ADAPTER}/"
    for rel in ("adapter.gguf", "early_exit.npz", "README.md", "training_summary.json", "SHA256SUMS",
                "peft/adapter_model.safetensors"):
        assert weights + rel in names, rel
    assert "srllm_guard/py.typed" in names and "trainers/recipes/default.yaml" in names
    assert not [n for n in names if n.startswith(("adapters/", "runs/", "tests/")) or "shared/data" in n]
    check = f"srllm_guard/_weights/{models.DEFAULT_FAITHFULNESS}/"
    for rel in ("adapter_model.safetensors", "head.safetensors", "adapter_config.json", "SHA256SUMS"):
        assert check + rel in names, rel
    assert not [n for n in names if n.startswith("srllm_guard/_weights/") and not n.startswith((weights, check))]
    size_mb = wheel.stat().st_size / 2**20
    print(f"\nwheel {wheel.name}: {size_mb:.1f} MiB")
    assert size_mb < 60


def test_installed_wheel_checks_text_offline_with_its_packaged_weights(venv, tmp_path):
    cli = str(venv / "bin" / "srllm-guard")
    env = {"HF_HUB_OFFLINE": "1", "SRLLM_GUARD_ADAPTERS": ""}
    version = _run([cli, "--version"], cwd=tmp_path, env=env)
    assert version.returncode == 0 and __version__ in version.stdout
    assert "site-packages/srllm_guard/_weights" in version.stdout, version.stdout
    biased = _run([cli, "check", "You are a stupid idiot and everyone hates you.", "--threads", "1"], cwd=tmp_path,
                  env=env)
    assert biased.returncode == 0, biased.stderr[-2000:]
    record = json.loads(biased.stdout)
    assert record["biased"] and record["action"] in ("rewrite", "fallback")
    assert models.DEFAULT_ADAPTER in record["model_id"]
    neutral = _run([cli, "rewrite", "The meeting is at nine tomorrow.", "--threads", "1"], cwd=tmp_path, env=env)
    assert neutral.returncode == 0 and neutral.stdout == "The meeting is at nine tomorrow.\n"


def test_prepare_leaves_nothing_for_the_first_check_to_build(venv, tmp_path):
    cli = str(venv / "bin" / "srllm-guard")
    cache = tmp_path / "cache"
    env = {"HF_HUB_OFFLINE": "1", "SRLLM_GUARD_ADAPTERS": "", "SRLLM_GUARD_CACHE": str(cache)}
    first = _run([cli, "prepare", "--cache-dir", str(cache)], cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    info = json.loads(first.stdout)
    assert Path(info["weights"]).is_file() and Path(info["weights"]).parent == cache / "merged"
    assert info["screen"] and "_weights" in info["screen"]
    again = _run([cli, "prepare", "--cache-dir", str(cache)], cwd=tmp_path, env=env)  # idempotent
    assert again.returncode == 0 and json.loads(again.stdout)["weights"] == info["weights"]
    files = {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}
    started = time.perf_counter()
    check = _run([cli, "check", "The meeting is at nine tomorrow.", "--threads", "1"], cwd=tmp_path, env=env)
    wall = time.perf_counter() - started
    assert check.returncode == 0, check.stderr[-2000:]
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()} == files  # nothing built or rewritten
    print(f"\nfirst check of a fresh process after prepare: {wall:.2f} s (process start, imports, load, check)")


def test_unwritable_cache_is_a_clear_error(venv, tmp_path):
    cli = str(venv / "bin" / "srllm-guard")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    out = _run([cli, "prepare", "--cache-dir", str(blocker / "cache")], cwd=tmp_path, env={"SRLLM_GUARD_ADAPTERS": ""})
    assert out.returncode == 2, out.stderr
    assert "not writable" in out.stderr and "SRLLM_GUARD_CACHE" in out.stderr and "Traceback" not in out.stderr
