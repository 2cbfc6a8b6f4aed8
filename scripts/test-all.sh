#!/usr/bin/env bash
# `npm test`: every TypeScript test (node's test runner) and then every Python test (pytest), each
# runner printing its own summary. Fails when either fails. Needs PostgreSQL on 127.0.0.1:5432 and
# moto's S3 at MOTO_ENDPOINT_URL (.ci/run starts both).
set -uo pipefail
cd "$(dirname "$0")/.."

sh scripts/lint.sh --install-only || exit 1
sh scripts/generate.sh --if-missing >/dev/null || exit 1

mapfile -t files < <(find test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
echo "== node --test (${#files[@]} files)"
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
node_status=$?

py_status=0
if [ -d training/tests ]; then
  echo "== pytest training/tests"
  python3 -m pytest -q training/tests
  py_status=$?
  # pytest exits 5 when it collects no test: not a failure of the suite.
  if [ "$py_status" -eq 5 ]; then echo "pytest: no tests collected"; py_status=0; fi
fi

echo "== summary: node --test exit ${node_status}, pytest exit ${py_status}"
[ "$node_status" -eq 0 ] && [ "$py_status" -eq 0 ]
