// What the migration runner needs from a database connection (pg Client or PGlite).

/**
 * A single database session able to run parameterised queries and multi-statement scripts.
 * Implementations: {@link pgScriptRunner} (node-postgres) and {@link pgliteScriptRunner} (PGlite).
 */
export interface SqlScriptRunner {
  /** Runs one parameterised statement ($1, $2 …) and returns its rows. */
  query<Row extends Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a script of several statements separated by semicolons, without parameters. */
  execScript(sql: string): Promise<void>;
}
