// Services-mode worker as a function: SQS consumer + ONNX pipeline + Postgres sink + NOTIFY bus + outbox relay + /metrics.
import type { Logger } from "pino";
import { ApiGatewayResultBus } from "../../adapters/apigw/apigw-result-bus.ts";
import { FanOutResultBus } from "../../adapters/apigw/fan-out-result-bus.ts";
import { PrismaWebSocketConnectionRegistry } from "../../adapters/apigw/prisma-websocket-connection-registry.ts";
import { PgNotifyResultBus } from "../../adapters/events/pg-notify-result-bus.ts";
import { ModelDirectoryRegistry } from "../../adapters/onnx/model-directory-registry.ts";
import { OnnxInferenceEngine, type ExecutionProviderName } from "../../adapters/onnx/onnx-inference-engine.ts";
import { createPgPrismaClient } from "../../adapters/prisma/prisma-client.ts";
import { PrismaJobRepository } from "../../adapters/prisma/prisma-job-repository.ts";
import { PrismaOutbox } from "../../adapters/prisma/prisma-outbox.ts";
import { PrismaStudyRepository } from "../../adapters/prisma/prisma-study-repository.ts";
import { createSqsClient, type SqsClientSettings } from "../../adapters/sqs/sqs-client.ts";
import { SqsTaskConsumer } from "../../adapters/sqs/sqs-task-consumer.ts";
import { SqsTaskQueue } from "../../adapters/sqs/sqs-task-queue.ts";
import type { ObjectStore } from "../../core/ports/object-store.port.ts";
import { OutboxRelay } from "../../core/services/outbox-relay.ts";
import { PipelineTaskHandler } from "../../workers/pipeline/pipeline-task-handler.ts";
import { SegmentationPipeline } from "../../workers/pipeline/segmentation-pipeline.ts";
import { startMetricsServer, type MetricsServer } from "../../workers/runtime/metrics-server.ts";
import { WorkerRuntime, type WorkerRuntimeOptions } from "../../workers/runtime/worker-runtime.ts";

/** Settings of a services-mode worker (parsed from the environment by app/worker.ts). */
export interface WorkerSettings {
  readonly databaseUrl: string;
  readonly sqs: SqsClientSettings & { queueUrl: string; visibilityTimeoutSeconds: number; waitTimeSeconds: number; maxReceiveCount: number };
  readonly concurrency: number;
  readonly batchSize: number;
  readonly modelsDir: string;
  /**
   * ONNX Runtime execution providers, first preferred (ORT_EXECUTION_PROVIDERS; default ["cpu"]).
   * A provider that does not load (no CUDA library or device) is logged and the next one is tried.
   */
  readonly executionProviders?: readonly ExecutionProviderName[];
  /**
   * ONNX Runtime intra-op threads per model session (ORT_INTRA_OP_THREADS; default 0 = ONNX Runtime's
   * choice, one per core). Several worker processes on one host should split the cores between them.
   */
  readonly intraOpNumThreads?: number;
  /** ONNX Runtime intra-op threads spin-wait after a run (ORT_ALLOW_SPINNING; default false, see OnnxEngineOptions). */
  readonly allowSpinning?: boolean;
  /** Relay the outbox to SQS from this process, polling every `outboxPollMs`. */
  readonly relayOutbox: boolean;
  readonly outboxPollMs: number;
  /** Null = no /metrics endpoint. */
  readonly metrics: { host: string; port: number } | null;
  readonly store: ObjectStore;
  /** API Gateway WebSocket management endpoint: events also go to registered WebSocket connections (serverless path). */
  readonly apiGatewayEndpoint?: string | undefined;
  /** In-process retry delays of a transient failure (ms); default in WorkerRuntime. */
  readonly retryDelaysMs?: readonly number[];
  /** Observes each finished message (tests, benchmarks). */
  readonly onMessageDone?: WorkerRuntimeOptions["onMessageDone"];
}

/** A running worker. `stop()` is the graceful shutdown (SIGTERM). */
export interface RunningWorker {
  readonly runtime: WorkerRuntime;
  /** The inference engine (its sessions say which provider each model runs on). */
  readonly engine: OnnxInferenceEngine;
  readonly relay: OutboxRelay | null;
  readonly metricsServer: MetricsServer | null;
  stop(): Promise<void>;
}

/** Wires and starts a worker. */
export async function startWorker(s: WorkerSettings, logger: Logger): Promise<RunningWorker> {
  const prisma = createPgPrismaClient(s.databaseUrl, Math.max(2, s.concurrency + 1));
  const jobs = new PrismaJobRepository(prisma);
  const studies = new PrismaStudyRepository(prisma);
  // Publish-only: the worker never listens, so loadResult is never called here.
  const notify = new PgNotifyResultBus(s.databaseUrl, async () => null, (err) => logger.error({ err }, "job event failed"));
  const apiGateway = s.apiGatewayEndpoint
    ? new ApiGatewayResultBus({
        endpoint: s.apiGatewayEndpoint, region: s.sqs.region, credentials: s.sqs.credentials, registry: new PrismaWebSocketConnectionRegistry(prisma),
        onError: (err, connectionId) => logger.warn({ err, connectionId }, "postToConnection failed"),
      })
    : null;
  const bus = apiGateway ? new FanOutResultBus([notify, apiGateway]) : notify;
  const sqs = createSqsClient(s.sqs);
  const engine = new OnnxInferenceEngine({ registry: new ModelDirectoryRegistry(s.modelsDir), executionProviders: s.executionProviders ?? ["cpu"], intraOpNumThreads: s.intraOpNumThreads ?? 0, allowSpinning: s.allowSpinning ?? false, logger });
  const pipeline = new SegmentationPipeline({ engine });
  const runtime = new WorkerRuntime({
    source: new SqsTaskConsumer(sqs, s.sqs),
    sink: jobs,
    store: s.store,
    bus,
    logger,
    concurrency: s.concurrency,
    createHandler: (deps) => new PipelineTaskHandler({ pipeline, engine, sink: deps.sink, bus: deps.bus, store: deps.store, slices: studies, batchSize: s.batchSize }),
    ...(s.onMessageDone ? { onMessageDone: s.onMessageDone } : {}),
    ...(s.retryDelaysMs ? { retryDelaysMs: s.retryDelaysMs } : {}),
  });
  const metricsServer = s.metrics ? await startMetricsServer(runtime.metrics, s.metrics.host, s.metrics.port) : null;
  const relay = s.relayOutbox ? new OutboxRelay(new PrismaOutbox(prisma), new SqsTaskQueue(sqs, s.sqs.queueUrl), (err) => logger.error({ err }, "outbox relay failed")) : null;
  const relayTimer = relay ? setInterval(() => void relay.kick(), s.outboxPollMs) : null;
  if (relay) void relay.kick();
  runtime.start();
  if (metricsServer) logger.info({ url: `${metricsServer.url}/metrics` }, "metrics endpoint");
  return {
    runtime,
    engine,
    relay,
    metricsServer,
    async stop() {
      if (relayTimer) clearInterval(relayTimer);
      await runtime.stop();
      await relay?.kick();
      await metricsServer?.close();
      sqs.destroy();
      apiGateway?.close();
      await notify.close();
      await prisma.$disconnect();
    },
  };
}
