"""Backend discovery by name (built-ins, entry points, 'module:Class') and the config -> constructor mapping."""

from __future__ import annotations

import sys

import pytest

import srllm_guard.guard as guard_module
from conftest import FakeBackend
from srllm_guard.backends import registry
from srllm_guard.cli import _overrides, build_parser
from srllm_guard.config import GuardConfig
from srllm_guard.errors import ConfigError


class PluginBackend(FakeBackend):
    """A third-party backend: takes the fields it names, nothing else."""

    def __init__(self, *, model: str | None = None, base_url: str | None = None, device: str | None = None) -> None:
        super().__init__()
        self.args = (model, base_url, device)


def test_builtins_are_listed_and_resolve_without_importing_heavy_modules() -> None:
    found = registry.available_backends()
    assert {"llamacpp", "hf", "remote"} <= set(found)
    assert guard_module.BACKENDS == registry.BUILTIN_BACKENDS
    before = {m for m in ("torch", "transformers") if m in sys.modules}
    assert registry.load_backend_class("hf").__name__ == "HFBackend"
    assert registry.load_backend_class("remote").__name__ == "RemoteBackend"
    assert {m for m in ("torch", "transformers") if m in sys.modules} == before


def test_entry_point_plugin_is_found(tmp_path, monkeypatch) -> None:
    dist = tmp_path / "srllm_guard_plugin_demo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: srllm-guard-plugin-demo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[srllm_guard.backends]\ndemo = {__name__}:PluginBackend\nhf = elsewhere:NotUsed\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = registry.available_backends()
    assert found["demo"] == f"{__name__}:PluginBackend"
    assert found["hf"] == registry.BUILTIN_BACKENDS["hf"]  # built-in names win
    assert registry.load_backend_class("demo") is PluginBackend
    monkeypatch.setattr(registry, "_shared", {})
    built = guard_module.build_backend(GuardConfig(backend="demo", model_path="m", base_url="http://127.0.0.1:1"))
    assert isinstance(built, PluginBackend) and built.args == ("m", "http://127.0.0.1:1", None)


def test_unknown_and_broken_names() -> None:
    with pytest.raises(ConfigError, match="unknown backend 'nope'.*hf.*llamacpp.*remote"):
        registry.load_backend_class("nope")
    with pytest.raises(ConfigError, match="cannot be loaded"):
        registry.load_backend_class("no_such_module_xyz:Backend")
    with pytest.raises(ConfigError, match="not a class with a check"):
        registry.load_backend_class("srllm_guard.backends.registry:available_backends")


def test_config_fields_go_where_the_constructor_takes_them() -> None:
    hf = registry.load_backend_class("hf")
    kwargs = registry.backend_kwargs(hf, GuardConfig(backend="hf", model_path="m", device="cpu", n_threads=1))
    assert kwargs == {"model": "m", "adapter": "default", "n_threads": 1, "device": "cpu"}
    remote = registry.load_backend_class("remote")
    kwargs = registry.backend_kwargs(remote, GuardConfig(backend="remote", base_url="http://h:1", timeout_s=7))
    assert kwargs == {"model": None, "base_url": "http://h:1", "timeout_s": 7.0}
    llamacpp = registry.load_backend_class("llamacpp")
    with pytest.raises(ConfigError, match="does not take base_url='http://h:1', device='cuda'"):
        registry.backend_kwargs(llamacpp, GuardConfig(base_url="http://h:1", device="cuda"))
    with pytest.raises(ConfigError, match="does not take adapter_path='a.gguf'"):
        registry.backend_kwargs(remote, GuardConfig(backend="remote", adapter_path="a.gguf"))


def test_backend_options_reach_the_constructor_and_are_checked_against_it() -> None:
    llamacpp = registry.load_backend_class("llamacpp")
    config = GuardConfig(backend_options={"merge": False, "n_ctx": 4096, "lora_scale": 0.5})
    kwargs = registry.backend_kwargs(llamacpp, config)
    assert (kwargs["merge"], kwargs["n_ctx"], kwargs["lora_scale"]) == (False, 4096, 0.5)
    with pytest.raises(ConfigError, match="does not take the option 'load_in_4bit'; it takes: .*merge"):
        registry.backend_kwargs(llamacpp, GuardConfig(backend_options={"load_in_4bit": True}))
    with pytest.raises(ConfigError, match="'n_threads' is a GuardConfig field: set n_threads=2"):
        registry.backend_kwargs(llamacpp, GuardConfig(backend_options={"n_threads": 2}))
    with pytest.raises(ConfigError, match="'adapter' is a GuardConfig field: set adapter_path="):
        registry.backend_kwargs(registry.load_backend_class("hf"), GuardConfig(backend="hf",
                                                                                backend_options={"adapter": "x"}))


def test_guards_share_a_backend_only_for_equal_arguments(monkeypatch) -> None:
    monkeypatch.setattr(registry, "_shared", {})
    name = f"{__name__}:PluginBackend"
    first = guard_module.build_backend(GuardConfig(backend=name, base_url="http://a:1"))
    assert first is guard_module.build_backend(GuardConfig(backend=name, base_url="http://a:1", threshold=0.9))
    assert first is not guard_module.build_backend(GuardConfig(backend=name, base_url="http://b:1"))


def test_cli_backend_flags() -> None:
    args = build_parser().parse_args(["check", "x", "--base-url", "http://127.0.0.1:8000"])
    assert _overrides(args)["backend"] == "remote" and _overrides(args)["base_url"] == "http://127.0.0.1:8000"
    args = build_parser().parse_args(["check", "x", "--backend", "hf", "--model", "google/gemma-3-270m"])
    assert (_overrides(args)["backend"], _overrides(args)["model_path"]) == ("hf", "google/gemma-3-270m")
    assert "backend" not in _overrides(build_parser().parse_args(["check", "x"]))
