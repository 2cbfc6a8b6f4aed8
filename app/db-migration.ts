// `npm run db:migration -- <name>`: writes the next migration from the change in prisma/schema.prisma.
import { fileURLToPath } from "node:url";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PGlite } from "@electric-sql/pglite";
import { writeMigration } from "../adapters/db/migration-writer.ts";
import { DEFAULT_MIGRATIONS_DIR } from "../adapters/db/migration-files.ts";
import { parseOptionalConfig } from "./config/parse-config.ts";

const name = process.argv[2];
if (!name) {
  console.error("usage: npm run db:migration -- <snake_case_name>");
  process.exit(2);
}
const config = parseOptionalConfig(process.env, ["DATABASE_URL"]);
// The diff compares two schemas and never touches the database; any adapter will do.
const adapterFactory = config.DATABASE_URL
  ? new PrismaPg({ connectionString: config.DATABASE_URL })
  : new PrismaPGlite(new PGlite());
const result = await writeMigration({
  name,
  schemaPath: fileURLToPath(new URL("../prisma/schema.prisma", import.meta.url)),
  migrationsDir: DEFAULT_MIGRATIONS_DIR,
  adapterFactory,
});
console.log(result.folder ? `wrote ${result.folder}/migration.sql` : "schema unchanged: no migration written");
