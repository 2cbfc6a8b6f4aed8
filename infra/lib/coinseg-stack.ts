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
import { OutboxRelaySchedule } from "./constructs/outbox-relay-schedule.ts";
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
 * the API on Lambda behind an HTTP API (it sends each job's tasks to SQS as it stores them), the
 * WebSocket API, a scheduled outbox relay (the safety net of dispatch), GPU (ECS/EC2) or CPU (Fargate) workers
 * scaled from zero on queue depth, migrations on deploy, alarms and a dashboard.
 */
export class CoinsegStack extends Stack {
  readonly network: Network;
  readonly database: Database;
  readonly objects: ObjectBucket;
  readonly tasks: TaskQueue;
  readonly api: GraphqlApi;
  readonly websocket: WebsocketApi;
  readonly outboxRelay: OutboxRelaySchedule;
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

    // Each function gets exactly the variables its entry point parses (app/config/env-schema.ts) plus
    // the bootstrap's secret ARNs, resolved at cold start (infra/lib/runtime); never secret values.
    // AWS_REGION (and the role's credentials) come from the Lambda runtime itself.
    const lambdaBase = {
      NODE_OPTIONS: "--enable-source-maps",
      LOG_LEVEL: c.api.logLevel,
      DATABASE_SECRET_ARN: this.database.secret.secretArn,
      DATABASE_PROXY_HOST: this.database.proxy.endpoint,
    };
    this.api = new GraphqlApi(this, "Api", {
      vpc, image: images.api, ...c.api, corsAllowedOrigins: c.bucket.corsAllowedOrigins,
      environment: {
        ...lambdaBase,
        JWT_SECRET_ARN: jwtSecret.secretArn,
        OBJECT_STORE: "s3",
        S3_BUCKET: this.objects.bucket.bucketName,
        SQS_QUEUE_URL: this.tasks.queue.queueUrl,
        GRAPHQL_INTROSPECTION: prodLike ? "false" : "true",
      },
    });
    this.api.handler.addEnvironment("PUBLIC_URL", this.api.httpApi.apiEndpoint);
    this.websocket = new WebsocketApi(this, "WebSocket", {
      vpc, image: images.api, memoryMiB: 512, throttleRatePerSecond: c.api.throttleRatePerSecond, throttleBurst: c.api.throttleBurst,
      environment: { ...lambdaBase, JWT_SECRET_ARN: jwtSecret.secretArn },
    });
    this.websocket.handler.addEnvironment("APIGW_MANAGEMENT_ENDPOINT", this.websocket.stage.callbackUrl);
    this.outboxRelay = new OutboxRelaySchedule(this, "OutboxRelay", {
      vpc, image: images.api,
      environment: {
        ...lambdaBase,
        SQS_QUEUE_URL: this.tasks.queue.queueUrl,
        // An API Lambda is stopped after its timeout: a row older than that is being sent by no one.
        OUTBOX_RELAY_MIN_AGE_SECONDS: String(c.api.timeoutSeconds + 2),
      },
    });

    for (const fn of [this.api.handler, this.websocket.handler, this.outboxRelay.handler]) this.database.secret.grantRead(fn);
    for (const fn of [this.api.handler, this.websocket.handler]) jwtSecret.grantRead(fn);
    this.database.allowProxyFrom(this.api.securityGroup, "API Lambda");
    this.database.allowProxyFrom(this.websocket.securityGroup, "WebSocket Lambda");
    this.database.allowProxyFrom(this.outboxRelay.securityGroup, "outbox relay Lambda");
    // The API signs presigned uploads, reads pixels, deletes studies. Only the two outbox relays send
    // tasks: the API (its own job's rows, right after the commit) and the scheduled relay (the rest).
    this.objects.grantObjects(this.api.handler, ["read", "write", "delete"]);
    this.tasks.queue.grantSendMessages(this.api.handler);
    this.tasks.queue.grantSendMessages(this.outboxRelay.handler);

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
        // The worker receives with this visibility and heartbeats every half of it (PROTOCOL.md §3).
        SQS_VISIBILITY_TIMEOUT_SECONDS: String(c.queue.visibilityTimeoutSeconds),
        SQS_MAX_RECEIVE_COUNT: String(c.queue.maxReceiveCount),
        // Workers do not send tasks (no sqs:SendMessage): the API and the scheduled relay do.
        WORKER_RELAY_OUTBOX: "false",
        APIGW_MANAGEMENT_ENDPOINT: this.websocket.stage.callbackUrl,
        // CUDA first on GPU hosts; the engine logs and falls back to CPU if the provider does not load.
        ORT_EXECUTION_PROVIDERS: c.workers.kind === "gpu" ? "cuda,cpu" : "cpu",
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
        // app/db-migrate.ts reads DATABASE_URL only (composed by the entrypoint from DB_*).
        environment: {},
      }).options,
      imageHash: images.migration.assetHash,
      executeAfter: [this.database.cluster],
    });
    // New code serves only after the schema it expects exists.
    for (const dependent of [this.api.handler, this.websocket.handler, this.outboxRelay.handler, this.workers.service]) dependent.node.addDependency(this.migration.trigger);

    this.monitoring = new Monitoring(this, "Monitoring", {
      dashboardName: `coinseg-${c.name}`,
      queue: this.tasks.queue,
      deadLetterQueue: this.tasks.deadLetterQueue,
      queueDepth: this.scaling.depth,
      httpApi: this.api.httpApi,
      apiFunction: this.api.handler,
      outboxRelayFunction: this.outboxRelay.handler,
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
