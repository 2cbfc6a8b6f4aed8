// SqlScriptRunner over an embedded PGlite database.
import type { PGlite } from "@electric-sql/pglite";
import type { SqlScriptRunner } from "./sql-script-runner.port.ts";

/** Wraps a PGlite instance as a {@link SqlScriptRunner}. */
export function pgliteScriptRunner(db: PGlite): SqlScriptRunner {
  return {
    async query<Row extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []) {
      const result = await db.query<Row>(sql, [...params]);
      return result.rows;
    },
    async execScript(sql: string) {
      await db.exec(sql);
    },
  };
}
