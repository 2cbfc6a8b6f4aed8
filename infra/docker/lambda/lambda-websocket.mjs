// Lambda handler module `lambda-websocket.handler` (WebSocket API $connect/$disconnect/$default):
// same bootstrap as lambda.mjs, then app/lambda-websocket.ts's handler (PROTOCOL.md §7).
import { register } from "tsx/esm/api";

register();
const { loadSecretsIntoEnv } = await import("./infra/lib/runtime/lambda-secrets-bootstrap.ts");
await loadSecretsIntoEnv(process.env);
export const { handler } = await import("./app/lambda-websocket.ts");
