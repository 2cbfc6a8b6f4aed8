// The zod schema of one deployment environment's parameters (dev, prod, …), checked before synthesis.
import { z } from "zod";

const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "an AWS region such as eu-west-1");

/**
 * Parameters of one coinseg deployment (unknown keys are refused: a typo must not fall back to a
 * default). Every number says its unit in its name. `parseEnvironmentConfig`
 * applies the cross-field rules (AZs in the region, Aurora capacity range, …).
 */
export const environmentConfigSchema = z.strictObject({
  /** Short name; stacks are called `coinseg-<name>`. */
  name: z.string().regex(/^[a-z][a-z0-9-]{1,15}$/),
  /** 12-digit account id; unset = environment-agnostic account (resolved by `cdk deploy` from the profile). */
  account: z.string().regex(/^\d{12}$/).optional(),
  region: awsRegion,
  /** Availability zones, passed explicitly so synthesis never looks them up. */
  availabilityZones: z.array(z.string()).min(2).max(3),
  network: z.strictObject({
    cidr: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/(1[6-9]|2[0-4])$/, "an IPv4 CIDR between /16 and /24"),
    natGateways: z.number().int().min(1).max(3),
  }),
  database: z.strictObject({
    /** Aurora Serverless v2 capacity range in ACUs (0 = pause when idle). */
    minCapacityAcu: z.number().min(0).max(256),
    maxCapacityAcu: z.number().min(1).max(256),
    backupRetentionDays: z.number().int().min(1).max(35),
    /** Readers in addition to the writer (0 for dev). */
    readers: z.number().int().min(0).max(3),
    deletionProtection: z.boolean(),
  }),
  bucket: z.strictObject({
    /** Current objects move to Intelligent-Tiering after this many days. */
    intelligentTieringAfterDays: z.number().int().min(0),
    /** Overwritten/deleted object versions are kept this long. */
    noncurrentVersionExpirationDays: z.number().int().min(1),
    /**
     * Raw uploads (tagged `coinseg-object=upload`) are expired this many days after they were put,
     * imported or not: the window to retry an import that failed (README "Uploads").
     */
    uploadExpirationDays: z.number().int().min(1).max(30),
    /** Multipart uploads still incomplete this many days after they began are aborted (their parts deleted). */
    incompleteMultipartUploadDays: z.number().int().min(1).max(30),
    /** Browser origins allowed to PUT to presigned upload URLs (and to call the API). */
    corsAllowedOrigins: z.array(z.string().url()).min(1),
  }),
  queue: z.strictObject({
    /**
     * Visibility timeout of the task queue, in seconds; the workers receive with the same value
     * (SQS_VISIBILITY_TIMEOUT_SECONDS) and extend it every half of it while a task runs (their heartbeat).
     */
    visibilityTimeoutSeconds: z.number().int().min(30).max(43_200),
    /** Receives before a message goes to the dead-letter queue (DESIGN.md §6: 3). */
    maxReceiveCount: z.literal(3),
    retentionDays: z.number().int().min(1).max(14),
  }),
  api: z.strictObject({
    memoryMiB: z.number().int().min(512).max(10_240),
    /** HTTP API integrations time out at 29 s; keep the function below that. */
    timeoutSeconds: z.number().int().min(3).max(28),
    /** Reserved concurrency caps connections through the proxy; unset = account pool. */
    reservedConcurrency: z.number().int().min(1).optional(),
    logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    throttleRatePerSecond: z.number().int().min(1),
    throttleBurst: z.number().int().min(1),
  }),
  workers: z.discriminatedUnion("kind", [
    z.strictObject({
      /** ECS on EC2 GPU instances (one task per GPU). */
      kind: z.literal("gpu"),
      instanceType: z.string().regex(/^(g4dn|g5|g6|g6e|p3|p4d|p5)\.[a-z0-9]+$/, "an NVIDIA GPU instance type"),
      maxInstances: z.number().int().min(1),
      cpuUnits: z.number().int().min(256),
      memoryReservationMiB: z.number().int().min(512),
    }),
    z.strictObject({
      /** Fargate, CPU only: small deployments and dev. */
      kind: z.literal("cpu"),
      cpuUnits: z.union([z.literal(1024), z.literal(2048), z.literal(4096), z.literal(8192), z.literal(16384)]),
      memoryMiB: z.number().int().min(2048),
    }),
  ]),
  scaling: z.strictObject({
    /** Never more tasks than this (and never fewer than 0: scale from zero). */
    maxTasks: z.number().int().min(1).max(1000),
    /** Queue messages (visible + in flight) one task is expected to hold; sets the step thresholds. */
    messagesPerTask: z.number().int().min(1),
  }),
  alarms: z.strictObject({
    /** Alarm when the oldest task message is older than this. */
    oldestMessageAgeSeconds: z.number().int().min(60),
    /** Alarm when the HTTP API's 5xx share of requests exceeds this percentage over 5 minutes. */
    api5xxRatePercent: z.number().min(0.1).max(100),
    /** Optional e-mail subscribed to the alarm topic. */
    email: z.string().email().optional(),
  }),
});

/** One environment's parameters, as parsed. */
export type EnvironmentConfig = z.infer<typeof environmentConfigSchema>;

/**
 * Parses and cross-checks an environment's parameters.
 * @throws Error listing every problem (zod issues joined), so a bad config fails before synthesis.
 */
export function parseEnvironmentConfig(input: unknown): EnvironmentConfig {
  const result = environmentConfigSchema
    .superRefine((c, ctx) => {
      for (const az of c.availabilityZones) {
        if (!az.startsWith(c.region)) ctx.addIssue({ code: "custom", path: ["availabilityZones"], message: `${az} is not in ${c.region}` });
      }
      if (c.database.minCapacityAcu > c.database.maxCapacityAcu) {
        ctx.addIssue({ code: "custom", path: ["database", "minCapacityAcu"], message: "must not exceed maxCapacityAcu" });
      }
    })
    .safeParse(input);
  if (!result.success) {
    const name = typeof input === "object" && input !== null && "name" in input ? String((input as { name: unknown }).name) : "?";
    throw new Error(`invalid coinseg environment "${name}":\n` + result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n"));
  }
  return result.data;
}
