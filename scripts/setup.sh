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
if ! python -c "import landscape, torch, gudhi, plotly, pytest, gan_face_generate, distributed, pyarrow, h5py, importlinter" 2>/dev/null; then
  python -m pip install -q --upgrade pip
  # The CPU wheel of torch 2.13.0; a bare `torch` requirement would pull a multi-GB CUDA build.
  python -m pip install -q "torch==2.13.0"
  python -m pip install -q -e ".[test]"
  # The digiface generator's weights ship in this PyPI package; its declared dependencies
  # (torchvision, wandb, matplotlib) are not needed and torchvision would replace torch.
  python -m pip install -q --no-deps "gan-face-generate==1.1.1"
fi
# The default reference images of relative activation (20 CIFAR-10, 20 CIFAR-100 and 20 ImageNet
# samples) ship in the foolbox wheel (MIT); only its data files are read, so its dependencies
# are not needed.
if ! python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('foolbox') is None)"; then
  python -m pip install -q --no-deps "foolbox==3.3.4"
fi
