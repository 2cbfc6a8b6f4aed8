// AWS Lambda entry point of the WebSocket API ($connect, $disconnect, $default): job subscriptions.
import { createWebSocketHandler } from "./lambda/create-websocket-handler.ts";

/** The Lambda handler; configuration is read once, at cold start. */
export const handler = createWebSocketHandler(process.env);
