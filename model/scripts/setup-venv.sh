#!/usr/bin/env bash
# Create/refresh model/.venv from model/requirements.txt. Idempotent: does nothing when the
# venv exists and was built from the same requirements and pip pin (sha256 stored inside the venv).
set -euo pipefail
MODEL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$MODEL_DIR/.venv"
REQ="$MODEL_DIR/requirements.txt"
STAMP="$VENV/.requirements.sha256"
PYTHON="${PYTHON:-python3}"
# The pip the venvs were built and tested with (Python 3.11's venv brings an older one), pinned so
# a new pip release cannot change how the requirements resolve or install unseen.
PIP_VERSION=26.3

want="$({ cat "$REQ"; echo "pip==$PIP_VERSION"; } | sha256sum | cut -d' ' -f1)"
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
echo "setup-venv: installing $REQ" >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pip==$PIP_VERSION"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
echo "$want" > "$STAMP"
echo "setup-venv: ready" >&2
