// Container images built from this repository at deploy time (never at synth: no Docker here).
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { IgnoreMode } from "aws-cdk-lib";
import * as ecrAssets from "aws-cdk-lib/aws-ecr-assets";
import { Construct } from "constructs";

/** The repository root: the build context of every image. */
export const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * Docker build context, as an allow-list (Docker ignore syntax): only what the images need, so
 * data/, runs/, node_modules/ and cdk.out/ are neither hashed nor staged.
 */
export const BUILD_CONTEXT_EXCLUDE: readonly string[] = [
  "*",
  "!package.json", "!package-lock.json", "!.npmrc", "!tsconfig.json", "!codegen.yml",
  "!app", "!core", "!adapters", "!resolvers", "!workers", "!imaging", "!schema", "!prisma", "!scripts", "!models",
  "!infra/docker", "!infra/lib/runtime",
  "**/*.test.ts", "**/__pycache__",
];

/** Which worker image to build. */
export type WorkerImageKind = "gpu" | "cpu";

/** Parameters of {@link ApplicationImages}. */
export interface ApplicationImagesProps {
  readonly workerKind: WorkerImageKind;
}

/**
 * The API Lambda image (infra/docker/api-lambda.Dockerfile) and the worker image
 * (worker-gpu.Dockerfile or worker-cpu.Dockerfile), linux/amd64, and the CPU image for migrations.
 */
export class ApplicationImages extends Construct {
  /** Lambda image: handlers `lambda.handler` (HTTP API), `lambda-websocket.handler` (WebSocket), `lambda-outbox-relay.handler` (schedule). */
  readonly api: ecrAssets.DockerImageAsset;
  /** Worker image: `npm run worker`. */
  readonly worker: ecrAssets.DockerImageAsset;
  /** Image of the migration task: the CPU worker image (the same asset when workers are CPU). */
  readonly migration: ecrAssets.DockerImageAsset;

  constructor(scope: Construct, id: string, props: ApplicationImagesProps) {
    super(scope, id);
    const common = { directory: REPOSITORY_ROOT, exclude: [...BUILD_CONTEXT_EXCLUDE], ignoreMode: IgnoreMode.DOCKER, platform: ecrAssets.Platform.LINUX_AMD64 };
    this.api = new ecrAssets.DockerImageAsset(this, "Api", { ...common, file: "infra/docker/api-lambda.Dockerfile" });
    this.worker = new ecrAssets.DockerImageAsset(this, "Worker", { ...common, file: `infra/docker/worker-${props.workerKind}.Dockerfile` });
    // Migrations need no GPU: never pull the multi-GB CUDA image onto Fargate for them.
    this.migration = props.workerKind === "cpu" ? this.worker : new ecrAssets.DockerImageAsset(this, "Migration", { ...common, file: "infra/docker/worker-cpu.Dockerfile" });
  }
}
