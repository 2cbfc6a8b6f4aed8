// Template assertions for the coinseg stacks (prod: GPU workers; dev: CPU workers), synthesised once.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CfnElement, Stack } from "aws-cdk-lib";
import { Match } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { environments } from "../../infra/lib/config/environments.ts";
import { queueDepthSteps } from "../../infra/lib/scaling/queue-depth-steps.ts";
import { synthesized } from "./support/synthesized.ts";
import { UPLOAD_OBJECT_TAG } from "../../adapters/storage/s3-object-store.ts";
import { LIFECYCLE_RULE_IDS, UPLOAD_TAG } from "../../infra/lib/constructs/object-bucket.ts";
import { MAX_CONNECTION_SECONDS } from "../../adapters/apigw/prisma-websocket-connection-registry.ts";
import { REGISTRY_CLEANUP_EVENT } from "../../app/lambda/registry-cleanup-event.ts";
import { REGISTRY_CLEANUP_INPUT, REGISTRY_CLEANUP_PERIOD } from "../../infra/lib/constructs/websocket-api.ts";
import {
  assertBucketEncryptedWithKms, assertDicomUidSecretForApiOnly, assertOnlyRelaysSendTasks, assertRegistryCleanupScheduled, assertTaskQueueDeadLetters,
  assertUploadsExpire,
} from "./support/stack-assertions.ts";
import { actionsOf, allStatements, containerEnvironment, resourceByPrefix, statementsOfRole } from "./support/template-queries.ts";

const { dev, prod } = synthesized();
const prodConfig = environments["prod"]!;
const idOf = (stack: Stack, c: IConstruct) => stack.getLogicalId(c.node.defaultChild as CfnElement);
const ref = (stack: Stack, c: IConstruct) => ({ Ref: idOf(stack, c) });
const arnOf = (stack: Stack, c: IConstruct) => ({ "Fn::GetAtt": [idOf(stack, c), "Arn"] });

describe("network", () => {
  test("should spread public, private and isolated subnets over the configured zones when synthesised", () => {
    prod.template.hasResourceProperties("AWS::EC2::VPC", { CidrBlock: prodConfig.network.cidr });
    prod.template.resourceCountIs("AWS::EC2::Subnet", 3 * prodConfig.availabilityZones.length);
    prod.template.resourceCountIs("AWS::EC2::NatGateway", prodConfig.network.natGateways);
    for (const az of prodConfig.availabilityZones) prod.template.hasResourceProperties("AWS::EC2::Subnet", { AvailabilityZone: az });
  });

  test("should log rejected traffic and route S3 through a gateway endpoint when synthesised", () => {
    prod.template.hasResourceProperties("AWS::EC2::FlowLog", { TrafficType: "REJECT" });
    prod.template.hasResourceProperties("AWS::EC2::VPCEndpoint", { VpcEndpointType: "Gateway", ServiceName: Match.objectLike({ "Fn::Join": Match.arrayWith([Match.arrayWith([".s3"])]) }) });
  });
});

describe("database", () => {
  test("should run encrypted Aurora PostgreSQL Serverless v2 in isolated subnets with deletion protection when prod", () => {
    prod.template.hasResourceProperties("AWS::RDS::DBCluster", {
      Engine: "aurora-postgresql",
      StorageEncrypted: true,
      DeletionProtection: true,
      EnableIAMDatabaseAuthentication: true,
      ServerlessV2ScalingConfiguration: { MinCapacity: prodConfig.database.minCapacityAcu, MaxCapacity: prodConfig.database.maxCapacityAcu },
      MasterUserPassword: Match.objectLike({ "Fn::Join": Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp("resolve:secretsmanager")])]) }),
    });
  });

  test("should put an RDS Proxy that requires TLS in front of the cluster, authenticated from the generated secret", () => {
    prod.template.hasResourceProperties("AWS::RDS::DBProxy", {
      EngineFamily: "POSTGRESQL",
      RequireTLS: true,
      Auth: [Match.objectLike({ AuthScheme: "SECRETS", SecretArn: ref(prod.stack, prod.stack.database.secret) })],
    });
    prod.template.hasResourceProperties("AWS::SecretsManager::Secret", {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: "password", ExcludeCharacters: Match.stringLikeRegexp("@") }),
    });
  });

  test("should admit only the proxy and the migration task to the cluster's port when synthesised", () => {
    const clusterSgId = prod.stack.getLogicalId(prod.stack.node.findChild("Database").node.findChild("ClusterSg").node.defaultChild as CfnElement);
    const ingress = Object.values(prod.template.findResources("AWS::EC2::SecurityGroupIngress"))
      .filter((r) => JSON.stringify(r["Properties"]["GroupId"]).includes(clusterSgId));
    const sources = [...new Set(ingress.map((r) => r["Properties"]["SourceSecurityGroupId"]["Fn::GetAtt"][0] as string))].sort();
    assert.equal(sources.length, 2, sources.join());
    assert.ok(sources[0]!.startsWith("DatabaseProxySg") && sources[1]!.startsWith("MigrationSg"), sources.join());
    for (const r of ingress) assert.equal(r["Properties"]["CidrIp"], undefined);
  });
});

describe("object bucket", () => {
  test("should encrypt with KMS, version, block public access and enforce TLS when synthesised", () => {
    const data = prod.stack.objects.bucket;
    for (const { stack, template } of [prod, dev]) assertBucketEncryptedWithKms(template, stack);
    prod.template.hasResourceProperties("AWS::S3::Bucket", {
      VersioningConfiguration: { Status: "Enabled" },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: Match.objectLike({ DestinationBucketName: Match.anyValue() }),
    });
    prod.template.hasResourceProperties("AWS::S3::BucketPolicy", {
      Bucket: ref(prod.stack, data),
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]) },
    });
  });

  test("should expire raw uploads by their tag and abort stale multipart uploads after the configured days", () => {
    for (const [{ stack, template }, name] of [[prod, "prod"], [dev, "dev"]] as const) assertUploadsExpire(template, stack, environments[name]!.bucket);
    // The tag the rule selects is the one the S3 adapter's presigned PUTs carry.
    assert.deepEqual(UPLOAD_TAG, UPLOAD_OBJECT_TAG);
    prod.template.hasResourceProperties("AWS::S3::Bucket", {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: LIFECYCLE_RULE_IDS.deleteMarkers, ExpiredObjectDeleteMarker: true, Status: "Enabled" })]) },
    });
  });

  test("should abort stale multipart uploads, tier current objects and expire old versions when synthesised", () => {
    prod.template.hasResourceProperties("AWS::S3::Bucket", {
      LifecycleConfiguration: { Rules: Match.arrayWith([
        Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: prodConfig.bucket.incompleteMultipartUploadDays }, Status: "Enabled" }),
        Match.objectLike({ Transitions: [{ StorageClass: "INTELLIGENT_TIERING", TransitionInDays: prodConfig.bucket.intelligentTieringAfterDays }] }),
        Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: prodConfig.bucket.noncurrentVersionExpirationDays } }),
      ]) },
    });
  });
});

describe("task queue", () => {
  test("should dead-letter a message after 3 receives when synthesised", () => {
    for (const { stack, template } of [prod, dev]) assertTaskQueueDeadLetters(template, stack, 3);
    prod.template.hasResourceProperties("AWS::SQS::Queue", { MessageRetentionPeriod: 14 * 86_400, SqsManagedSseEnabled: true });
  });

  test("should give workers the queue's own visibility timeout and redrive count, so their heartbeat (half of it) lands in time", () => {
    for (const [{ stack, template }, taskPrefix] of [[prod, "GpuWorkersTask"], [dev, "CpuWorkersTask"]] as const) {
      const queue = resourceByPrefix(template, "AWS::SQS::Queue", idOf(stack, stack.tasks.queue));
      const env = containerEnvironment(resourceByPrefix(template, "AWS::ECS::TaskDefinition", taskPrefix).props);
      assert.equal(Number(env["SQS_VISIBILITY_TIMEOUT_SECONDS"]), queue.props["VisibilityTimeout"]);
      assert.equal(Number(env["SQS_MAX_RECEIVE_COUNT"]), queue.props["RedrivePolicy"]["maxReceiveCount"]);
      assert.ok(!("SQS_HEARTBEAT_SECONDS" in env), "the heartbeat is derived from the visibility timeout, not configured");
    }
  });

  test("should deny non-TLS access to both queues when synthesised", () => {
    const policies = Object.values(prod.template.findResources("AWS::SQS::QueuePolicy"));
    assert.equal(policies.length, 2);
    for (const p of policies) assert.match(JSON.stringify(p["Properties"]["PolicyDocument"]), /"aws:SecureTransport":"false"/);
  });
});

describe("GraphQL API on Lambda", () => {
  test("should pass configuration and secret ARNs, never secret values, in the function environment", () => {
    const fn = resourceByPrefix(prod.template, "AWS::Lambda::Function", idOf(prod.stack, prod.stack.api.handler));
    const env = fn.props["Environment"]["Variables"] as Record<string, unknown>;
    assert.equal(env["OBJECT_STORE"], "s3");
    assert.deepEqual(env["S3_BUCKET"], ref(prod.stack, prod.stack.objects.bucket));
    assert.deepEqual(env["SQS_QUEUE_URL"], ref(prod.stack, prod.stack.tasks.queue));
    assert.deepEqual(env["DATABASE_SECRET_ARN"], ref(prod.stack, prod.stack.database.secret));
    assert.deepEqual(env["DATABASE_PROXY_HOST"], { "Fn::GetAtt": [idOf(prod.stack, prod.stack.database.proxy), "Endpoint"] });
    assert.deepEqual(env["JWT_SECRET_ARN"], ref(prod.stack, prod.stack.jwtSecret));
    assert.deepEqual(env["DICOM_UID_SECRET_ARN"], ref(prod.stack, prod.stack.dicomUidSecret));
    assert.equal(env["GRAPHQL_INTROSPECTION"], "false");
    assert.ok(!("AWS_REGION" in env), "the Lambda runtime sets AWS_REGION itself");
    for (const secretName of ["DATABASE_URL", "JWT_SECRET", "DICOM_UID_SECRET", "DB_PASSWORD"]) assert.ok(!(secretName in env), `${secretName} must not be in the function configuration`);
    assert.doesNotMatch(JSON.stringify(env), /resolve:secretsmanager/);
  });

  test("should give the API its own generated DICOM UID key, readable by the API's role alone", () => {
    for (const { stack, template } of [prod, dev]) assertDicomUidSecretForApiOnly(template, stack);
    // Retained with the data in prod: a new key would map later imports of a source series to other UIDs.
    assert.equal(prod.template.findResources("AWS::SecretsManager::Secret")[idOf(prod.stack, prod.stack.dicomUidSecret)]!["DeletionPolicy"], "Retain");
    for (const fn of [prod.stack.websocket.handler, prod.stack.outboxRelay.handler]) {
      const env = resourceByPrefix(prod.template, "AWS::Lambda::Function", idOf(prod.stack, fn)).props["Environment"]["Variables"] as Record<string, unknown>;
      assert.ok(!("DICOM_UID_SECRET_ARN" in env), `${idOf(prod.stack, fn)} does not import studies`);
    }
  });

  test("should run the API image in private subnets with tracing when synthesised", () => {
    prod.template.hasResourceProperties("AWS::Lambda::Function", {
      PackageType: "Image",
      ImageConfig: { Command: ["lambda.handler"] },
      TracingConfig: { Mode: "Active" },
      Timeout: prodConfig.api.timeoutSeconds,
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() }),
    });
  });

  test("should route every HTTP request to the function through a throttled, access-logged $default stage", () => {
    prod.template.hasResourceProperties("AWS::ApiGatewayV2::Api", {
      ProtocolType: "HTTP",
      CorsConfiguration: Match.objectLike({ AllowOrigins: prodConfig.bucket.corsAllowedOrigins, AllowHeaders: Match.arrayWith(["authorization", "x-api-key"]) }),
    });
    prod.template.hasResourceProperties("AWS::ApiGatewayV2::Route", { ApiId: ref(prod.stack, prod.stack.api.httpApi), RouteKey: "$default" });
    prod.template.hasResourceProperties("AWS::ApiGatewayV2::Integration", { ApiId: ref(prod.stack, prod.stack.api.httpApi), IntegrationType: "AWS_PROXY", PayloadFormatVersion: "2.0" });
    prod.template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      ApiId: ref(prod.stack, prod.stack.api.httpApi),
      StageName: "$default",
      DefaultRouteSettings: { ThrottlingRateLimit: prodConfig.api.throttleRatePerSecond, ThrottlingBurstLimit: prodConfig.api.throttleBurst },
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });
});

describe("WebSocket API", () => {
  test("should route $connect, $disconnect and $default (messages) to the WebSocket function", () => {
    const apiRef = ref(prod.stack, prod.stack.websocket.api);
    prod.template.hasResourceProperties("AWS::ApiGatewayV2::Api", { ProtocolType: "WEBSOCKET" });
    const routes = Object.values(prod.template.findResources("AWS::ApiGatewayV2::Route", { Properties: { ApiId: apiRef } }))
      .map((r) => r["Properties"]["RouteKey"]).sort();
    assert.deepEqual(routes, ["$connect", "$default", "$disconnect"]);
    const integrations = Object.values(prod.template.findResources("AWS::ApiGatewayV2::Integration", { Properties: { ApiId: apiRef } }));
    assert.equal(integrations.length, 3);
    for (const i of integrations) assert.match(JSON.stringify(i["Properties"]["IntegrationUri"]), new RegExp(idOf(prod.stack, prod.stack.websocket.handler)));
    prod.template.hasResourceProperties("AWS::Lambda::Function", { ImageConfig: { Command: ["lambda-websocket.handler"] } });
  });

  test("should give the WebSocket function and the workers the stage's management endpoint as APIGW_MANAGEMENT_ENDPOINT", () => {
    const callbackUrl = prod.stack.resolve(prod.stack.websocket.stage.callbackUrl);
    const fn = resourceByPrefix(prod.template, "AWS::Lambda::Function", idOf(prod.stack, prod.stack.websocket.handler));
    assert.deepEqual(fn.props["Environment"]["Variables"]["APIGW_MANAGEMENT_ENDPOINT"], callbackUrl);
    assert.deepEqual(containerEnvironment(resourceByPrefix(prod.template, "AWS::ECS::TaskDefinition", "GpuWorkersTask").props)["APIGW_MANAGEMENT_ENDPOINT"], callbackUrl);
    assert.match(JSON.stringify(callbackUrl), /^\{"Fn::Join":\["",\["https:\/\/",.*\/live"\]\]\}$/);
  });

  test("should give the API function the stage's wss URL as VIEWER_STREAM_URL, for the web viewer it serves", () => {
    for (const { stack, template } of [prod, dev]) {
      const url = stack.resolve(stack.websocket.stage.url);
      const fn = resourceByPrefix(template, "AWS::Lambda::Function", idOf(stack, stack.api.handler));
      assert.deepEqual(fn.props["Environment"]["Variables"]["VIEWER_STREAM_URL"], url);
      assert.match(JSON.stringify(url), /^\{"Fn::Join":\["",\["wss:\/\/",.*\/live"\]\]\}$/);
    }
  });

  test("should sweep registrations older than API Gateway's 2 h connection limit on a schedule, through the WebSocket function", () => {
    for (const { stack, template } of [prod, dev]) assertRegistryCleanupScheduled(template, stack);
    // The rule's event is the one the handler recognises, and a stale row outlives its connection by one period at most.
    assert.deepEqual(REGISTRY_CLEANUP_INPUT, REGISTRY_CLEANUP_EVENT);
    assert.ok(REGISTRY_CLEANUP_PERIOD.toSeconds() < MAX_CONNECTION_SECONDS);
    prod.template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", { FunctionName: ref(prod.stack, prod.stack.websocket.handler), MaximumRetryAttempts: 0 });
  });

  test("should let the WebSocket function and the workers post to connections of this stage only", () => {
    for (const roleId of [idOf(prod.stack, prod.stack.websocket.handler.role!), idOf(prod.stack, prod.stack.workers.taskDefinition.taskRole)]) {
      const manage = statementsOfRole(prod.template, roleId).filter((s) => actionsOf(s).includes("execute-api:ManageConnections"));
      assert.equal(manage.length, 1, roleId);
      assert.match(JSON.stringify(manage[0]!.Resource), /\/live\/\*\/@connections\/\*/);
    }
  });
});

describe("GPU workers (prod)", () => {
  test("should reserve one GPU per task on EC2 capacity from a zero-minimum group of GPU instances", () => {
    prod.template.hasResourceProperties("AWS::ECS::TaskDefinition", {
      RequiresCompatibilities: ["EC2"],
      ContainerDefinitions: [Match.objectLike({ ResourceRequirements: [{ Type: "GPU", Value: "1" }], Secrets: Match.arrayWith([Match.objectLike({ Name: "DB_PASSWORD" })]) })],
    });
    prod.template.hasResourceProperties("AWS::AutoScaling::AutoScalingGroup", { MinSize: "0", MaxSize: String((prodConfig.workers as { maxInstances: number }).maxInstances), NewInstancesProtectedFromScaleIn: true });
    prod.template.hasResourceProperties("AWS::ECS::CapacityProvider", { AutoScalingGroupProvider: Match.objectLike({ ManagedScaling: Match.objectLike({ Status: "ENABLED", TargetCapacity: 100 }), ManagedTerminationProtection: "ENABLED" }) });
    prod.template.hasResourceProperties("AWS::EC2::LaunchTemplate", { LaunchTemplateData: Match.objectLike({
      InstanceType: "g5.xlarge",
      MetadataOptions: Match.objectLike({ HttpTokens: "required" }),
      BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true }) })],
    }) });
    assert.match(JSON.stringify(prod.template.toJSON()["Parameters"]), /amazon-linux-2\/gpu\/recommended/);
    prod.template.hasResourceProperties("AWS::ECS::Service", { DesiredCount: 0, CapacityProviderStrategy: [Match.objectLike({ Weight: 1 })] });
  });

  test("should ask ONNX Runtime for CUDA first and CPU as the fallback when the workers are GPU", () => {
    const env = containerEnvironment(resourceByPrefix(prod.template, "AWS::ECS::TaskDefinition", "GpuWorkersTask").props);
    assert.equal(env["ORT_EXECUTION_PROVIDERS"], "cuda,cpu");
  });

  test("should scale from zero to maxTasks with exact-capacity steps on visible + in-flight messages", () => {
    prod.template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", { MinCapacity: 0, MaxCapacity: prodConfig.scaling.maxTasks, ScalableDimension: "ecs:service:DesiredCount" });
    const policies = Object.values(prod.template.findResources("AWS::ApplicationAutoScaling::ScalingPolicy"));
    assert.equal(policies.length, 2);
    const adjustments = policies.flatMap((p) => {
      assert.equal(p["Properties"]["PolicyType"], "StepScaling");
      assert.equal(p["Properties"]["StepScalingPolicyConfiguration"]["AdjustmentType"], "ExactCapacity");
      return p["Properties"]["StepScalingPolicyConfiguration"]["StepAdjustments"].map((s: { ScalingAdjustment: number }) => s.ScalingAdjustment);
    }).sort((a: number, b: number) => a - b);
    const expected = queueDepthSteps(prodConfig.scaling.messagesPerTask, prodConfig.scaling.maxTasks).map((s) => s.tasks).sort((a, b) => a - b);
    assert.deepEqual(adjustments, expected);
    assert.equal(adjustments[0], 0);
    assert.equal(adjustments.at(-1), prodConfig.scaling.maxTasks);
    const alarms = Object.values(prod.template.findResources("AWS::CloudWatch::Alarm")).filter((a) => JSON.stringify(a).includes("visible + inflight"));
    assert.equal(alarms.length, 2);
    for (const a of alarms) {
      const metricNames = (a["Properties"]["Metrics"] as { MetricStat?: { Metric: { MetricName: string; Dimensions: unknown } } }[])
        .flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : [])).sort();
      assert.deepEqual(metricNames, ["ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesVisible"]);
      assert.match(JSON.stringify(a["Properties"]["Metrics"]), new RegExp(`"Name":"QueueName","Value":\\{"Fn::GetAtt":\\["${idOf(prod.stack, prod.stack.tasks.queue)}","QueueName"\\]`));
    }
  });
});

describe("CPU workers (dev)", () => {
  test("should run Fargate tasks without GPUs and without EC2 instances when the environment is dev", () => {
    dev.template.hasResourceProperties("AWS::ECS::TaskDefinition", { RequiresCompatibilities: ["FARGATE"], ContainerDefinitions: [Match.objectLike({ Name: "worker", ResourceRequirements: Match.absent() })] });
    dev.template.resourceCountIs("AWS::AutoScaling::AutoScalingGroup", 0);
    dev.template.hasResourceProperties("AWS::ECS::Service", { LaunchType: "FARGATE", DesiredCount: 0 });
    dev.template.hasResourceProperties("AWS::ApplicationAutoScaling::ScalableTarget", { MinCapacity: 0, MaxCapacity: environments["dev"]!.scaling.maxTasks });
    const env = containerEnvironment(resourceByPrefix(dev.template, "AWS::ECS::TaskDefinition", "CpuWorkersTask").props);
    assert.equal(env["ORT_EXECUTION_PROVIDERS"], "cpu");
  });
});

describe("least-privilege IAM", () => {
  test("should let only the API and the scheduled relay send tasks, to the task queue only", () => {
    for (const { stack, template } of [prod, dev]) assertOnlyRelaysSendTasks(template, stack);
  });

  test("should keep workers from relaying the outbox, since they may not send", () => {
    for (const [{ template }, taskPrefix] of [[prod, "GpuWorkersTask"], [dev, "CpuWorkersTask"]] as const) {
      assert.equal(containerEnvironment(resourceByPrefix(template, "AWS::ECS::TaskDefinition", taskPrefix).props)["WORKER_RELAY_OUTBOX"], "false");
    }
  });

  test("should let workers consume the task queue and read/write objects under orgs/ only", () => {
    const statements = statementsOfRole(prod.template, idOf(prod.stack, prod.stack.workers.taskDefinition.taskRole));
    const actions = statements.flatMap(actionsOf);
    for (const a of ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "s3:GetObject", "s3:PutObject"]) assert.ok(actions.includes(a), a);
    for (const a of ["sqs:SendMessage", "s3:DeleteObject", "secretsmanager:GetSecretValue"]) assert.ok(!actions.includes(a), `workers must not have ${a}`);
    const sqs = statements.find((s) => actionsOf(s).includes("sqs:ReceiveMessage"))!;
    assert.deepEqual(sqs.Resource, arnOf(prod.stack, prod.stack.tasks.queue));
    const objects = statements.find((s) => actionsOf(s).includes("s3:PutObject"))!;
    assert.match(JSON.stringify(objects.Resource), /\/orgs\/\*"/);
  });

  test("should let the API send tasks, read its three secrets and manage objects, but not consume the queue", () => {
    const statements = statementsOfRole(prod.template, idOf(prod.stack, prod.stack.api.handler.role!));
    const actions = statements.flatMap(actionsOf);
    for (const a of ["sqs:SendMessage", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "secretsmanager:GetSecretValue"]) assert.ok(actions.includes(a), a);
    assert.ok(!actions.includes("sqs:ReceiveMessage") && !actions.includes("sqs:DeleteMessage"));
    const secretResources = statements.filter((s) => actionsOf(s).includes("secretsmanager:GetSecretValue")).map((s) => JSON.stringify(s.Resource)).sort();
    assert.equal(secretResources.length, 3);
    for (const secret of [prod.stack.database.secret, prod.stack.jwtSecret, prod.stack.dicomUidSecret]) {
      assert.ok(secretResources.some((r) => r.includes(idOf(prod.stack, secret))), idOf(prod.stack, secret));
    }
  });

  test("should grant no wildcard actions and no `*` resource outside the documented service exceptions", () => {
    const unscopable = /^(xray:PutTraceSegments|xray:PutTelemetryRecords|ecr:GetAuthorizationToken|ec2:(Describe|Create|Delete)\w*|ecs:(DiscoverPollEndpoint|Poll|StartTelemetrySession|Submit\*|RegisterContainerInstance|DeregisterContainerInstance)|logs:\w+|ec2:AuthorizeSecurityGroup\w+|ec2:RevokeSecurityGroup\w+)$/;
    for (const template of [prod.template, dev.template]) {
      for (const { policyId, statement } of allStatements(template)) {
        for (const action of actionsOf(statement)) assert.ok(!/^[a-z0-9-]+:\*$|^\*$/.test(action), `${policyId} grants ${action}`);
        if (statement.Resource === "*") for (const action of actionsOf(statement)) assert.match(action, unscopable, `${policyId}: ${action} on *`);
      }
    }
  });

  test("should let the migration trigger run only the migration task definition in this cluster", () => {
    const statements = statementsOfRole(prod.template, idOf(prod.stack, prod.stack.node.findChild("Migration").node.findChild("RunTask").node.findChild("ServiceRole")));
    const runTask = statements.find((s) => actionsOf(s).includes("ecs:RunTask"))!;
    assert.deepEqual(runTask.Resource, ref(prod.stack, prod.stack.migration.taskDefinition));
    assert.match(JSON.stringify(runTask.Condition), /ecs:cluster/);
    const passRole = statements.find((s) => actionsOf(s).includes("iam:PassRole"))!;
    assert.equal((passRole.Resource as unknown[]).length, 2);
  });
});

describe("migrations on deploy", () => {
  test("should run db-migrate as a Fargate task from a trigger that waits for it, before the API and workers change", () => {
    prod.template.hasResourceProperties("AWS::ECS::TaskDefinition", {
      RequiresCompatibilities: ["FARGATE"],
      ContainerDefinitions: [Match.objectLike({ Name: "migrate", Command: ["node", "--import", "tsx", "app/db-migrate.ts"] })],
    });
    prod.template.hasResourceProperties("Custom::Trigger", { InvocationType: "RequestResponse", ExecuteOnHandlerChange: true });
    const fn = resourceByPrefix(prod.template, "AWS::Lambda::Function", "MigrationRunTask");
    assert.deepEqual(fn.props["Environment"]["Variables"]["TASK_DEFINITION_ARN"], ref(prod.stack, prod.stack.migration.taskDefinition));
    // The image hash (not a Ref) is what changes the function version, and so re-runs the trigger.
    assert.match(String(fn.props["Environment"]["Variables"]["MIGRATION_IMAGE_HASH"]), /^[0-9a-f]{64}$/);
    const trigger = resourceByPrefix(prod.template, "Custom::Trigger", "MigrationTrigger");
    assert.match(JSON.stringify(trigger.props["HandlerArn"]), /MigrationRunTaskCurrentVersion/);
    const migrationEnv = containerEnvironment(resourceByPrefix(prod.template, "AWS::ECS::TaskDefinition", "MigrationTask").props);
    assert.deepEqual(migrationEnv["DB_HOST"], { "Fn::GetAtt": [idOf(prod.stack, prod.stack.database.cluster), "Endpoint.Address"] });
    const triggerId = resourceByPrefix(prod.template, "Custom::Trigger", "MigrationTrigger").id;
    for (const dependent of [prod.stack.api.handler, prod.stack.websocket.handler, prod.stack.outboxRelay.handler, prod.stack.workers.service]) {
      const r = resourceByPrefix(prod.template, (dependent.node.defaultChild as CfnElement & { cfnResourceType: string }).cfnResourceType, idOf(prod.stack, dependent));
      assert.ok(r.dependsOn.includes(triggerId), `${r.id} must depend on ${triggerId}`);
    }
  });
});

describe("scheduled outbox relay", () => {
  test("should run the relay handler every minute, one invocation at a time, without retries, within the period", () => {
    const fnId = idOf(prod.stack, prod.stack.outboxRelay.handler);
    const fn = resourceByPrefix(prod.template, "AWS::Lambda::Function", fnId);
    assert.deepEqual(fn.props["ImageConfig"], { Command: ["lambda-outbox-relay.handler"] });
    assert.equal(fn.props["ReservedConcurrentExecutions"], 1);
    assert.ok(fn.props["Timeout"] < 60, `timeout ${fn.props["Timeout"]} s`);
    assert.ok(fn.props["VpcConfig"]);
    prod.template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", { FunctionName: { Ref: fnId }, MaximumRetryAttempts: 0 });
    prod.template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(1 minute)",
      State: "ENABLED",
      Targets: [Match.objectLike({ Arn: arnOf(prod.stack, prod.stack.outboxRelay.handler), RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 0 }) })],
    });
  });

  test("should leave rows younger than the API's timeout to the API Lambda that is sending them", () => {
    const fn = resourceByPrefix(prod.template, "AWS::Lambda::Function", idOf(prod.stack, prod.stack.outboxRelay.handler));
    const env = fn.props["Environment"]["Variables"] as Record<string, unknown>;
    assert.ok(Number(env["OUTBOX_RELAY_MIN_AGE_SECONDS"]) > prodConfig.api.timeoutSeconds, String(env["OUTBOX_RELAY_MIN_AGE_SECONDS"]));
    assert.deepEqual(env["SQS_QUEUE_URL"], ref(prod.stack, prod.stack.tasks.queue));
    assert.ok(env["DATABASE_SECRET_ARN"] && !("JWT_SECRET_ARN" in env), "the relay reads the database secret only");
    const secrets = statementsOfRole(prod.template, idOf(prod.stack, prod.stack.outboxRelay.handler.role!)).filter((s) => actionsOf(s).includes("secretsmanager:GetSecretValue"));
    assert.deepEqual(secrets.map((s) => s.Resource), [ref(prod.stack, prod.stack.database.secret)]);
  });
});

describe("monitoring", () => {
  test("should alarm on any dead letter, an old oldest message, the API 5xx rate and a failing outbox relay, notifying the encrypted topic", () => {
    const topic = ref(prod.stack, prod.stack.monitoring.topic);
    prod.template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
    prod.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [idOf(prod.stack, prod.stack.tasks.deadLetterQueue), "QueueName"] } }],
      Threshold: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold", AlarmActions: [topic],
    });
    prod.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateAgeOfOldestMessage",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [idOf(prod.stack, prod.stack.tasks.queue), "QueueName"] } }],
      Threshold: prodConfig.alarms.oldestMessageAgeSeconds, ComparisonOperator: "GreaterThanThreshold", AlarmActions: [topic],
    });
    prod.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Threshold: prodConfig.alarms.api5xxRatePercent, AlarmActions: [topic],
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: "IF(requests > 0, 100 * errors / requests, 0)" }),
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: "AWS/ApiGateway", MetricName: "5xx" }) }) }),
        Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: "AWS/ApiGateway", MetricName: "Count" }) }) }),
      ]),
    });
    prod.template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "Errors", Namespace: "AWS/Lambda",
      Dimensions: [{ Name: "FunctionName", Value: ref(prod.stack, prod.stack.outboxRelay.handler) }],
      Threshold: 1, EvaluationPeriods: 3, DatapointsToAlarm: 3, AlarmActions: [topic],
    });
    prod.template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
  });
});

describe("cdk-nag acknowledgements", () => {
  test("should justify every acknowledged AwsSolutions finding with a reason of at least one sentence", () => {
    const acknowledged = [prod.stack, dev.stack].flatMap((stack) => stack.node.findAll().flatMap((c) => c.node.metadata
      .filter((m) => m.type === "aws:cdk:acknowledged-rules")
      .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason })))));
    const ours = acknowledged.filter((a) => a.id.includes("AwsSolutions-"));
    assert.ok(ours.length >= 10, `${ours.length} acknowledgements`);
    for (const a of ours) assert.ok(a.reason.trim().length >= 40 && /[.;:]/.test(a.reason), `${a.path} ${a.id}: "${a.reason}"`);
    // No blanket acknowledgement of a whole granular rule: IAM4/IAM5 are acknowledged per finding.
    for (const a of ours) assert.doesNotMatch(a.id, /AwsSolutions-IAM[45]$/, `${a.path} acknowledges all of ${a.id}`);
  });
});
