#!/usr/bin/env bash
# Install srllm-guard and everything it needs into ./.venv (idempotent; a second run is fast).
# torch is pinned to the CPU build first so that nothing later pulls a multi-GB CUDA build;
# llama-cpp-python compiles llama.cpp from source (~10 min the first time, cached by pip after).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1
export CMAKE_ARGS=${CMAKE_ARGS:-"-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF"}
echo "torch==2.13.0" > .venv/torch-constraint.txt
python -m pip install -q "torch==2.13.0"
python -m pip install -q -c .venv/torch-constraint.txt -e ".[all,dev]"
echo "srllm-guard installed in .venv"
