// Applies prisma/migrations to a database and records them in Prisma's `_prisma_migrations` table,
// so that `prisma migrate deploy` on a machine with the native engine sees them as applied.
import { randomUUID } from "node:crypto";
import { readMigrationFiles, DEFAULT_MIGRATIONS_DIR } from "./migration-files.ts";
import type { SqlScriptRunner } from "./sql-script-runner.port.ts";

/** Advisory lock key Prisma's own migrate engine takes, so the two never run at once. */
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);`;

/** Thrown when the database's migration history does not match the migrations folder. */
export class MigrationHistoryError extends Error {
  override readonly name = "MigrationHistoryError";
}

/** What {@link applyMigrations} did. */
export interface ApplyMigrationsResult {
  /** Names of the migrations applied by this call, in order. */
  readonly applied: string[];
  /** Names already recorded as applied before this call. */
  readonly alreadyApplied: string[];
}

/**
 * Applies every migration in `migrationsDir` that `_prisma_migrations` does not record as
 * finished. Each migration runs in its own transaction together with its history row.
 *
 * @throws MigrationHistoryError when an applied migration's file changed (checksum mismatch) or a
 *   previous attempt failed half-way (a row without finished_at), as `prisma migrate deploy` would.
 */
export async function applyMigrations(
  db: SqlScriptRunner,
  migrationsDir: string = DEFAULT_MIGRATIONS_DIR,
): Promise<ApplyMigrationsResult> {
  const migrations = await readMigrationFiles(migrationsDir);
  await db.query("SELECT pg_advisory_lock($1)", [PRISMA_ADVISORY_LOCK_KEY]);
  try {
    await db.execScript(CREATE_MIGRATIONS_TABLE);
    const rows = await db.query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
    );
    const recorded = new Map(rows.map((r) => [r.migration_name, r]));
    const applied: string[] = [];
    const alreadyApplied: string[] = [];
    for (const migration of migrations) {
      const row = recorded.get(migration.name);
      if (row) {
        if (row.finished_at === null) {
          throw new MigrationHistoryError(`migration ${migration.name} failed earlier and must be resolved by hand`);
        }
        if (row.checksum !== migration.checksum) {
          throw new MigrationHistoryError(`migration ${migration.name} was modified after it was applied`);
        }
        alreadyApplied.push(migration.name);
        continue;
      }
      await db.execScript("BEGIN");
      try {
        await db.execScript(migration.sql);
        await db.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, now(), $3, now(), 1)`,
          [randomUUID(), migration.checksum, migration.name],
        );
        await db.execScript("COMMIT");
      } catch (error) {
        await db.execScript("ROLLBACK");
        throw error;
      }
      applied.push(migration.name);
    }
    return { applied, alreadyApplied };
  } finally {
    await db.query("SELECT pg_advisory_unlock($1)", [PRISMA_ADVISORY_LOCK_KEY]);
  }
}
