#!/usr/bin/env bash
# The whole test suite: what `npm test` runs and what .ci/run calls. The one list of test steps:
# the GitHub workflow (.github/workflows/ci.yml) runs each part in its own job.
#
#   bash scripts/test.sh                 every part, in order
#   bash scripts/test.sh gateway         one part (or several: gateway infra); `npm test -- infra` too
#
# Parts:
#   gateway - typecheck, lint, schema drift, build, vitest (incl. the delivery linters and the
#             Docker runtime-stage smoke test), model typecheck (mypy), model tests (pytest)
#   infra   - the CDK app: lint (the root's ESLint config, type-aware), tests (tsc, vitest, cfn-lint)
# Expects the root's node_modules (npm ci; infra's lint runs the root's ESLint too); installs
# infra/node_modules when missing, and the model scripts create model/.venv on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

PARTS=(gateway infra)
for part in "$@"; do
  if [[ " ${PARTS[*]} " != *" $part "* ]]; then
    echo "scripts/test.sh: unknown part '$part' (the parts are: ${PARTS[*]}; no argument runs them all)" >&2
    exit 2
  fi
done
(( $# > 0 )) || set -- "${PARTS[@]}"

export ONNXRUNTIME_NODE_INSTALL=skip
# The full-data training test runs when the data set is found (CI puts shared/ beside the clone).
if [ -z "${CHURN_DATA:-}" ] && [ -f ../shared/data/telco-customer-churn.csv ]; then
  CHURN_DATA="$(cd ../shared/data && pwd)/telco-customer-churn.csv"
  export CHURN_DATA
fi

current=""
step() { current="$*"; printf '\n=== %s\n' "$*"; }
# One workflow step runs many of these: name the one that failed at the end of the log (and, on
# GitHub Actions, as an annotation on the run).
on_exit() {
  local rc=$?
  if (( rc != 0 )) && [ -n "$current" ]; then
    printf '\n=== FAILED: %s (exit %s)\n' "$current" "$rc" >&2
    if [ -n "${GITHUB_ACTIONS:-}" ]; then echo "::error title=scripts/test.sh::$current failed (exit $rc)"; fi
  fi
}
trap on_exit EXIT

part_gateway() {
  step "typecheck";      npm run --silent typecheck
  step "lint";           npm run --silent lint
  step "schema drift";   npm run --silent schema:check
  step "build";          npm run --silent build
  step "gateway tests (vitest)"; npx vitest run
  step "model typecheck (mypy)"; bash model/scripts/typecheck.sh
  step "model tests (pytest)";   bash model/scripts/test.sh
}

part_infra() {
  if [ ! -d infra/node_modules ]; then step "infra install (npm ci)"; (cd infra && npm ci --no-audit --no-fund); fi
  step "infra lint";     npm run --silent lint:infra
  step "infra tests";    (cd infra && npm test)
}

for part in "$@"; do "part_$part"; done
