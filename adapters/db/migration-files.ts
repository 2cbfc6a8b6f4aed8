// Reads prisma/migrations/<timestamp>_<name>/migration.sql in Prisma's layout.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's migrations folder (prisma/migrations). */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

/** One migration as Prisma sees it. */
export interface MigrationFile {
  /** Folder name, e.g. `20261126013000_init`; migrations apply in lexical order of this name. */
  readonly name: string;
  /** Contents of migration.sql. */
  readonly sql: string;
  /** Hex sha256 of migration.sql's bytes: the checksum Prisma stores in `_prisma_migrations`. */
  readonly checksum: string;
}

/** Lists the migrations in `migrationsDir`, oldest first. A missing folder means no migrations. */
export async function readMigrationFiles(migrationsDir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await readdir(migrationsDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const out: MigrationFile[] = [];
  for (const name of names) {
    const bytes = await readFile(path.join(migrationsDir, name, "migration.sql"));
    out.push({ name, sql: bytes.toString("utf8"), checksum: createHash("sha256").update(bytes).digest("hex") });
  }
  return out;
}
