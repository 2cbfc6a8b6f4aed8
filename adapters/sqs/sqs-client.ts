// Builds an SQS client that never looks for cloud credentials when static ones are given.
import { SQSClient } from "@aws-sdk/client-sqs";

/** Connection settings of an SQS client. */
export interface SqsClientSettings {
  readonly region: string;
  /** SQS-compatible endpoint (e.g. moto at http://127.0.0.1:4566); unset = AWS. */
  readonly endpoint?: string | undefined;
  /** Static credentials; required for local endpoints (unset = the SDK's default chain, in AWS). */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/** A new {@link SQSClient} (one per process; it keeps a connection pool). */
export function createSqsClient(settings: SqsClientSettings): SQSClient {
  return new SQSClient({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    maxAttempts: 3,
  });
}
