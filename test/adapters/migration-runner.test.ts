import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import path from "node:path";
import pg from "pg";
import { PGlite } from "@electric-sql/pglite";
import { applyMigrations } from "../../adapters/db/migration-runner.ts";
import { pgScriptRunner } from "../../adapters/db/pg-script-runner.ts";
import { pgliteScriptRunner } from "../../adapters/db/pglite-script-runner.ts";
import { DEFAULT_MIGRATIONS_DIR, readMigrationFiles } from "../../adapters/db/migration-files.ts";
import { createTempDatabase, type TempDatabase } from "./support/temp-database.ts";

const EXPECTED_TABLES = [
  "ApiKey", "AuditEvent", "GroundTruthMask", "Label", "Membership", "Model", "Organization", "OutboxMessage",
  "SegmentationJob", "Series", "Slice", "SliceResult", "Study", "User", "WebSocketConnection", "_prisma_migrations",
];

describe("migration runner on PostgreSQL", () => {
  let db: TempDatabase;
  let client: pg.Client;
  before(async () => {
    db = await createTempDatabase();
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  });
  after(async () => {
    await client.end();
    await db.drop();
  });

  it("should create every table when the database is fresh", async () => {
    const result = await applyMigrations(pgScriptRunner(client));
    const files = await readMigrationFiles();
    assert.deepEqual(result.applied, files.map((f) => f.name));
    const { rows } = await client.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    assert.deepEqual(rows.map((r) => r.table_name).sort(), [...EXPECTED_TABLES].sort());
  });

  it("should record Prisma-compatible history rows when migrations are applied", async () => {
    const files = await readMigrationFiles();
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
      `SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    assert.equal(rows.length, files.length);
    for (const [i, row] of rows.entries()) {
      const bytes = await readFile(path.join(DEFAULT_MIGRATIONS_DIR, row.migration_name, "migration.sql"));
      assert.equal(row.checksum, createHash("sha256").update(bytes).digest("hex"));
      assert.equal(row.migration_name, files[i]!.name);
      assert.ok(row.finished_at instanceof Date);
      assert.equal(row.applied_steps_count, 1);
    }
  });

  it("should apply nothing when run a second time", async () => {
    const result = await applyMigrations(pgScriptRunner(client));
    assert.deepEqual(result.applied, []);
    assert.equal(result.alreadyApplied.length, (await readMigrationFiles()).length);
  });
});

describe("migration runner on PGlite", () => {
  it("should create every table and then apply nothing when run twice", async () => {
    const pglite = new PGlite();
    try {
      const first = await applyMigrations(pgliteScriptRunner(pglite));
      assert.ok(first.applied.length >= 1);
      const second = await applyMigrations(pgliteScriptRunner(pglite));
      assert.deepEqual(second.applied, []);
      const { rows } = await pglite.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'",
      );
      assert.equal(rows[0]!.n, EXPECTED_TABLES.length);
    } finally {
      await pglite.close();
    }
  });
});

describe("migrations folder", () => {
  it("should hold a snapshot equal to prisma/schema.prisma when the schema has no unmigrated change", async () => {
    const files = await readMigrationFiles();
    const last = files.at(-1);
    assert.ok(last, "no migrations");
    const snapshot = await readFile(path.join(DEFAULT_MIGRATIONS_DIR, last.name, "schema.prisma"), "utf8");
    const current = await readFile(new URL("../../prisma/schema.prisma", import.meta.url), "utf8");
    assert.equal(snapshot, current, "prisma/schema.prisma changed: run `npm run db:migration -- <name>`");
  });
});
