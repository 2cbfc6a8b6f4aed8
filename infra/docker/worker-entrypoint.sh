#!/bin/sh
# Worker/migration container entrypoint: composes DATABASE_URL from the parts ECS injects
# (DB_USERNAME and DB_PASSWORD come from Secrets Manager at task start), then runs the command.
# The generated password excludes URL-special characters (infra/lib/constructs/database.ts).
set -eu
if [ -z "${DATABASE_URL:-}" ] && [ -n "${DB_HOST:-}" ]; then
  DATABASE_URL="postgresql://${DB_USERNAME}:${DB_PASSWORD}@${DB_HOST}:${DB_PORT:-5432}/${DB_NAME}?sslmode=require"
  export DATABASE_URL
fi
exec "$@"
