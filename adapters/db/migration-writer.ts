// Writes a new prisma/migrations/<timestamp>_<name>/migration.sql by diffing Prisma schemas with the
// WebAssembly schema engine. Each migration folder also keeps the schema it was generated from
// (schema.prisma), the "from" side of the next diff; `prisma migrate deploy` ignores that file.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { readMigrationFiles } from "./migration-files.ts";
import { createSchemaEngine } from "./schema-engine.ts";

/** Options of {@link writeMigration}. */
export interface WriteMigrationOptions {
  /** Short snake_case description, e.g. `add_audit_index`. */
  readonly name: string;
  /** Path of the current prisma/schema.prisma. */
  readonly schemaPath: string;
  /** Path of prisma/migrations. */
  readonly migrationsDir: string;
  /** Any migration-aware driver adapter; the diff itself does not touch the database. */
  readonly adapterFactory: SqlMigrationAwareDriverAdapterFactory;
  /** Clock for the folder timestamp (UTC). Defaults to now. */
  readonly now?: Date;
}

/** Result of {@link writeMigration}: the folder written, or null when the schema did not change. */
export interface WriteMigrationResult {
  readonly folder: string | null;
  readonly sql: string;
}

const SNAPSHOT_FILE = "schema.prisma";

function timestampUTC(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** Creates the next migration from the difference between the last snapshot and the current schema. */
export async function writeMigration(options: WriteMigrationOptions): Promise<WriteMigrationResult> {
  if (!/^[a-z0-9_]+$/.test(options.name)) throw new Error(`migration name must be snake_case: ${options.name}`);
  const current = await readFile(options.schemaPath, "utf8");
  const existing = await readMigrationFiles(options.migrationsDir);
  const last = existing.at(-1);
  const previous = last ? await readFile(path.join(options.migrationsDir, last.name, SNAPSHOT_FILE), "utf8") : null;

  const engine = await createSchemaEngine(options.adapterFactory, [["schema.prisma", current]]);
  try {
    const result = await engine.diff({
      from: previous === null ? { tag: "empty" } : { tag: "schemaDatamodel", files: [{ path: "schema.prisma", content: previous }] },
      to: { tag: "schemaDatamodel", files: [{ path: "schema.prisma", content: current }] },
      script: true,
      exitCode: null,
      filters: { externalTables: [], externalEnums: [] },
    } as Parameters<typeof engine.diff>[0]);
    const sql = result.stdout ?? "";
    if (/^\s*(-- This is an empty migration\.)?\s*$/.test(sql)) return { folder: null, sql: "" };
    const folder = path.join(options.migrationsDir, `${timestampUTC(options.now ?? new Date())}_${options.name}`);
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, "migration.sql"), sql);
    await writeFile(path.join(folder, SNAPSHOT_FILE), current);
    await writeFile(path.join(options.migrationsDir, "migration_lock.toml"), '# Written by the migration tool; keep in version control.\nprovider = "postgresql"\n');
    return { folder, sql };
  } finally {
    engine.free();
  }
}
