#!/usr/bin/env bash
# Set up model/.venv if needed and type-check churn_model and tests with mypy in strict mode
# (config: model/mypy.ini; cache: model/.mypy_cache). Extra arguments go to mypy.
set -euo pipefail
MODEL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$MODEL_DIR/scripts/setup-venv.sh"
cd "$MODEL_DIR"
status=0
"$MODEL_DIR/.venv/bin/python" -m mypy "$@" || status=$?
if (( status == 1 )); then
  echo "model typecheck: FAILED: mypy found the type errors above (config: model/mypy.ini)" >&2
elif (( status != 0 )); then
  echo "model typecheck: mypy could not run (exit $status)" >&2
fi
exit "$status"
