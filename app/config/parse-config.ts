// Parses the subset of environment variables a process needs, failing fast with every problem listed.
import { z } from "zod";
import { envSchema, type Env, type EnvName } from "./env-schema.ts";

/** Thrown when the environment is invalid; the message lists every problem, one per line. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Parses `names` out of `env` (normally `process.env`, passed in by the composition root).
 * Empty strings count as unset.
 * @throws ConfigError listing every invalid or missing variable.
 */
export function parseConfig<const K extends EnvName>(env: Record<string, string | undefined>, names: readonly K[]): Pick<Env, K> {
  const picked = envSchema.pick(Object.fromEntries(names.map((n) => [n, true])) as { [P in K]: true });
  const input = Object.fromEntries(names.map((n) => [n, env[n] === "" ? undefined : env[n]]));
  const result = picked.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid environment:\n${lines.join("\n")}`);
  }
  return result.data as unknown as Pick<Env, K>;
}

/** Same as {@link parseConfig} but makes every picked variable optional (for "use if set"). */
export function parseOptionalConfig<const K extends EnvName>(env: Record<string, string | undefined>, names: readonly K[]): Partial<Pick<Env, K>> {
  const picked = envSchema.pick(Object.fromEntries(names.map((n) => [n, true])) as { [P in K]: true }).partial();
  const input = Object.fromEntries(names.map((n) => [n, env[n] === "" ? undefined : env[n]]));
  const result = picked.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid environment:\n${lines.join("\n")}`);
  }
  return result.data as Partial<Pick<Env, K>>;
}

