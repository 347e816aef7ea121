#!/usr/bin/env bash
# Train end to end: set up model/.venv if needed, then run the CLI.
# Usage: npm run train -- --data <csv> [--out DIR] [--experiment NAME] [--force-champion] [--no-register]
# CHURN_DATA is used when --data is absent.
set -euo pipefail
MODEL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$MODEL_DIR/scripts/setup-venv.sh"
export PYTHONPATH="$MODEL_DIR${PYTHONPATH:+:$PYTHONPATH}"
export MPLBACKEND=Agg
exec "$MODEL_DIR/.venv/bin/python" -m churn_model.cli "$@"
