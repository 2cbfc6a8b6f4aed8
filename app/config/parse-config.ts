// Parses the subset of environment variables a process needs, failing fast with every problem listed.
import type { z } from "zod";
import { envSchema, type Env, type EnvName } from "./env-schema.ts";

/** Thrown when the environment is invalid; the message lists every problem, one per line. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

function pickInput(env: Record<string, string | undefined>, names: readonly string[]): Record<string, string | undefined> {
  // Empty strings count as unset, so `FOO= cmd` falls back to the default.
  return Object.fromEntries(names.map((n) => [n, env[n] === "" ? undefined : env[n]]));
}

function unwrap<T>(result: z.ZodSafeParseResult<T>): T {
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
  throw new ConfigError(`invalid environment:\n${lines.join("\n")}`);
}

/**
 * Parses `names` out of `env` (normally `process.env`, passed in by the composition root).
 * @throws ConfigError listing every invalid or missing variable.
 */
export function parseConfig<const K extends EnvName>(env: Record<string, string | undefined>, names: readonly K[]): Pick<Env, K> {
  const mask = Object.fromEntries(names.map((n) => [n, true])) as never;
  return unwrap(envSchema.pick(mask).safeParse(pickInput(env, names))) as unknown as Pick<Env, K>;
}

/** Same as {@link parseConfig} but every picked variable is optional (defaults still apply). */
export function parseOptionalConfig<const K extends EnvName>(env: Record<string, string | undefined>, names: readonly K[]): Partial<Pick<Env, K>> {
  const mask = Object.fromEntries(names.map((n) => [n, true])) as never;
  return unwrap(envSchema.pick(mask).partial().safeParse(pickInput(env, names))) as unknown as Partial<Pick<Env, K>>;
}
