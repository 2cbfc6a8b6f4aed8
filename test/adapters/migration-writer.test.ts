// `npm run db:migration` (adapters/db/migration-writer.ts) on a copy of prisma/migrations: a schema
// change writes the expected DDL, no change writes nothing, and the written migration applies.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { writeMigration } from "../../adapters/db/migration-writer.ts";
import { applyMigrations } from "../../adapters/db/migration-runner.ts";
import { DEFAULT_MIGRATIONS_DIR, readMigrationFiles } from "../../adapters/db/migration-files.ts";
import { pgScriptRunner } from "../../adapters/db/pg-script-runner.ts";
import { createTempDatabase, type TempDatabase } from "./support/temp-database.ts";
import { fileHashes } from "./support/file-hashes.ts";

/** Adds a nullable column to Study and a new Tag model to a schema's text. */
function changedSchema(schema: string): string {
  const withNote = schema.replace(/model Study \{\n/, "model Study {\n  note String?\n");
  assert.notEqual(withNote, schema, "the Study model was found");
  return `${withNote}\nmodel Tag {\n  id   String @id @default(uuid()) @db.Uuid\n  name String @unique\n}\n`;
}

describe("migration writer (wasm schema engine)", () => {
  let db: TempDatabase;
  let work: string;
  let migrationsDir: string;
  let schemaPath: string;
  let lastSnapshot: string;
  let realMigrations: Record<string, string>;
  const adapterFactory = () => new PrismaPg({ connectionString: db.url });

  before(async () => {
    realMigrations = await fileHashes(DEFAULT_MIGRATIONS_DIR);
    db = await createTempDatabase();
    work = await mkdtemp(path.join(tmpdir(), "coinseg-migrations-"));
    migrationsDir = path.join(work, "migrations");
    schemaPath = path.join(work, "schema.prisma");
    await cp(DEFAULT_MIGRATIONS_DIR, migrationsDir, { recursive: true });
    // The schema of the last migration is by definition "no change" (prisma/schema.prisma itself
    // may be mid-edit in a working tree).
    const last = (await readMigrationFiles(migrationsDir)).at(-1)!;
    lastSnapshot = await readFile(path.join(migrationsDir, last.name, "schema.prisma"), "utf8");
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
    await db.drop();
    assert.deepEqual(await fileHashes(DEFAULT_MIGRATIONS_DIR), realMigrations, "prisma/migrations is untouched");
  });

  it("should write no migration when the schema equals the last migration's snapshot", async () => {
    await writeFile(schemaPath, lastSnapshot);
    const before = await fileHashes(migrationsDir);
    const result = await writeMigration({ name: "nothing", schemaPath, migrationsDir, adapterFactory: adapterFactory() });
    assert.deepEqual(result, { folder: null, sql: "" });
    assert.deepEqual(await fileHashes(migrationsDir), before);
  });

  it("should write migration.sql with the new column and table, and the schema snapshot, when the schema changed", async () => {
    const schema = changedSchema(lastSnapshot);
    await writeFile(schemaPath, schema);
    const result = await writeMigration({ name: "add_study_note_and_tags", schemaPath, migrationsDir, adapterFactory: adapterFactory(), now: new Date("2030-01-02T03:04:05Z") });
    assert.equal(result.folder, path.join(migrationsDir, "20300102030405_add_study_note_and_tags"));
    const sql = await readFile(path.join(result.folder!, "migration.sql"), "utf8");
    assert.equal(sql, result.sql);
    assert.match(sql, /ALTER TABLE "Study" ADD COLUMN\s+"note" TEXT;/);
    assert.match(sql, /CREATE TABLE "Tag" \(\s*"id" UUID NOT NULL,\s*"name" TEXT NOT NULL,\s*CONSTRAINT "Tag_pkey" PRIMARY KEY \("id"\)\s*\);/);
    assert.match(sql, /CREATE UNIQUE INDEX "Tag_name_key" ON "Tag"\("name"\);/);
    assert.doesNotMatch(sql, /DROP|"Slice"|"SegmentationJob"/, "only the change is in the script");
    assert.equal(await readFile(path.join(result.folder!, "schema.prisma"), "utf8"), schema);
    assert.match(await readFile(path.join(migrationsDir, "migration_lock.toml"), "utf8"), /provider = "postgresql"/);
    assert.deepEqual((await readMigrationFiles(migrationsDir)).at(-1)?.name, "20300102030405_add_study_note_and_tags");

    const again = await writeMigration({ name: "again", schemaPath, migrationsDir, adapterFactory: adapterFactory() });
    assert.equal(again.folder, null, "the new snapshot makes the same schema a no-op");
  });

  it("should create the new column and table when the written migrations are applied to a fresh database", async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const result = await applyMigrations(pgScriptRunner(client), migrationsDir);
      assert.equal(result.applied.at(-1), "20300102030405_add_study_note_and_tags");
      const { rows } = await client.query<{ table_name: string; column_name: string }>(
        `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND ((table_name = 'Study' AND column_name = 'note') OR table_name = 'Tag') ORDER BY table_name, column_name`,
      );
      assert.deepEqual(rows, [{ table_name: "Study", column_name: "note" }, { table_name: "Tag", column_name: "id" }, { table_name: "Tag", column_name: "name" }]);
    } finally {
      await client.end();
    }
  });

  it("should refuse a migration name that is not snake_case", async () => {
    await assert.rejects(writeMigration({ name: "Add-Tags", schemaPath, migrationsDir, adapterFactory: adapterFactory() }), /snake_case/);
  });
});
