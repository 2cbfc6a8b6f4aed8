// The deployment environments coinseg ships with; copy one to add another. See docs/DEPLOY.md.
import { parseEnvironmentConfig, type EnvironmentConfig } from "./environment-config.ts";

/**
 * Known environments by name, parsed (and so validated) when this module loads.
 * - dev: CPU workers on Fargate, smallest Aurora, one NAT gateway.
 * - prod: GPU workers on ECS/EC2 (g5.xlarge), three AZs, deletion protection.
 * Numbers behind the scaling parameters are derived in docs/SCALING.md.
 */
export const environments: Readonly<Record<string, EnvironmentConfig>> = {
  dev: parseEnvironmentConfig({
    name: "dev",
    region: "eu-west-1",
    availabilityZones: ["eu-west-1a", "eu-west-1b"],
    network: { cidr: "10.20.0.0/16", natGateways: 1 },
    database: { minCapacityAcu: 0.5, maxCapacityAcu: 4, backupRetentionDays: 7, readers: 0, deletionProtection: false },
    bucket: { intelligentTieringAfterDays: 30, noncurrentVersionExpirationDays: 30, uploadExpirationDays: 1, incompleteMultipartUploadDays: 1, corsAllowedOrigins: ["http://localhost:5173"] },
    queue: { visibilityTimeoutSeconds: 120, maxReceiveCount: 3, retentionDays: 4 },
    api: { memoryMiB: 1024, timeoutSeconds: 28, reservedConcurrency: 20, logLevel: "debug", throttleRatePerSecond: 50, throttleBurst: 100 },
    workers: { kind: "cpu", cpuUnits: 2048, memoryMiB: 4096 },
    scaling: { maxTasks: 4, messagesPerTask: 90 },
    alarms: { oldestMessageAgeSeconds: 900, api5xxRatePercent: 5 },
  }),
  prod: parseEnvironmentConfig({
    name: "prod",
    region: "eu-west-1",
    availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
    network: { cidr: "10.30.0.0/16", natGateways: 3 },
    database: { minCapacityAcu: 2, maxCapacityAcu: 32, backupRetentionDays: 30, readers: 1, deletionProtection: true },
    bucket: { intelligentTieringAfterDays: 30, noncurrentVersionExpirationDays: 90, uploadExpirationDays: 3, incompleteMultipartUploadDays: 1, corsAllowedOrigins: ["https://app.coinseg.example"] },
    queue: { visibilityTimeoutSeconds: 120, maxReceiveCount: 3, retentionDays: 14 },
    api: { memoryMiB: 1769, timeoutSeconds: 28, reservedConcurrency: 200, logLevel: "info", throttleRatePerSecond: 500, throttleBurst: 1000 },
    workers: { kind: "gpu", instanceType: "g5.xlarge", maxInstances: 40, cpuUnits: 3072, memoryReservationMiB: 12288 },
    scaling: { maxTasks: 40, messagesPerTask: 560 },
    alarms: { oldestMessageAgeSeconds: 600, api5xxRatePercent: 1 },
  }),
};
