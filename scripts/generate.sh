#!/bin/sh
# Generates everything under generated/ (gitignored): the Prisma client and the GraphQL resolver types.
# With --if-missing, skips what already exists (used before `npm start`).
set -eu
cd "$(dirname "$0")/.."
sh scripts/prisma-generate.sh "$@"
if [ "${1:-}" = "--if-missing" ] && [ -f generated/graphql/resolvers-types.ts ]; then exit 0; fi
npx --no-install graphql-codegen --config codegen.yml --silent >/dev/null
echo "GraphQL resolver types generated in generated/graphql"
