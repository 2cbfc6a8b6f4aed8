// API benchmark: requests/s and p50/p99 latency of a `studies(first: 20)` query with slices and
// labels, served by the real HTTP server on embedded PGlite and on PostgreSQL, 50 concurrent
// clients (autocannon). Writes bench/results/api.json and prints a table. Not a test.
//   npx tsx bench/api.ts [--duration-seconds 10] [--connections 50] [--database-url postgresql://postgres@127.0.0.1:5432/test]
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { pino } from "pino";
import { applyMigrations } from "../adapters/db/migration-runner.ts";
import { pgScriptRunner } from "../adapters/db/pg-script-runner.ts";
import { pgliteScriptRunner } from "../adapters/db/pglite-script-runner.ts";
import { JoseTokenVerifier } from "../adapters/auth/jose-token-verifier.ts";
import { InMemoryResultBus } from "../adapters/events/in-memory-result-bus.ts";
import { createPgPrismaClient, createPglitePrismaClient, type Db } from "../adapters/prisma/prisma-client.ts";
import { LocalObjectStore } from "../adapters/storage/local-object-store.ts";
import { buildGraphQLSchema } from "../app/api/graphql-schema.ts";
import { startHttpServer } from "../app/api/http-server.ts";
import { wireServices } from "../app/api/wire-services.ts";

const { values: args } = parseArgs({
  options: {
    "duration-seconds": { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
    "database-url": { type: "string", default: "postgresql://postgres@127.0.0.1:5432/test" },
    studies: { type: "string", default: "40" },
    "slices-per-study": { type: "string", default: "16" },
  },
});
const durationSeconds = Number(args["duration-seconds"]);
const connections = Number(args.connections);
const studyCount = Number(args.studies);
const slicesPerStudy = Number(args["slices-per-study"]);

const QUERY = `{ studies(first: 20) { edges { node { id title status studyLabel
  slices(first: ${slicesPerStudy}) { totalCount edges { node { sliceIndex width height label labels { value createdAt } } } } } } } }`;

interface BackendResult {
  backend: string;
  requestsPerSecondMean: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMeanMs: number;
  requests: number;
  errors: number;
  non2xx: number;
  timeouts: number;
  setupSeconds: number;
}

async function seed(prisma: Db, services: ReturnType<typeof wireServices>): Promise<string> {
  const org = await services.identities.createOrganization({ slug: `bench-${randomBytes(3).toString("hex")}`, name: "bench" });
  const { userId } = await services.identities.upsertMember({ organizationId: org.id, email: `bench-${org.id}@bench`, name: "bench", role: "ADMIN" });
  const { key } = await services.auth.issueApiKey(org.id, userId, "bench");
  const principal = { userId, organizationId: org.id, role: "ADMIN" as const, via: "API_KEY" as const };
  for (let s = 0; s < studyCount; s++) {
    const study = await services.studies.createStudy(principal, { title: `bench study ${s}` });
    await prisma.series.create({ data: { organizationId: org.id, studyId: study.id, sourceFormat: "NIFTI", dimsIJK: [256, 256, slicesPerStudy], spacingMm: [0.8, 0.8, 2.5], originLPS: [0, 0, 0], directionLPS: [1, 0, 0, 0, 1, 0, 0, 0, 1] } });
    const series = await prisma.series.findFirstOrThrow({ where: { studyId: study.id } });
    await prisma.slice.createMany({
      data: Array.from({ length: slicesPerStudy }, (_, k) => ({
        organizationId: org.id, studyId: study.id, seriesId: series.id, sliceIndex: k, width: 256, height: 256,
        spacingMm: [0.8, 0.8], positionLPS: [0, 0, 2.5 * k], storageKey: `bench/${study.id}/${k}`,
      })),
    });
    await prisma.study.update({ where: { id: study.id }, data: { status: "READY" } });
    const slices = await prisma.slice.findMany({ where: { studyId: study.id }, select: { id: true } });
    await services.studies.setLabels(principal, study.id, [
      { sliceId: null, value: s % 3 === 0 ? "ABNORMAL" : "NORMAL" },
      ...slices.map((sl, i) => ({ sliceId: sl.id, value: (i % 4 === 0 ? "ABNORMAL" : "NORMAL") as "ABNORMAL" | "NORMAL" })),
    ]);
  }
  return key;
}

async function run(backend: string, prisma: Db): Promise<BackendResult> {
  const t0 = performance.now();
  const dir = await mkdtemp(path.join(os.tmpdir(), "coinseg-bench-"));
  const logger = pino({ level: "silent" });
  let baseUrl = "";
  const store = new LocalObjectStore({ rootDir: dir, publicBaseUrl: () => baseUrl, signingSecret: "b".repeat(32) });
  const services = wireServices({
    prisma, store, bus: new InMemoryResultBus(), tokens: new JoseTokenVerifier({ secret: "b".repeat(40), issuer: "coinseg", audience: "coinseg-api" }),
    logger, uploadMaxBytes: 1 << 20, uploadUrlTtlSeconds: 60,
  });
  const key = await seed(prisma, services);
  const server = await startHttpServer({
    schema: buildGraphQLSchema(), services, logger, host: "127.0.0.1", port: 0, introspection: false, maxDepth: 12, maxCost: 1_000_000, uploadMaxBytes: 1 << 20,
  });
  baseUrl = server.baseUrl;
  const body = JSON.stringify({ query: QUERY });
  // One request first, to fail fast on a broken query rather than measure errors.
  const probe = await fetch(server.graphqlUrl, { method: "POST", headers: { "content-type": "application/json", "x-api-key": key }, body });
  const probeJson = (await probe.json()) as { errors?: unknown; data?: { studies: { edges: unknown[] } } };
  if (probeJson.errors || probeJson.data?.studies.edges.length !== Math.min(20, studyCount)) throw new Error(`probe failed: ${JSON.stringify(probeJson).slice(0, 500)}`);
  const setupSeconds = (performance.now() - t0) / 1000;
  const result = await autocannon({
    url: server.graphqlUrl, method: "POST", connections, duration: durationSeconds, timeout: 30,
    headers: { "content-type": "application/json", "x-api-key": key }, body,
  });
  await server.close();
  await rm(dir, { recursive: true, force: true });
  return {
    backend, requestsPerSecondMean: result.requests.average, latencyP50Ms: result.latency.p50, latencyP99Ms: result.latency.p99,
    latencyMeanMs: result.latency.average, requests: result.requests.total, errors: result.errors, non2xx: result.non2xx, timeouts: result.timeouts, setupSeconds,
  };
}

const results: BackendResult[] = [];

{
  const pglite = await PGlite.create();
  await applyMigrations(pgliteScriptRunner(pglite));
  const prisma = createPglitePrismaClient(pglite);
  results.push(await run("pglite (embedded, in-process)", prisma));
  await prisma.$disconnect();
  await pglite.close();
}
{
  const admin = new pg.Client({ connectionString: args["database-url"] });
  await admin.connect();
  const name = `coinseg_bench_${randomBytes(4).toString("hex")}`;
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(args["database-url"]!);
  url.pathname = `/${name}`;
  try {
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    await applyMigrations(pgScriptRunner(client));
    await client.end();
    const prisma = createPgPrismaClient(url.toString(), 10);
    results.push(await run("postgresql 15 (pool of 10)", prisma));
    await prisma.$disconnect();
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

let commit = "unknown";
try {
  commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
} catch {
  // not a git checkout
}
const report = {
  benchmark: "api: studies(first: 20) with slices and labels",
  query: QUERY.replace(/\s+/g, " "),
  date: new Date().toISOString(),
  commit,
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "unknown", memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAverage1m: os.loadavg()[0] },
  note: "server and load generator share the same process and machine; numbers are relative, for comparing backends and commits on one machine",
  params: { connections, durationSeconds, studies: studyCount, slicesPerStudy, labelsPerStudy: slicesPerStudy + 1 },
  results,
};
const out = new URL("./results/api.json", import.meta.url);
await mkdir(new URL("./results/", import.meta.url), { recursive: true });
await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);

console.log(`\n${report.benchmark} — ${connections} connections, ${durationSeconds} s each\n`);
console.log("| backend | req/s | p50 ms | p99 ms | mean ms | requests | errors | non-2xx |");
console.log("|---|---|---|---|---|---|---|---|");
for (const r of results) {
  console.log(`| ${r.backend} | ${r.requestsPerSecondMean.toFixed(1)} | ${r.latencyP50Ms} | ${r.latencyP99Ms} | ${r.latencyMeanMs.toFixed(1)} | ${r.requests} | ${r.errors} | ${r.non2xx} |`);
}
console.log(`\nwritten to bench/results/api.json`);
