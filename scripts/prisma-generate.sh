#!/bin/sh
# Generates the Prisma client into generated/prisma (gitignored).
# Prisma 7 wants DATABASE_URL even to generate, and would try to download a native schema engine
# that cannot be reached here: any executable satisfies it for `generate` (migrations use the
# WebAssembly engine, see adapters/db/). With --if-missing, does nothing when the client exists.
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--if-missing" ] && [ -f generated/prisma/client.ts ]; then exit 0; fi
DATABASE_URL="${DATABASE_URL:-postgresql://unused@127.0.0.1:5432/unused}" \
PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-/bin/true}" \
PRISMA_HIDE_UPDATE_MESSAGE=1 \
  npx --no-install prisma generate --schema prisma/schema.prisma >/dev/null
echo "prisma client generated in generated/prisma"
