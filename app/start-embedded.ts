// Embedded mode as a function: PGlite, migrations, in-process queue and bus, local store, HTTP + WS.
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { Logger } from "pino";
import { applyMigrations } from "../adapters/db/migration-runner.ts";
import { pgliteScriptRunner } from "../adapters/db/pglite-script-runner.ts";
import { InMemoryResultBus } from "../adapters/events/in-memory-result-bus.ts";
import { JoseTokenVerifier } from "../adapters/auth/jose-token-verifier.ts";
import { createPglitePrismaClient, type Db } from "../adapters/prisma/prisma-client.ts";
import { InMemoryTaskQueue } from "../adapters/queue/in-memory-task-queue.ts";
import { LeaveQueuedTaskHandler } from "../adapters/queue/queued-task-handler.ts";
import { LocalObjectStore } from "../adapters/storage/local-object-store.ts";
import type { ResultBus } from "../core/ports/result-bus.port.ts";
import type { SegmentationTaskHandler } from "../core/ports/segmentation-task-handler.port.ts";
import type { SliceResultSink } from "../core/ports/slice-result-sink.port.ts";
import type { ObjectStore } from "../core/ports/object-store.port.ts";
import type { StudyRepository } from "../core/ports/study-repository.port.ts";
import { buildGraphQLSchema } from "./api/graphql-schema.ts";
import { startHttpServer, type RunningHttpServer } from "./api/http-server.ts";
import { wireServices, type WiredServices } from "./api/wire-services.ts";
import { bootstrapEmbedded } from "./embedded-bootstrap.ts";
import { embeddedDicomUidSecret } from "./embedded-dicom-uid-secret.ts";
import { readModelDirectory } from "../adapters/models/read-model-directory.ts";

/** Settings of embedded mode (parsed from the environment by app/embedded.ts). */
export interface EmbeddedSettings {
  /** Folder of model directories (models/<key>/model.json) registered at start. */
  readonly modelsDir: string;
  /** PGlite data folder, or "memory://". */
  readonly pgliteDataDir: string;
  readonly localStoreDir: string;
  readonly host: string;
  readonly port: number;
  readonly publicUrl?: string | undefined;
  readonly jwt: { secret: string; issuer: string; audience: string };
  /** Key of the DICOM UID mapping (DICOM_UID_SECRET); unset: the one kept beside the PGlite data folder (app/embedded-dicom-uid-secret.ts). */
  readonly dicomUidSecret?: string | undefined;
  readonly introspection: boolean;
  readonly maxDepth: number;
  readonly maxCost: number;
  readonly uploadMaxBytes: number;
  readonly uploadUrlTtlSeconds: number;
}

/** What the worker side of embedded mode gets to build its task handler. */
export interface EmbeddedWorkerDeps {
  readonly sink: SliceResultSink;
  readonly slices: Pick<StudyRepository, "findSlices">;
  readonly bus: ResultBus;
  readonly store: ObjectStore;
  readonly prisma: Db;
}

/** A running embedded instance. */
export interface EmbeddedInstance {
  readonly server: RunningHttpServer;
  readonly services: WiredServices;
  readonly tokens: JoseTokenVerifier;
  readonly queue: InMemoryTaskQueue;
  readonly bootstrap: { organizationId: string; userId: string; apiKey: string };
  stop(): Promise<void>;
}

/**
 * Starts embedded mode. `createHandler` builds the in-process inference handler (app/embedded.ts
 * passes the ONNX pipeline of workers/); the default leaves jobs QUEUED, for tests of the API alone.
 */
export async function startEmbedded(
  settings: EmbeddedSettings,
  logger: Logger,
  createHandler: (deps: EmbeddedWorkerDeps) => SegmentationTaskHandler = () => new LeaveQueuedTaskHandler(),
): Promise<EmbeddedInstance> {
  const inMemory = settings.pgliteDataDir === "memory://";
  if (!inMemory) await mkdir(path.resolve(settings.pgliteDataDir), { recursive: true });
  const pglite = await PGlite.create(inMemory ? undefined : path.resolve(settings.pgliteDataDir));
  const migrated = await applyMigrations(pgliteScriptRunner(pglite));
  logger.info({ applied: migrated.applied.length }, "migrations applied");
  const prisma = createPglitePrismaClient(pglite);

  let baseUrl = settings.publicUrl ?? "";
  const store = new LocalObjectStore({ rootDir: path.resolve(settings.localStoreDir), publicBaseUrl: () => baseUrl, signingSecret: randomBytes(32).toString("hex") });
  const bus = new InMemoryResultBus();
  const tokens = new JoseTokenVerifier(settings.jwt);
  let handler: SegmentationTaskHandler | null = null;
  const queue = new InMemoryTaskQueue(
    { handle: (task) => handler!.handle(task) },
    (task, err) => logger.error({ jobId: task.jobId, err }, "task failed 3 times; dropped"),
  );
  const services = wireServices({
    prisma, store, bus, queue, tokens, logger, uploadMaxBytes: settings.uploadMaxBytes, uploadUrlTtlSeconds: settings.uploadUrlTtlSeconds,
    dicomUidSecret: settings.dicomUidSecret ?? (await embeddedDicomUidSecret(settings.pgliteDataDir)),
  });
  handler = createHandler({ sink: services.jobs, slices: services.studyRepository, bus, store, prisma });
  const bootstrap = await bootstrapEmbedded(services);
  const models = await readModelDirectory(settings.modelsDir, (file, problem) => logger.warn({ file, problem }, "invalid model.json skipped"));
  for (const model of models) await services.models.register(model);
  logger.info({ models: models.map((m) => m.key) }, "models registered");
  const server = await startHttpServer({
    schema: buildGraphQLSchema(), services, logger, host: settings.host, port: settings.port, introspection: settings.introspection,
    maxDepth: settings.maxDepth, maxCost: settings.maxCost, localStore: store, uploadMaxBytes: settings.uploadMaxBytes,
  });
  baseUrl ||= server.baseUrl;
  void services.relay?.kick(); // tasks committed before a restart
  return {
    server, services, tokens, queue, bootstrap,
    async stop() {
      await server.close();
      await queue.idle();
      await prisma.$disconnect();
      await pglite.close();
    },
  };
}
