#!/bin/sh
# `npm run lint`: ESLint (typescript-eslint + the dependency-direction rules) over the repository.
# The lint toolchain lives in tools/lint with its own lockfile (typescript-eslint needs TypeScript
# 5's JS API; the app uses TypeScript 7). It is installed on first use. --install-only stops there.
set -eu
cd "$(dirname "$0")/.."
if [ ! -x tools/lint/node_modules/.bin/eslint ]; then
  npm ci --prefix tools/lint --silent --no-audit --no-fund
fi
if [ "${1:-}" = "--install-only" ]; then exit 0; fi
exec tools/lint/node_modules/.bin/eslint -c tools/lint/eslint.config.js --max-warnings=-1 "${@:-.}"
