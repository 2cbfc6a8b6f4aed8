// Lambda handler module `lambda.handler` (HTTP API): registers tsx, resolves secrets into the
// environment once per cold start, then exports app/lambda.ts's handler.
import { register } from "tsx/esm/api";

register();
const { loadSecretsIntoEnv } = await import("./infra/lib/runtime/lambda-secrets-bootstrap.ts");
await loadSecretsIntoEnv(process.env);
export const { handler } = await import("./app/lambda.ts");
