// pino JSON logger with PHI-prone fields redacted.
import { pino, type Logger } from "pino";

/** Creates the process logger. Authorization headers and API keys are never written. */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: "coinseg", ...base },
    redact: { paths: ["req.headers.authorization", 'req.headers["x-api-key"]', "apiKey", "token"], censor: "[redacted]" },
  });
}
