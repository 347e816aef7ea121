#!/usr/bin/env bash
# Creates infra/.venv with an exactly pinned cfn-lint; the test suite runs it on the synthesized template.
# Idempotent: does nothing when the pinned version is already installed.
set -euo pipefail
CFN_LINT_VERSION="1.58.0"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$here/.venv"
if [ -x "$venv/bin/cfn-lint" ] && "$venv/bin/cfn-lint" --version 2>/dev/null | grep -q "$CFN_LINT_VERSION"; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "cfn-lint==$CFN_LINT_VERSION"
"$venv/bin/cfn-lint" --version
