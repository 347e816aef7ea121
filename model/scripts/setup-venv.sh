#!/usr/bin/env bash
# Create/refresh model/.venv from model/requirements.txt, every version held to the lock,
# model/requirements.lock.txt (scripts/lock.sh writes it). Idempotent: does nothing when the venv
# exists and was built from the same requirements, lock and pip pin (sha256 stored inside the venv).
#
#   bash model/scripts/setup-venv.sh                    model/.venv, locked
#   bash model/scripts/setup-venv.sh --unlocked DIR     a venv at DIR from requirements.txt alone,
#                                                       with what the index has today (lock.sh)
set -euo pipefail
MODEL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$MODEL_DIR/.venv"
REQ="$MODEL_DIR/requirements.txt"
LOCK="$MODEL_DIR/requirements.lock.txt"
LOCKED=1
if [[ "${1:-}" == "--unlocked" ]]; then
  [[ -n "${2:-}" ]] || { echo "setup-venv: --unlocked needs a directory for the venv" >&2; exit 2; }
  VENV="$2"
  LOCKED=0
elif [[ $# -gt 0 ]]; then
  echo "setup-venv: unknown argument $1 (none, or --unlocked DIR)" >&2
  exit 2
fi
STAMP="$VENV/.requirements.sha256"
PYTHON="${PYTHON:-python3}"
# The pip the venvs were built and tested with (Python 3.11's venv brings an older one), pinned so
# a new pip release cannot change how the requirements resolve or install unseen.
PIP_VERSION=26.3

want="$({ cat "$REQ"; [[ $LOCKED == 1 ]] && cat "$LOCK"; echo "pip==$PIP_VERSION"; } | sha256sum | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  exit 0
fi

if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
  echo "setup-venv: warning: $("$PYTHON" --version) found; the pins were verified with Python 3.11" >&2
fi
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup-venv: creating $VENV" >&2
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pip==$PIP_VERSION"
if [[ $LOCKED == 1 ]]; then
  echo "setup-venv: installing $REQ, held to $LOCK" >&2
  # A package the lock does not name would be installed at whatever version the index has:
  # model/tests/test_lock.py fails then (run scripts/lock.sh after changing requirements.txt).
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ" -c "$LOCK"
else
  echo "setup-venv: installing $REQ, unlocked" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
fi
echo "$want" > "$STAMP"
echo "setup-venv: ready" >&2
