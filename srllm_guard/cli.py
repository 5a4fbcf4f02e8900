"""``srllm-guard``: check or rewrite text from the shell with the same guard the LangChain Runnable uses.

    srllm-guard check "Some reply to audit."         # prints the JSON audit record
    echo "Some reply." | srllm-guard rewrite -       # prints the guarded text

Errors this package raises on purpose (a missing model file, a bad setting) print one line on stderr and
exit with status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence

from srllm_guard.errors import ConfigError, SRGuardError

__all__ = ["main", "build_parser"]

_DESCRIPTION = """\
Detect biased text and replace it with a benign rewrite that keeps the meaning (SR-LLM).
The text is split into sentences; each is scored by the model, flagged ones are rewritten,
every rewrite is re-checked, and the --fallback policy handles rewrites that fail.
"""

_EPILOG = """\
exit status: 0 done, 2 usage or setup error (bad flag, missing model file, missing extra).
examples:
  srllm-guard check "Women are too emotional to lead."
  cat reply.txt | srllm-guard rewrite - --fallback refuse --threads 1
  srllm-guard eval --data-dir ../shared/data --out runs/eval-report   (see: srllm-guard eval -h)
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; its help is the CLI's documentation."""
    parser = argparse.ArgumentParser(
        prog="srllm-guard", description=_DESCRIPTION, epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true",
                        help="print the package version, prompt format and default adapter, then exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    flags = argparse.ArgumentParser(add_help=False)  # the guard's policy and model, for check/rewrite/serve
    flags.add_argument("--backend", metavar="NAME",
                        help="model backend: llamacpp (default, in-process), hf (transformers; CUDA 4-bit when "
                             "available), remote (an OpenAI-compatible server, see --base-url), an installed "
                             "plugin's name, or package.module:Class")
    flags.add_argument("--base-url", dest="base_url", metavar="URL",
                        help="server of the remote backend, e.g. http://127.0.0.1:8000 (implies --backend remote)")
    flags.add_argument("--model", metavar="PATH", help="base model GGUF (default: the embedded Gemma 3 270M); "
                        "hf: a model folder or Hub id; remote: the served model's name")
    flags.add_argument("--adapter", metavar="PATH",
                        help="LoRA adapter GGUF ('default': the shipped SR-LLM adapter; 'none': bare base)")
    flags.add_argument("--threshold", type=float, metavar="P",
                        help="P(biased) at which a sentence is rewritten (default 0.5)")
    flags.add_argument("--fallback", choices=["flag", "redact", "refuse"],
                        help="when a rewrite fails the re-check or drifts: keep and flag it, redact the "
                             "sentence, or refuse the whole text (default redact)")
    flags.add_argument("--rewrite-attempts", type=int, dest="rewrite_attempts", metavar="N",
                        help="rewrites the model may write for one flagged sentence: a rewrite that fails the "
                             "re-check is rewritten again while attempts are left (default 1)")
    flags.add_argument("--retry", choices=["bar_words", "no_copy"],
                        help="how a further attempt is written: the original again without the words the "
                             "re-check's flag rests on, or the rejected rewrite decoded so that it cannot copy "
                             "itself (default bar_words)")
    flags.add_argument("--answered-questions", action=argparse.BooleanOptionalAction, dest="answered_questions",
                       help="judge a flagged question together with the sentence after it, which may answer it "
                            "('Are X lazy? Of course not.'); default: GuardConfig's (use --no-answered-questions "
                            "with an adapter not trained on such pairs)")
    flags.add_argument("--on-error", choices=["fail_open", "fail_closed"], dest="on_backend_error",
                        help="when the model fails or times out: return the original text, or the "
                             "refusal (default fail_closed)")
    flags.add_argument("--timeout", type=float, dest="timeout_s", metavar="SECONDS",
                        help="limit for one model call (default 30)")
    flags.add_argument("--threads", type=int, dest="n_threads", metavar="N",
                        help="CPU threads for the model (default: the backend's choice)")
    flags.add_argument("--screen", metavar="PATH",
                        help="llamacpp: early-exit probe that clears clearly clean sentences after an early block "
                             "('default': the one shipped with the adapter; 'none': every sentence gets the "
                             "full model)")
    flags.add_argument("--backend-option", action="append", dest="backend_options", metavar="NAME=VALUE",
                       help="another constructor argument of the backend (repeatable), e.g. merge=false, "
                            "n_ctx=4096, lora_scale=0.5; values are read as JSON when they parse, else as text")
    flags.add_argument("--faithfulness", nargs="?", const="default", metavar="FOLDER",
                       help="check every rewrite with a faithfulness check and refuse one that says what the "
                            "sentence did not (bare flag: the shipped check; needs pip install "
                            "'srllm-guard[faithful]')")
    flags.add_argument("--min-faithfulness", type=float, dest="min_faithfulness", metavar="P",
                       help="lowest P(faithful) of a used rewrite (default 0.63; read only with --faithfulness)")
    common = argparse.ArgumentParser(add_help=False, parents=[flags])
    common.add_argument("text", metavar="TEXT", help="the text to guard; '-' reads it from standard input")
    commands.add_parser("check", parents=[common], help="print the JSON audit record of TEXT",
                        description="Guard TEXT and print the audit record (JSON): verdict, score, "
                                    "action, the guarded text and every changed span.")
    commands.add_parser("rewrite", parents=[common], help="print TEXT as the guard returns it",
                        description="Guard TEXT and print the text the guard returns.")
    prep = commands.add_parser("prepare", help="assemble the base, verify and merge the adapter ahead of time",
                               description="Do every first-use step now (assemble the embedded base, check the "
                                           "adapter's hashes, build the merged weights, load once), so the first "
                                           "check of a fresh process starts at once. Idempotent.")
    prep.add_argument("--cache-dir", metavar="DIR", help="cache directory for this run (later processes need "
                                                         "SRLLM_GUARD_CACHE=DIR); default: $SRLLM_GUARD_CACHE, else "
                                                         "$XDG_CACHE_HOME/srllm-guard, else ~/.cache/srllm-guard")
    prep.add_argument("--adapter", default="default", metavar="PATH",
                      help="adapter GGUF ('default': the packaged SR-LLM adapter; 'none': bare base)")
    prep.add_argument("--model", metavar="PATH", help="base model GGUF (default: the embedded Gemma 3 270M)")
    prep.add_argument("--no-merge", action="store_true", help="skip building the merged weights")
    serve = commands.add_parser(
        "serve", parents=[flags], help="run the OpenAI-compatible guard proxy in front of an upstream model",
        description="Serve an OpenAI-compatible API that forwards /v1/chat/completions to --upstream and guards "
                    "the assistant's reply (streams with sentence hold-back), plus /v1/guard/check, "
                    "/v1/guard/rewrite, /healthz and /metrics. Needs: pip install 'srllm-guard[serve]'.")
    serve.add_argument("--upstream", metavar="URL", help="base URL of the upstream OpenAI-compatible server, "
                                                          "e.g. http://127.0.0.1:8000 (required unless in --config)")
    serve.add_argument("--config", metavar="FILE", help="JSON or YAML file of ServeConfig settings (a 'guard' "
                                                         "section holds GuardConfig fields); flags override it")
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1: loopback only)")
    serve.add_argument("--port", type=int, help="port (default 8080)")
    serve.add_argument("--api-key", metavar="KEY", help="require 'Authorization: Bearer KEY' on /v1 routes "
                                                         "(default: $SRLLM_GUARD_API_KEY, else open)")
    serve.add_argument("--upstream-api-key", metavar="KEY", help="bearer key for the upstream (default: "
                                                                  "$SRLLM_GUARD_UPSTREAM_KEY, else the client's "
                                                                  "header when no --api-key is set)")
    serve.add_argument("--max-body-bytes", type=int, metavar="N", help="largest request body (default 1000000)")
    serve.add_argument("--upstream-timeout", type=float, metavar="SECONDS", dest="upstream_timeout_s",
                       help="upstream time limit (default 120)")
    serve.add_argument("--on-upstream-error", choices=["error", "refuse"],
                       help="upstream unreachable or timed out: answer 502/504 (error, default) or a completion "
                            "holding the refusal message (refuse)")
    from srllm_guard.eval.cli import add_parser as add_eval_parser

    add_eval_parser(commands)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The GuardConfig fields the flags set (flags left out keep the config's defaults)."""
    values = {
        "backend": args.backend or ("remote" if args.base_url else None),
        "base_url": args.base_url,
        "model_path": args.model,
        "threshold": args.threshold,
        "fallback": args.fallback,
        "rewrite_attempts": args.rewrite_attempts,
        "retry": args.retry,
        "on_backend_error": args.on_backend_error,
        "timeout_s": args.timeout_s,
        "n_threads": args.n_threads,
        "min_faithfulness": args.min_faithfulness,
    }
    overrides = {name: value for name, value in values.items() if value is not None}
    if args.adapter is not None:
        overrides["adapter_path"] = None if args.adapter.lower() == "none" else args.adapter
    if args.answered_questions is not None:
        overrides["answered_questions"] = args.answered_questions
    if args.screen is not None:
        overrides["screen"] = None if args.screen.lower() == "none" else args.screen
    if args.backend_options:
        overrides["backend_options"] = dict(_backend_option(item) for item in args.backend_options)
    return overrides


def _backend_option(item: str) -> tuple[str, Any]:
    """``NAME=VALUE`` -> (name, value): JSON when it parses (``false``, ``4096``, ``0.5``), else the text."""
    name, sep, raw = item.partition("=")
    if not sep or not name.strip():
        raise ConfigError(f"--backend-option {item!r}: expected NAME=VALUE, e.g. merge=false")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def _guard_once(text: str, overrides: dict[str, Any], faithfulness: str | None = None) -> Any:
    """What ``SRGuard(**overrides, faithfulness=...).check(text)`` returns, without importing LangChain (the CLI's
    ``check`` and ``rewrite`` start ~2 s sooner): the same config, backend factory and pipeline. ``faithfulness``:
    a check's folder, or ``'default'`` for the shipped one."""
    from pydantic import ValidationError

    from srllm_guard.backends import registry
    from srllm_guard.config import GuardConfig, settings_error
    from srllm_guard.pipeline import guard_text

    try:
        config = GuardConfig(**overrides)
    except ValidationError as exc:
        raise settings_error(exc) from exc
    check = None
    if faithfulness is not None:
        from srllm_guard.faithfulness import FaithfulnessCheck

        check = FaithfulnessCheck.load(faithfulness)
    backend = registry.build_backend(config) if text.strip() else None
    return guard_text(text, backend, config, faithfulness=check)


def _write(text: str) -> None:
    """Write to stdout even when ``text`` has characters its encoding cannot hold (lone surrogates)."""
    encoding = sys.stdout.encoding or "utf-8"
    text = text if text.endswith("\n") else text + "\n"
    sys.stdout.write(text.encode(encoding, "backslashreplace").decode(encoding))
    sys.stdout.flush()


def _serve(args: argparse.Namespace) -> int:
    import os

    from srllm_guard.serve import ServeConfig, run

    try:
        config = ServeConfig.load(
            args.config, upstream=args.upstream, host=args.host, port=args.port,
            api_key=args.api_key or os.environ.get("SRLLM_GUARD_API_KEY"),
            upstream_api_key=args.upstream_api_key or os.environ.get("SRLLM_GUARD_UPSTREAM_KEY"),
            max_body_bytes=args.max_body_bytes, upstream_timeout_s=args.upstream_timeout_s,
            on_upstream_error=args.on_upstream_error, faithfulness=args.faithfulness, guard=_overrides(args))
        run(config)
    except SRGuardError as exc:
        print(f"srllm-guard: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from srllm_guard.prepare import version_text

        _write(version_text())
        return 0
    if args.command is None:
        parser.error("a COMMAND is required (check, rewrite, serve, prepare, eval)")
    if args.command == "prepare":
        from srllm_guard.prepare import prepare

        try:
            info = prepare(cache_dir=args.cache_dir, adapter=None if args.adapter.lower() == "none" else args.adapter,
                           model_path=args.model, merge=not args.no_merge)
        except SRGuardError as exc:
            print(f"srllm-guard: error: {' '.join(str(exc).split())}", file=sys.stderr)
            return 2
        _write(json.dumps(info, indent=2))
        return 0
    if args.command == "serve":
        return _serve(args)
    if args.command == "eval":
        from srllm_guard.eval.cli import run as run_eval_command

        return run_eval_command(args)
    try:
        text = sys.stdin.read() if args.text == "-" else args.text
        record = _guard_once(text, _overrides(args), args.faithfulness)
    except SRGuardError as exc:
        print(f"srllm-guard: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    if args.command == "check":
        _write(json.dumps(record.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        _write(record.text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
