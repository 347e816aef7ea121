#!/usr/bin/env bash
# Prints `major=<N>`: the Node major of the image, from the Dockerfile's `FROM node:<N>...`
# lines (the one place the shipped runtime is named). CI appends it to $GITHUB_OUTPUT and
# sets up that Node to run the tests. Fails when the stages disagree or name no Node image.
set -euo pipefail
dockerfile="${1:-$(dirname "$0")/../Dockerfile}"
majors=$(sed -n 's/^FROM[[:space:]]\{1,\}node:\([0-9]\{1,\}\)[-.@].*/\1/p' "$dockerfile" | sort -u)
count=$(printf '%s\n' "$majors" | grep -c . || true)
if [ "$count" -ne 1 ]; then
  echo "image-node-major: expected one Node major across the FROM lines of $dockerfile, found ${count}: ${majors//$'\n'/ }" >&2
  exit 1
fi
echo "major=$majors"
