#!/usr/bin/env bash
# The README demo: evolve a preferred stimulus for resnet20-cifar10 layer3 channel 5
# through the digiface face generator with CMA-ES, and report its relative activation.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
# Offline machines can point LANDSCAPE_HOME at a folder of pre-downloaded weights.
if [ -z "${LANDSCAPE_HOME:-}" ] && [ -d ../shared/weights ]; then export LANDSCAPE_HOME="$(cd ../shared/weights && pwd)"; fi
out=${1:-runs/demo}
rm -rf "$out"
landscape evolve --generator digiface-dcgan64 --model resnet20-cifar10 --layer layer3 --channel 5 \
  --optimizer cma --budget 3000 --out "$out"
