// Shared setup of the dispatch fault tests: a migrated Postgres database, moto's SQS, a local object
// store, an organisation with a study of synthetic 128×128 slices, the tiny fixture models registered,
// and the SegmentationService that writes jobs + outbox rows (the API side of dispatch).
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { pino, type Logger } from "pino";
import { PgNotifyResultBus } from "../../../adapters/events/pg-notify-result-bus.ts";
import { readModelDirectory } from "../../../adapters/models/read-model-directory.ts";
import { PrismaAuditLog } from "../../../adapters/prisma/prisma-audit-log.ts";
import { PrismaIdentityRepository } from "../../../adapters/prisma/prisma-identity-repository.ts";
import { PrismaJobRepository } from "../../../adapters/prisma/prisma-job-repository.ts";
import { PrismaModelRegistry } from "../../../adapters/prisma/prisma-model-registry.ts";
import { PrismaStudyRepository } from "../../../adapters/prisma/prisma-study-repository.ts";
import { createSqsClient } from "../../../adapters/sqs/sqs-client.ts";
import { createTaskQueues, type TaskQueueUrls } from "../../../adapters/sqs/create-task-queues.ts";
import { LocalObjectStore } from "../../../adapters/storage/local-object-store.ts";
import type { Principal } from "../../../core/domain/principal.ts";
import type { SegmentationJob } from "../../../core/domain/segmentation-job.ts";
import { SegmentationService } from "../../../core/services/segmentation.service.ts";
import { startWorker, type RunningWorker, type WorkerSettings } from "../../../app/worker/start-worker.ts";
import { createMigratedDatabase, type MigratedDatabase } from "../../adapters/support/migrated-database.ts";
import { FIXTURE_MODELS_DIR } from "../../workers/support/tiny-models.ts";
import { phantomSlices } from "./phantom-slices.ts";

/** moto's endpoint; the tests fail (never skip) when it is not set. */
export function motoEndpoint(): string {
  const url = process.env.MOTO_ENDPOINT_URL;
  if (!url) throw new Error("MOTO_ENDPOINT_URL is not set: start moto (`python3 -m moto.server -p 4566 -H 127.0.0.1`) or run `bash .ci/run`");
  return url;
}

/** Static dummy credentials: the SDK must never look for real ones. */
export const TEST_AWS = { region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } } as const;

/** Everything a dispatch test needs. */
export interface DispatchHarness {
  readonly db: MigratedDatabase;
  readonly sqs: SQSClient;
  readonly queues: TaskQueueUrls;
  readonly store: LocalObjectStore;
  readonly jobs: PrismaJobRepository;
  readonly studies: PrismaStudyRepository;
  readonly segmentation: SegmentationService;
  readonly principal: Principal;
  readonly storeDir: string;
  readonly logger: Logger;
  readonly visibilityTimeoutSeconds: number;
  /** Creates a study with `n` slices (128×128 float32 HU) and returns its id and slice ids in order. */
  createStudy(n: number): Promise<{ studyId: string; sliceIds: string[] }>;
  /** Creates a study of `n` kidney-blob phantom slices (256×256 HU); slice ids in slice order. */
  createPhantomStudy(n: number): Promise<{ studyId: string; sliceIds: string[] }>;
  /** Settings for an in-process worker on this harness (override what a test needs). */
  workerSettings(overrides?: Partial<WorkerSettings>): WorkerSettings;
  /** Starts an in-process worker; it is stopped by `close()` if the test does not. */
  startWorker(overrides?: Partial<WorkerSettings>): Promise<RunningWorker>;
  /** Stops every worker this harness started (call after each test). */
  stopWorkers(): Promise<void>;
  /** Polls `findJob` until `predicate` holds, at most `timeoutMs`. */
  waitForJob(jobId: string, predicate: (job: SegmentationJob) => boolean, timeoutMs?: number): Promise<SegmentationJob>;
  /** ApproximateNumberOfMessages of the dead-letter queue. */
  deadLetterCount(): Promise<number>;
  close(): Promise<void>;
}

/** Polls `check` every 25 ms until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function pollUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Builds the harness; `visibilityTimeoutSeconds` is short so redeliveries happen within a test. */
export async function createDispatchHarness(options: { visibilityTimeoutSeconds?: number } = {}): Promise<DispatchHarness> {
  const endpoint = motoEndpoint();
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 2;
  const db = await createMigratedDatabase();
  const sqs = createSqsClient({ ...TEST_AWS, endpoint });
  const queues = await createTaskQueues(sqs, `coinseg-test-${randomBytes(5).toString("hex")}`, { visibilityTimeoutSeconds });
  const storeDir = await mkdtemp(path.join(tmpdir(), "coinseg-dispatch-"));
  const store = new LocalObjectStore({ rootDir: storeDir, publicBaseUrl: () => "http://127.0.0.1:1", signingSecret: "s".repeat(32) });
  const logger = pino({ level: process.env.DISPATCH_LOG ?? "silent" });
  const jobs = new PrismaJobRepository(db.prisma);
  const studies = new PrismaStudyRepository(db.prisma);
  const identities = new PrismaIdentityRepository(db.prisma);
  const models = new PrismaModelRegistry(db.prisma);
  for (const m of await readModelDirectory(FIXTURE_MODELS_DIR)) await models.register(m);
  const org = await identities.createOrganization({ slug: `org-${randomBytes(3).toString("hex")}`, name: "dispatch test" });
  const { userId } = await identities.upsertMember({ organizationId: org.id, email: "annotator@example.test", name: "Annotator", role: "ANNOTATOR" });
  const principal: Principal = { userId, organizationId: org.id, role: "ANNOTATOR", via: "API_KEY" };
  // The API side publishes cancel events; it needs no listener here.
  const apiBus = new PgNotifyResultBus(db.url, async () => null);
  const segmentation = new SegmentationService(studies, jobs, models, apiBus, new PrismaAuditLog(db.prisma));
  const workers: RunningWorker[] = [];

  async function storeStudy(width: number, height: number, pixels: readonly Float32Array[]): Promise<{ studyId: string; sliceIds: string[] }> {
    const n = pixels.length;
    const study = await studies.createStudy(org.id, { title: "dispatch", createdById: userId });
    const slices = [];
    for (let k = 0; k < n; k++) {
      const key = `${org.id}/${study.id}/slices/${k}.f32`;
      await store.put(key, new Uint8Array(pixels[k]!.buffer, pixels[k]!.byteOffset, pixels[k]!.byteLength));
      slices.push({ sliceIndex: k, width, height, spacingMm: [1, 1] as [number, number], positionLPS: [0, 0, k] as [number, number, number], storageKey: key });
    }
    await studies.attachSeries(org.id, study.id, {
      seriesInstanceUID: null, description: "synthetic", sourceFormat: "NIFTI", dimsIJK: [width, height, n], spacingMm: [1, 1, 1],
      originLPS: [0, 0, 0], directionLPS: [1, 0, 0, 0, 1, 0, 0, 0, 1], slices,
    });
    const stored = (await studies.slicesByStudy(org.id, [study.id])).get(study.id) ?? [];
    return { studyId: study.id, sliceIds: [...stored].sort((a, b) => a.sliceIndex - b.sliceIndex).map((s) => s.id) };
  }

  const harness: DispatchHarness = {
    db, sqs, queues, store, jobs, studies, segmentation, principal, storeDir, logger, visibilityTimeoutSeconds,
    async createStudy(n) {
      const width = 128, height = 128;
      const pixels: Float32Array[] = [];
      for (let k = 0; k < n; k++) {
        const p = new Float32Array(width * height);
        // A bright disc on soft tissue, moving with k: different slices, deterministic.
        for (let j = 0; j < height; j++) for (let i = 0; i < width; i++) {
          p[j * width + i] = (i - 40 - k) ** 2 + (j - 64) ** 2 < 144 ? 300 : 40 + ((i * 7 + j * 13 + k) % 11);
        }
        pixels.push(p);
      }
      return storeStudy(width, height, pixels);
    },
    async createPhantomStudy(n) {
      const phantom = phantomSlices(n);
      return storeStudy(phantom.width, phantom.height, phantom.slices);
    },

    workerSettings(overrides = {}) {
      return {
        databaseUrl: db.url,
        sqs: { ...TEST_AWS, endpoint, queueUrl: queues.queueUrl, visibilityTimeoutSeconds, waitTimeSeconds: 1, maxReceiveCount: 3 },
        concurrency: 1, batchSize: 1, modelsDir: FIXTURE_MODELS_DIR, relayOutbox: true, outboxPollMs: 50, metrics: null, store,
        ...overrides,
      };
    },
    async startWorker(overrides = {}) {
      const w = await startWorker(harness.workerSettings(overrides), logger);
      workers.push(w);
      return w;
    },
    async stopWorkers() {
      for (const w of workers.splice(0)) await w.stop().catch(() => {});
    },
    async waitForJob(jobId, predicate, timeoutMs = 30_000) {
      return pollUntil(`job ${jobId}`, async () => {
        const job = await jobs.findJob(org.id, jobId);
        return job && predicate(job) ? job : undefined;
      }, timeoutMs);
    },
    async deadLetterCount() {
      const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queues.deadLetterQueueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }));
      return Number(out.Attributes?.ApproximateNumberOfMessages ?? "0");
    },
    async close() {
      await harness.stopWorkers();
      await apiBus.close();
      sqs.destroy();
      await db.close();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** A fresh random UUID (for hand-made tasks). */
export const uuid = (): string => randomUUID();
