// The event the WebSocket Lambda's schedule sends it: sweep the connection registry (not an API Gateway event).

/**
 * Input of the EventBridge rule that runs the registry sweep (infra/lib/constructs/websocket-api.ts,
 * REGISTRY_CLEANUP_INPUT, kept equal by test/infra).
 */
export const REGISTRY_CLEANUP_EVENT = { coinseg: "remove-expired-websocket-connections" } as const;

/** The shape of {@link REGISTRY_CLEANUP_EVENT}. */
export type RegistryCleanupEvent = typeof REGISTRY_CLEANUP_EVENT;

/** True for {@link REGISTRY_CLEANUP_EVENT}; API Gateway's events carry a `requestContext` and no `coinseg` field. */
export function isRegistryCleanupEvent(event: unknown): event is RegistryCleanupEvent {
  return typeof event === "object" && event !== null && (event as { coinseg?: unknown }).coinseg === REGISTRY_CLEANUP_EVENT.coinseg;
}
