// Loads the SDL files of schema/ (the single source of the GraphQL schema).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The folder holding schema/*.graphql. */
export const SCHEMA_DIR = fileURLToPath(new URL("../../schema", import.meta.url));

/** Every .graphql file of schema/, in name order. */
export function loadTypeDefs(dir: string = SCHEMA_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".graphql"))
    .sort()
    .map((f) => readFileSync(path.join(dir, f), "utf8"));
}
