// Lambda cold start: fetches secrets into the environment the app's config schema reads, once.
import { databaseUrlFromSecret } from "./database-url.ts";
import { readSecretString, type SecretsManagerReaderOptions } from "./secrets-manager-reader.ts";

/**
 * Sets `DATABASE_URL` (from the RDS secret named by DATABASE_SECRET_ARN, host = DATABASE_PROXY_HOST)
 * and `JWT_SECRET` (from JWT_SECRET_ARN) in `env`, unless they are already set. Secrets stay out of
 * the function's configuration, where anyone with lambda:GetFunctionConfiguration could read them.
 * @param env the process environment (mutated)
 * @throws Error when a named secret cannot be read
 */
export async function loadSecretsIntoEnv(env: Record<string, string | undefined>, read: (secretId: string) => Promise<string> = defaultReader(env)): Promise<void> {
  if (!env["DATABASE_URL"] && env["DATABASE_SECRET_ARN"]) {
    env["DATABASE_URL"] = databaseUrlFromSecret(await read(env["DATABASE_SECRET_ARN"]), env["DATABASE_PROXY_HOST"]);
  }
  if (!env["JWT_SECRET"] && env["JWT_SECRET_ARN"]) env["JWT_SECRET"] = await read(env["JWT_SECRET_ARN"]);
}

function defaultReader(env: Record<string, string | undefined>): (secretId: string) => Promise<string> {
  const options: SecretsManagerReaderOptions = {
    region: env["AWS_REGION"] ?? "us-east-1",
    endpoint: env["SECRETS_MANAGER_ENDPOINT"],
    credentials: { accessKeyId: env["AWS_ACCESS_KEY_ID"] ?? "", secretAccessKey: env["AWS_SECRET_ACCESS_KEY"] ?? "", sessionToken: env["AWS_SESSION_TOKEN"] },
  };
  return (id) => readSecretString(options, id);
}
