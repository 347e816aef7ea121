#!/usr/bin/env bash
# The whole test suite: what `npm test` runs and what .ci/run calls.
# Node (typecheck, lint, schema drift, vitest), Python (model/: mypy, pytest), infra (CDK) and delivery linters.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip
# The full-data training test runs when the data set is found (CI puts shared/ beside the clone).
if [ -z "${CHURN_DATA:-}" ] && [ -f ../shared/data/telco-customer-churn.csv ]; then
  CHURN_DATA="$(cd ../shared/data && pwd)/telco-customer-churn.csv"
  export CHURN_DATA
fi

step() { printf '\n=== %s\n' "$*"; }

step "typecheck";      npm run --silent typecheck
step "lint";           npm run --silent lint
step "schema drift";   npm run --silent schema:check
step "build";          npm run --silent build
step "gateway tests (vitest)"; npx vitest run
step "model typecheck (mypy)"; bash model/scripts/typecheck.sh
step "model tests (pytest)";   bash model/scripts/test.sh
step "infra tests";    (cd infra && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm test)
