#!/usr/bin/env bash
# Create .venv and install the toolkit with everything its tests and notebooks need.
# Safe to re-run: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
if ! python -c "import landscape, torch, gudhi, plotly, pytest, gan_face_generate, distributed, pyarrow, h5py" 2>/dev/null; then
  python -m pip install -q --upgrade pip
  # The CPU wheel of torch 2.13.0; a bare `torch` requirement would pull a multi-GB CUDA build.
  python -m pip install -q "torch==2.13.0"
  python -m pip install -q -e ".[test]"
  # The digiface generator's weights ship in this PyPI package; its declared dependencies
  # (torchvision, wandb, matplotlib) are not needed and torchvision would replace torch.
  python -m pip install -q --no-deps "gan-face-generate==1.1.1"
fi
