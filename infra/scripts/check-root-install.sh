#!/usr/bin/env bash
# Stops `npm test` here, before `tsc -p .`, when the repository root's dependencies are not
# installed: the infra tests import the gateway's own sources (../src, ../test/helpers) and start
# the real gateway, so they need the root's `npm ci` as well as this folder's. Without it tsc
# reports some 330 "Cannot find module" errors (zod, graphql, pino, …) that do not say so.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck disable=SC2016 # the ${…} are JavaScript's template literals, not the shell's
missing=$(cd "$root" && node -e '
  const { existsSync, readFileSync } = require("node:fs");
  const { dependencies = {}, devDependencies = {} } = JSON.parse(readFileSync("package.json", "utf8"));
  const names = Object.keys({ ...dependencies, ...devDependencies });
  const missing = names.filter((name) => !existsSync(`node_modules/${name}/package.json`));
  if (missing.length > 0) console.log(`${missing.length} of its ${names.length} packages are missing: ${missing.slice(0, 4).join(", ")}${missing.length > 4 ? ", …" : ""}`);
')
if [[ -n "$missing" ]]; then
  echo "the repository root's dependencies are not installed ($missing);" >&2
  echo "the infra tests import the gateway's sources and start it, so run \`npm ci\` in $root first, then \`npm test\` here again" >&2
  exit 1
fi
