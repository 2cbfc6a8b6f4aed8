// Lambda cold start: fetches secrets into the environment the app's config schema reads, once.
import { databaseUrlFromSecret } from "./database-url.ts";
import { readSecretString, type SecretsManagerReaderOptions } from "./secrets-manager-reader.ts";

/**
 * Plain-string secrets a function may name by ARN, and the config variable each value becomes:
 * JWT_SECRET_ARN → JWT_SECRET (HS256 key of bearer JWTs), DICOM_UID_SECRET_ARN → DICOM_UID_SECRET
 * (key of the per-organisation DICOM UID mapping; the API Lambda only).
 */
export const STRING_SECRET_ARN_VARIABLES = { JWT_SECRET_ARN: "JWT_SECRET", DICOM_UID_SECRET_ARN: "DICOM_UID_SECRET" } as const;

/**
 * Sets `DATABASE_URL` (from the RDS secret named by DATABASE_SECRET_ARN, host = DATABASE_PROXY_HOST)
 * and each variable of {@link STRING_SECRET_ARN_VARIABLES} whose ARN variable is set, unless it is
 * already set. Secrets stay out of the function's configuration, where anyone with
 * lambda:GetFunctionConfiguration could read them.
 * @param env the process environment (mutated)
 * @throws Error when a named secret cannot be read
 */
export async function loadSecretsIntoEnv(env: Record<string, string | undefined>, read: (secretId: string) => Promise<string> = defaultReader(env)): Promise<void> {
  if (!env["DATABASE_URL"] && env["DATABASE_SECRET_ARN"]) {
    env["DATABASE_URL"] = databaseUrlFromSecret(await read(env["DATABASE_SECRET_ARN"]), env["DATABASE_PROXY_HOST"]);
  }
  for (const [arnVariable, variable] of Object.entries(STRING_SECRET_ARN_VARIABLES)) {
    const arn = env[arnVariable];
    if (!env[variable] && arn) env[variable] = await read(arn);
  }
}

function defaultReader(env: Record<string, string | undefined>): (secretId: string) => Promise<string> {
  const options: SecretsManagerReaderOptions = {
    region: env["AWS_REGION"] ?? "us-east-1",
    endpoint: env["SECRETS_MANAGER_ENDPOINT"],
    credentials: { accessKeyId: env["AWS_ACCESS_KEY_ID"] ?? "", secretAccessKey: env["AWS_SECRET_ACCESS_KEY"] ?? "", sessionToken: env["AWS_SESSION_TOKEN"] },
  };
  return (id) => readSecretString(options, id);
}
