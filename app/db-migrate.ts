// `npm run db:migrate`: applies prisma/migrations to DATABASE_URL.
import pg from "pg";
import { applyMigrations } from "../adapters/db/migration-runner.ts";
import { pgScriptRunner } from "../adapters/db/pg-script-runner.ts";
import { parseConfig } from "./config/parse-config.ts";

const config = parseConfig(process.env, ["DATABASE_URL"]);
const client = new pg.Client({ connectionString: config.DATABASE_URL });
await client.connect();
try {
  const result = await applyMigrations(pgScriptRunner(client));
  for (const name of result.applied) console.log(`applied ${name}`);
  console.log(`${result.applied.length} migration(s) applied, ${result.alreadyApplied.length} already applied`);
} finally {
  await client.end();
}
