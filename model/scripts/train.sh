#!/usr/bin/env bash
# Train end to end: set up model/.venv if needed, then run the CLI (python -m churn_model.cli).
# Usage: npm run train -- --data <csv> [options]   or   bash model/scripts/train.sh --data <csv> [options]
# Every option, with its default: npm run train -- --help (the CLI's own list; not copied here, so
# it cannot go stale). CHURN_DATA is used when --data is absent. Relative paths are resolved
# against the caller's cwd (under npm too); --data, --config and CHURN_DATA then against the repo root.
set -euo pipefail
MODEL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$MODEL_DIR/scripts/setup-venv.sh"
# npm runs scripts in the package root and names the directory it was invoked from in INIT_CWD:
# start there, so relative --data/--out/--config (and CHURN_DATA) mean what they mean to the
# caller. Only under npm's own `train` script: INIT_CWD is inherited by whatever any npm script
# starts (a test run calling this script, say), and `bash model/scripts/train.sh` keeps the
# shell's cwd.
if [[ "${npm_lifecycle_event:-}" == "train" && -n "${INIT_CWD:-}" ]]; then
  cd "$INIT_CWD"
fi
export PYTHONPATH="$MODEL_DIR${PYTHONPATH:+:$PYTHONPATH}"
export MPLBACKEND=Agg
exec "$MODEL_DIR/.venv/bin/python" -m churn_model.cli "$@"
