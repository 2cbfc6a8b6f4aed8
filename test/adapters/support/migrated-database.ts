// A fresh PostgreSQL database with every migration applied, and a Prisma Client on it.
import pg from "pg";
import { applyMigrations } from "../../../adapters/db/migration-runner.ts";
import { pgScriptRunner } from "../../../adapters/db/pg-script-runner.ts";
import { createPgPrismaClient, type Db } from "../../../adapters/prisma/prisma-client.ts";
import { createTempDatabase, type TempDatabase } from "./temp-database.ts";

/** A migrated temp database with its Prisma Client; `close()` disconnects and drops it. */
export interface MigratedDatabase extends TempDatabase {
  readonly prisma: Db;
  /** Empties every table (keeps the schema and migration history). */
  truncate(): Promise<void>;
  close(): Promise<void>;
}

/** Creates, migrates and connects a temp database. */
export async function createMigratedDatabase(): Promise<MigratedDatabase> {
  const temp = await createTempDatabase();
  const client = new pg.Client({ connectionString: temp.url });
  await client.connect();
  await applyMigrations(pgScriptRunner(client));
  const prisma = createPgPrismaClient(temp.url, 5);
  return {
    ...temp,
    prisma,
    async truncate() {
      const { rows } = await client.query<{ tablename: string }>(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'",
      );
      await client.query(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(", ")} CASCADE`);
    },
    async close() {
      await prisma.$disconnect();
      await client.end();
      await temp.drop();
    },
  };
}
