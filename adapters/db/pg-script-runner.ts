// SqlScriptRunner over one node-postgres client.
import type pg from "pg";
import type { SqlScriptRunner } from "./sql-script-runner.port.ts";

/** Wraps a connected node-postgres `Client` (or pool client) as a {@link SqlScriptRunner}. */
export function pgScriptRunner(client: pg.ClientBase): SqlScriptRunner {
  return {
    async query<Row extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query<Row>(sql, [...params]);
      return result.rows;
    },
    async execScript(sql: string) {
      // The simple query protocol (no parameters) accepts several statements at once.
      await client.query(sql);
    },
  };
}
