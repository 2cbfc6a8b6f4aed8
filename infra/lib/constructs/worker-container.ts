// What every worker container gets: image, logs, environment, database credentials as ECS secrets.
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import type * as ecrAssets from "aws-cdk-lib/aws-ecr-assets";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";

/** Parameters shared by the GPU and CPU worker services and the migration task. */
export interface WorkerContainerProps {
  readonly image: ecrAssets.DockerImageAsset;
  /** Non-secret configuration. */
  readonly environment: Readonly<Record<string, string>>;
  /** The RDS secret; username and password are injected at task start (never in the task definition). */
  readonly databaseSecret: secretsmanager.ISecret;
  /** Host the container connects to (the proxy for workers, the writer for migrations). */
  readonly databaseHost: string;
  readonly databaseName: string;
}

/**
 * Builds the container definition options: the image's entrypoint composes DATABASE_URL from
 * DB_HOST/DB_PORT/DB_NAME/DB_USERNAME/DB_PASSWORD (infra/docker/worker-entrypoint.sh).
 */
export class WorkerContainer extends Construct {
  /** Options for `taskDefinition.addContainer`. */
  readonly options: ecs.ContainerDefinitionOptions;

  constructor(scope: Construct, id: string, props: WorkerContainerProps & { readonly command?: readonly string[] }) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, "Logs", { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.options = {
      image: ecs.ContainerImage.fromDockerImageAsset(props.image),
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: "coinseg" }),
      command: props.command ? [...props.command] : undefined,
      environment: { ...props.environment, DB_HOST: props.databaseHost, DB_PORT: "5432", DB_NAME: props.databaseName },
      secrets: {
        DB_USERNAME: ecs.Secret.fromSecretsManager(props.databaseSecret, "username"),
        DB_PASSWORD: ecs.Secret.fromSecretsManager(props.databaseSecret, "password"),
      },
      // SIGTERM → the worker finishes its current slice and stops polling (issue 6); give it 2 min.
      stopTimeout: Duration.seconds(120),
    };
  }
}
