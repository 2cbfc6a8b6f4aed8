// Lambda handler module `lambda-outbox-relay.handler` (EventBridge, every minute): same bootstrap as
// lambda.mjs (only the database secret is named), then app/lambda-outbox-relay.ts's handler.
import { register } from "tsx/esm/api";

register();
const { loadSecretsIntoEnv } = await import("./infra/lib/runtime/lambda-secrets-bootstrap.ts");
await loadSecretsIntoEnv(process.env);
export const { handler } = await import("./app/lambda-outbox-relay.ts");
