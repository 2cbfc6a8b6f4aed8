// Static AWS credentials from the parsed environment, for the SDK clients the composition roots build.
import type { Env } from "./config/env-schema.ts";

/** Credentials as the AWS SDK takes them. */
export interface StaticAwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Present for temporary credentials (Lambda's execution role): without it AWS rejects the signature. */
  readonly sessionToken?: string;
}

/**
 * The static credentials named by AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN,
 * which the Lambda runtime sets next to them), or undefined so the SDK uses its default chain (ECS
 * task role). Local endpoints (moto) need static ones: the default chain would probe the cloud.
 */
export function staticAwsCredentials(env: Partial<Pick<Env, "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN">>): StaticAwsCredentials | undefined {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

/** The variable names {@link staticAwsCredentials} reads (each entry point parses them as optional). */
export const AWS_CREDENTIAL_VARIABLES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] as const;
