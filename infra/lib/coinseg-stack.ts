// One coinseg deployment (environment): composes the constructs and wires least-privilege grants.
import { RemovalPolicy, Stack, type StackProps, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { CfnOutput } from "aws-cdk-lib";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "./config/environment-config.ts";
import { ApplicationImages } from "./constructs/application-images.ts";
import { CpuWorkerService } from "./constructs/cpu-worker-service.ts";
import { Database, DATABASE_NAME } from "./constructs/database.ts";
import { GpuWorkerService } from "./constructs/gpu-worker-service.ts";
import { GraphqlApi } from "./constructs/graphql-api.ts";
import { MigrationOnDeploy } from "./constructs/migration-on-deploy.ts";
import { Monitoring } from "./constructs/monitoring.ts";
import { Network } from "./constructs/network.ts";
import { ObjectBucket } from "./constructs/object-bucket.ts";
import { QueueDepthScaling } from "./constructs/queue-depth-scaling.ts";
import { TaskQueue } from "./constructs/task-queue.ts";
import { WebsocketApi } from "./constructs/websocket-api.ts";
import { WorkerContainer } from "./constructs/worker-container.ts";
import { nagAcknowledgements } from "./nag-acknowledgements.ts";

/** Parameters of {@link CoinsegStack}. */
export interface CoinsegStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/**
 * Everything one environment runs (DESIGN.md §4, "AWS"): VPC, Aurora + RDS Proxy, S3, SQS + DLQ,
 * the API on Lambda behind an HTTP API, the WebSocket API, GPU (ECS/EC2) or CPU (Fargate) workers
 * scaled from zero on queue depth, migrations on deploy, alarms and a dashboard.
 */
export class CoinsegStack extends Stack {
  readonly network: Network;
  readonly database: Database;
  readonly objects: ObjectBucket;
  readonly tasks: TaskQueue;
  readonly api: GraphqlApi;
  readonly websocket: WebsocketApi;
  readonly workers: GpuWorkerService | CpuWorkerService;
  readonly scaling: QueueDepthScaling;
  readonly migration: MigrationOnDeploy;
  readonly monitoring: Monitoring;
  private readonly zones: string[];

  constructor(scope: Construct, id: string, props: CoinsegStackProps) {
    super(scope, id, props);
    const c = props.config;
    this.zones = [...c.availabilityZones];
    const prodLike = c.database.deletionProtection;

    this.network = new Network(this, "Network", { cidr: c.network.cidr, availabilityZones: c.availabilityZones, natGateways: c.network.natGateways });
    const vpc = this.network.vpc;
    this.database = new Database(this, "Database", { vpc, ...c.database });
    this.objects = new ObjectBucket(this, "Objects", { ...c.bucket, removalPolicy: prodLike ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY });
    this.tasks = new TaskQueue(this, "Tasks", c.queue);
    const jwtSecret = new secretsmanager.Secret(this, "JwtSecret", {
      description: "coinseg HS256 secret for bearer JWTs",
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(jwtSecret).acknowledge({ id: "AwsSolutions-SMG4", reason: "Rotating the JWT signing secret logs every user out; it is rotated by hand (docs/DEPLOY.md, 'Credentials') until the API accepts two keys at once." });
    const images = new ApplicationImages(this, "Images", { workerKind: c.workers.kind });

    // Non-secret configuration read by app/config (env-schema.ts); secrets are resolved at cold start.
    const apiEnvironment = {
      NODE_OPTIONS: "--enable-source-maps",
      LOG_LEVEL: c.api.logLevel,
      OBJECT_STORE: "s3",
      S3_BUCKET: this.objects.bucket.bucketName,
      SQS_QUEUE_URL: this.tasks.queue.queueUrl,
      DATABASE_SECRET_ARN: this.database.secret.secretArn,
      DATABASE_PROXY_HOST: this.database.proxy.endpoint,
      JWT_SECRET_ARN: jwtSecret.secretArn,
      GRAPHQL_INTROSPECTION: prodLike ? "false" : "true",
    };
    this.api = new GraphqlApi(this, "Api", { vpc, image: images.api, ...c.api, corsAllowedOrigins: c.bucket.corsAllowedOrigins, environment: apiEnvironment });
    this.websocket = new WebsocketApi(this, "WebSocket", { vpc, image: images.api, memoryMiB: 512, throttleRatePerSecond: c.api.throttleRatePerSecond, throttleBurst: c.api.throttleBurst, environment: apiEnvironment });
    this.api.handler.addEnvironment("PUBLIC_URL", this.api.httpApi.apiEndpoint);
    this.api.handler.addEnvironment("WEBSOCKET_URL", this.websocket.stage.url);
    this.websocket.handler.addEnvironment("WEBSOCKET_MANAGEMENT_URL", this.websocket.stage.callbackUrl);

    for (const fn of [this.api.handler, this.websocket.handler]) {
      this.database.secret.grantRead(fn);
      jwtSecret.grantRead(fn);
    }
    this.database.allowProxyFrom(this.api.securityGroup, "API Lambda");
    this.database.allowProxyFrom(this.websocket.securityGroup, "WebSocket Lambda");
    // The API signs presigned uploads, reads pixels, deletes studies; the outbox relay sends tasks.
    this.objects.grantObjects(this.api.handler, ["read", "write", "delete"]);
    this.tasks.queue.grantSendMessages(this.api.handler);

    const cluster = new ecs.Cluster(this, "Cluster", { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const workerSg = new ec2.SecurityGroup(this, "WorkerSg", { vpc, description: "coinseg workers" });
    this.database.allowProxyFrom(workerSg, "workers");
    const workerContainer = new WorkerContainer(this, "WorkerContainer", {
      image: images.worker,
      databaseSecret: this.database.secret,
      databaseHost: this.database.proxy.endpoint,
      databaseName: DATABASE_NAME,
      environment: {
        LOG_LEVEL: c.api.logLevel === "debug" ? "debug" : "info",
        OBJECT_STORE: "s3",
        S3_BUCKET: this.objects.bucket.bucketName,
        SQS_QUEUE_URL: this.tasks.queue.queueUrl,
        SQS_HEARTBEAT_SECONDS: String(c.queue.workerHeartbeatSeconds),
        SQS_VISIBILITY_TIMEOUT_SECONDS: String(c.queue.visibilityTimeoutSeconds),
        WEBSOCKET_MANAGEMENT_URL: this.websocket.stage.callbackUrl,
        ORT_EXECUTION_PROVIDER: c.workers.kind === "gpu" ? "cuda" : "cpu",
        AWS_REGION: this.region,
      },
    }).options;
    this.workers = c.workers.kind === "gpu"
      ? new GpuWorkerService(this, "GpuWorkers", { cluster, vpc, securityGroup: workerSg, ...c.workers, container: workerContainer })
      : new CpuWorkerService(this, "CpuWorkers", { cluster, securityGroup: workerSg, ...c.workers, container: workerContainer });
    const workerRole = this.workers.taskDefinition.taskRole;
    this.tasks.queue.grantConsumeMessages(workerRole);
    this.objects.grantObjects(workerRole, ["read", "write"]);
    this.websocket.stage.grantManagementApiAccess(workerRole);
    nagAcknowledgements.websocketManagement(workerRole, this.websocket.api, this.websocket.stage.stageName);
    this.scaling = new QueueDepthScaling(this, "WorkerScaling", { service: this.workers.service, queue: this.tasks.queue, ...c.scaling });

    const migrationSg = new ec2.SecurityGroup(this, "MigrationSg", { vpc, description: "coinseg migration task" });
    this.database.allowClusterFrom(migrationSg, "migration task");
    this.migration = new MigrationOnDeploy(this, "Migration", {
      cluster, vpc, securityGroup: migrationSg,
      container: new WorkerContainer(this, "MigrationContainer", {
        image: images.migration, databaseSecret: this.database.secret, databaseHost: this.database.cluster.clusterEndpoint.hostname, databaseName: DATABASE_NAME,
        environment: { LOG_LEVEL: "info" },
      }).options,
      imageHash: images.migration.assetHash,
      executeAfter: [this.database.cluster],
    });
    // New code serves only after the schema it expects exists.
    for (const dependent of [this.api.handler, this.websocket.handler, this.workers.service]) dependent.node.addDependency(this.migration.trigger);

    this.monitoring = new Monitoring(this, "Monitoring", {
      dashboardName: `coinseg-${c.name}`,
      queue: this.tasks.queue,
      deadLetterQueue: this.tasks.deadLetterQueue,
      queueDepth: this.scaling.depth,
      httpApi: this.api.httpApi,
      apiFunction: this.api.handler,
      oldestMessageAgeSeconds: c.alarms.oldestMessageAgeSeconds,
      api5xxRatePercent: c.alarms.api5xxRatePercent,
      alarmEmail: c.alarms.email,
    });

    new CfnOutput(this, "GraphqlUrl", { value: `${this.api.httpApi.apiEndpoint}/graphql` });
    new CfnOutput(this, "WebSocketUrl", { value: this.websocket.stage.url });
    new CfnOutput(this, "TaskQueueUrl", { value: this.tasks.queue.queueUrl });
    new CfnOutput(this, "BucketName", { value: this.objects.bucket.bucketName });
  }

  /** The configured zones: synthesis never asks AWS for them. */
  override get availabilityZones(): string[] {
    return this.zones;
  }
}
