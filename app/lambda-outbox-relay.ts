// AWS Lambda entry point of the scheduled outbox relay (EventBridge rule, every minute).
import { createOutboxRelayHandler } from "./lambda/create-outbox-relay-handler.ts";

/** The Lambda handler; configuration is read once, at cold start. */
export const handler = createOutboxRelayHandler(process.env);
