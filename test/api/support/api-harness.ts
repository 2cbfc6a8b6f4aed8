// Boots the real API (HTTP + WebSocket) on an ephemeral port over a fresh, migrated PostgreSQL
// database, with a local object store and an in-process queue, and seeds two organisations.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino, type Logger } from "pino";
import { JoseTokenVerifier } from "../../../adapters/auth/jose-token-verifier.ts";
import { InMemoryResultBus } from "../../../adapters/events/in-memory-result-bus.ts";
import { InMemoryTaskQueue } from "../../../adapters/queue/in-memory-task-queue.ts";
import { LeaveQueuedTaskHandler } from "../../../adapters/queue/queued-task-handler.ts";
import { LocalObjectStore } from "../../../adapters/storage/local-object-store.ts";
import type { ObjectStore } from "../../../core/ports/object-store.port.ts";
import type { SegmentationTaskHandler } from "../../../core/ports/segmentation-task-handler.port.ts";
import { buildGraphQLSchema } from "../../../app/api/graphql-schema.ts";
import { startHttpServer, type RunningHttpServer } from "../../../app/api/http-server.ts";
import { wireServices, type WiredServices } from "../../../app/api/wire-services.ts";
import { createMigratedDatabase, type MigratedDatabase } from "../../adapters/support/migrated-database.ts";

/** Keys and ids of the seeded identities. */
export interface Seed {
  orgA: string;
  orgB: string;
  adminA: { userId: string; key: string };
  annotatorA: { userId: string; key: string };
  viewerA: { userId: string; key: string };
  adminB: { userId: string; key: string };
}

/** A GraphQL response as the tests see it. */
export interface GqlResponse {
  status: number;
  body: { data?: Record<string, any> | null; errors?: { message: string; extensions?: Record<string, any> }[] };
}

/** A running API for tests. */
export interface ApiHarness {
  server: RunningHttpServer;
  services: WiredServices;
  db: MigratedDatabase;
  /** The local store, or `objectStore` when one was given. */
  store: ObjectStore;
  bus: InMemoryResultBus;
  queue: InMemoryTaskQueue;
  tokens: JoseTokenVerifier;
  seed: Seed;
  /** POSTs a GraphQL operation with an API key (or none). */
  gql(key: string | null, query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlResponse>;
  close(): Promise<void>;
}

/** Options of {@link startApiHarness}. */
export interface HarnessOptions {
  uploadMaxBytes?: number;
  maxDepth?: number;
  maxCost?: number;
  handler?: (services: WiredServices, bus: InMemoryResultBus) => SegmentationTaskHandler;
  /** Default true. */
  introspection?: boolean;
  /** Default: a silent pino logger. */
  logger?: Logger;
  /** Another object store (e.g. S3 on moto) instead of the local one; uploads then go to its URLs. */
  objectStore?: ObjectStore;
  /** DICOM_UID_SECRET of this server; default {@link TEST_DICOM_UID_SECRET}. */
  dicomUidSecret?: string;
  /**
   * A running harness whose database, object store and seeded identities this one uses too (a
   * second API server of the same deployment); closing this one leaves them to that one.
   */
  sharing?: ApiHarness;
}

/** JWT settings of the harness. */
export const TEST_JWT = { secret: "test-secret-test-secret-test-secret-0123", issuer: "coinseg", audience: "coinseg-api" };

/** DICOM_UID_SECRET of the harness. */
export const TEST_DICOM_UID_SECRET = "test-dicom-uid-secret-0123456789abcdef";

/** Starts the harness. */
export async function startApiHarness(options: HarnessOptions = {}): Promise<ApiHarness> {
  const shared = options.sharing;
  const db = shared?.db ?? (await createMigratedDatabase());
  const dir = await mkdtemp(path.join(tmpdir(), "coinseg-api-"));
  let baseUrl = "";
  const localStore = options.objectStore || shared ? undefined : new LocalObjectStore({ rootDir: dir, publicBaseUrl: () => baseUrl, signingSecret: "x".repeat(32) });
  const store: ObjectStore = options.objectStore ?? shared?.store ?? localStore!;
  const bus = new InMemoryResultBus();
  const tokens = new JoseTokenVerifier(TEST_JWT);
  const logger = options.logger ?? pino({ level: "silent" });
  let handler: SegmentationTaskHandler = new LeaveQueuedTaskHandler();
  const queue = new InMemoryTaskQueue({ handle: (t) => handler.handle(t) });
  const uploadMaxBytes = options.uploadMaxBytes ?? 1024 * 1024;
  const services = wireServices({
    prisma: db.prisma, store, bus, queue, tokens, logger, uploadMaxBytes, uploadUrlTtlSeconds: 60, dicomUidSecret: options.dicomUidSecret ?? TEST_DICOM_UID_SECRET,
  });
  if (options.handler) handler = options.handler(services, bus);
  const server = await startHttpServer({
    schema: buildGraphQLSchema(), services, logger, host: "127.0.0.1", port: 0, introspection: options.introspection ?? true,
    maxDepth: options.maxDepth ?? 12, maxCost: options.maxCost ?? 20000, ...(localStore ? { localStore } : {}), uploadMaxBytes,
  });
  baseUrl = server.baseUrl;
  const seed = shared?.seed ?? (await seedIdentities(services));
  if (!shared) {
    await services.models.register({ key: "test-coin", kind: "COIN_GENERATOR", version: "1", sha256: "0".repeat(64), spec: {} });
    await services.models.register({ key: "test-classifier", kind: "CLASSIFIER", version: "1", sha256: "1".repeat(64), spec: {} });
  }

  return {
    server, services, db, store, bus, queue, tokens, seed,
    async gql(key, query, variables, headers = {}) {
      const res = await fetch(server.graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json", ...(key ? { "x-api-key": key } : {}), ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: (await res.json()) as GqlResponse["body"] };
    },
    async close() {
      await server.close();
      await queue.idle();
      if (!shared) await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Two organisations with an admin each, and an annotator and a viewer in the first. */
async function seedIdentities(services: WiredServices): Promise<Seed> {
  const ids = services.identities;
  const orgA = (await ids.createOrganization({ slug: "org-a", name: "A" })).id;
  const orgB = (await ids.createOrganization({ slug: "org-b", name: "B" })).id;
  const member = async (org: string, email: string, role: "VIEWER" | "ANNOTATOR" | "ADMIN") => {
    const { userId } = await ids.upsertMember({ organizationId: org, email, name: email, role });
    const { key } = await services.auth.issueApiKey(org, userId, "test");
    return { userId, key };
  };
  return {
    orgA, orgB,
    adminA: await member(orgA, "admin@a", "ADMIN"),
    annotatorA: await member(orgA, "annotator@a", "ANNOTATOR"),
    viewerA: await member(orgA, "viewer@a", "VIEWER"),
    adminB: await member(orgB, "admin@b", "ADMIN"),
  };
}

/** The `extensions.code` of each error of a response. */
export function codes(res: GqlResponse): string[] {
  return (res.body.errors ?? []).map((e) => String(e.extensions?.code));
}
