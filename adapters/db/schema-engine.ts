// Loads Prisma's WebAssembly schema engine by hand (Node 20 cannot `import` a .wasm file).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import * as bindings from "@prisma/schema-engine-wasm/schema_engine_bg";
import type { SchemaEngine } from "@prisma/schema-engine-wasm";

let instantiated: Promise<void> | undefined;

async function instantiateOnce(): Promise<void> {
  const require = createRequire(import.meta.url);
  const pkgDir = path.dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
  const bytes = await readFile(path.join(pkgDir, "schema_engine_bg.wasm"));
  const { instance } = await WebAssembly.instantiate(bytes, {
    "./schema_engine_bg.js": bindings as unknown as WebAssembly.ModuleImports,
  });
  const exports = instance.exports as WebAssembly.Exports & { __wbindgen_start?: () => void };
  (bindings as unknown as { __wbg_set_wasm(w: unknown): void }).__wbg_set_wasm(exports);
  exports.__wbindgen_start?.();
}

/**
 * Creates a Prisma schema engine (WebAssembly build) bound to a migration-aware driver adapter
 * (e.g. `new PrismaPg(...)` or `new PrismaPGlite(...)`). The wasm module is instantiated once per
 * process. Log lines from the engine are passed to `onLog`.
 */
export async function createSchemaEngine(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  datamodels: [fileName: string, content: string][],
  onLog: (line: string) => void = () => {},
): Promise<SchemaEngine> {
  instantiated ??= instantiateOnce();
  await instantiated;
  const engineClass = (bindings as unknown as { SchemaEngine: typeof SchemaEngine }).SchemaEngine;
  return engineClass.new({ datamodels }, onLog, bindMigrationAwareSqlAdapterFactory(adapterFactory));
}
