#!/usr/bin/env bash
# Set up model/.venv if needed and run the model tests. CHURN_DATA (if set) is passed
# through and enables the full-data test; a relative path is resolved against the cwd,
# then the repo root.
set -euo pipefail
MODEL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$MODEL_DIR/scripts/setup-venv.sh"
if [[ -n "${CHURN_DATA:-}" && "${CHURN_DATA}" != /* ]]; then
  if [[ -e "$PWD/$CHURN_DATA" ]]; then
    CHURN_DATA="$(cd "$(dirname "$PWD/$CHURN_DATA")" && pwd)/$(basename "$CHURN_DATA")"
  elif [[ -e "$MODEL_DIR/../$CHURN_DATA" ]]; then
    CHURN_DATA="$(cd "$(dirname "$MODEL_DIR/../$CHURN_DATA")" && pwd)/$(basename "$CHURN_DATA")"
  fi
  export CHURN_DATA
fi
export MPLBACKEND=Agg
cd "$MODEL_DIR"
exec "$MODEL_DIR/.venv/bin/python" -m pytest -q "$@"
