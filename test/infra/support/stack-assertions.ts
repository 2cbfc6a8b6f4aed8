// Named template assertions: the stack tests run them on the shipped stacks, and the mutation tests
// (assertion-mutations.test.ts) show that each one throws once the property it guards is removed.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { CfnElement, Stack } from "aws-cdk-lib";
import type { Template } from "aws-cdk-lib/assertions";
import type { IConstruct } from "constructs";
import { envSchema } from "../../../app/config/env-schema.ts";
import {
  API_LAMBDA_OPTIONAL_VARIABLES, API_LAMBDA_VARIABLES, OUTBOX_RELAY_OPTIONAL_VARIABLES, OUTBOX_RELAY_VARIABLES,
  WEBSOCKET_LAMBDA_OPTIONAL_VARIABLES, WEBSOCKET_LAMBDA_VARIABLES,
} from "../../../app/lambda/lambda-environment.ts";
import { WORKER_OPTIONAL_VARIABLES, WORKER_VARIABLES } from "../../../app/worker/worker-environment.ts";
import { REPOSITORY_ROOT } from "../../../infra/lib/constructs/application-images.ts";
import { LIFECYCLE_RULE_IDS, UPLOAD_TAG } from "../../../infra/lib/constructs/object-bucket.ts";
import { REGISTRY_CLEANUP_INPUT, REGISTRY_CLEANUP_PERIOD } from "../../../infra/lib/constructs/websocket-api.ts";
import type { CoinsegStack } from "../../../infra/lib/coinseg-stack.ts";
import type { EnvironmentConfig } from "../../../infra/lib/config/environment-config.ts";
import { parseDockerfile } from "./dockerfile-checklist.ts";
import { actionsOf, allStatements, statementsOfRole } from "./template-queries.ts";

const idOf = (stack: Stack, c: IConstruct) => stack.getLogicalId(c.node.defaultChild as CfnElement);
const arnOf = (stack: Stack, c: IConstruct) => ({ "Fn::GetAtt": [idOf(stack, c), "Arn"] });

/** The task queue sends a message to its dead-letter queue after `maxReceiveCount` receives, encrypted. */
export function assertTaskQueueDeadLetters(template: Template, stack: CoinsegStack, maxReceiveCount = 3): void {
  const queue = template.findResources("AWS::SQS::Queue")[idOf(stack, stack.tasks.queue)];
  assert.ok(queue, "the task queue is in the template");
  assert.deepEqual(queue["Properties"]["RedrivePolicy"], { deadLetterTargetArn: arnOf(stack, stack.tasks.deadLetterQueue), maxReceiveCount }, "task queue redrive policy");
  assert.equal(queue["Properties"]["SqsManagedSseEnabled"], true, "task queue encryption");
}

/** The object bucket encrypts with its own customer-managed KMS key (rotated). */
export function assertBucketEncryptedWithKms(template: Template, stack: CoinsegStack): void {
  const bucket = template.findResources("AWS::S3::Bucket")[idOf(stack, stack.objects.bucket)];
  assert.ok(bucket, "the object bucket is in the template");
  const rules = bucket["Properties"]["BucketEncryption"]?.["ServerSideEncryptionConfiguration"] as { ServerSideEncryptionByDefault?: unknown }[] | undefined;
  assert.deepEqual(rules?.map((r) => r.ServerSideEncryptionByDefault), [{ SSEAlgorithm: "aws:kms", KMSMasterKeyID: arnOf(stack, stack.objects.key) }], "bucket default encryption");
  const key = template.findResources("AWS::KMS::Key")[idOf(stack, stack.objects.key)];
  assert.equal(key?.["Properties"]["EnableKeyRotation"], true, "bucket key rotation");
}

/**
 * `sqs:SendMessage` is granted to exactly the two outbox relays — the API Lambda (its own job's tasks)
 * and the scheduled relay Lambda — and only on the task queue: not to workers, not to the WebSocket Lambda.
 */
export function assertOnlyRelaysSendTasks(template: Template, stack: CoinsegStack): void {
  const expectedRoles = [stack.api.handler.role!, stack.outboxRelay.handler.role!].map((r) => idOf(stack, r)).sort();
  const policies = template.findResources("AWS::IAM::Policy");
  const senders = allStatements(template).filter(({ statement }) => statement.Effect === "Allow" && actionsOf(statement).some((a) => a === "sqs:SendMessage" || a === "sqs:*"));
  const roles = senders.flatMap(({ policyId }) => (policies[policyId]!["Properties"]["Roles"] as { Ref: string }[]).map((r) => r.Ref)).sort();
  assert.deepEqual(roles, expectedRoles, "roles allowed sqs:SendMessage");
  for (const { policyId, statement } of senders) assert.deepEqual(statement.Resource, arnOf(stack, stack.tasks.queue), `${policyId} may send to the task queue only`);
}

/**
 * The key of the DICOM UID mapping is a Secrets Manager secret generated at deploy time (no value in
 * the template, at least 32 characters), named to the API Lambda by ARN only (DICOM_UID_SECRET_ARN;
 * no function carries DICOM_UID_SECRET itself), and `secretsmanager:GetSecretValue` on it is granted
 * to the API Lambda's role alone.
 */
export function assertDicomUidSecretForApiOnly(template: Template, stack: CoinsegStack): void {
  const secretId = idOf(stack, stack.dicomUidSecret);
  const secret = template.findResources("AWS::SecretsManager::Secret")[secretId];
  assert.ok(secret, "the DICOM UID secret is in the template");
  assert.equal(secret["Properties"]["SecretString"], undefined, "DICOM UID secret value in the template");
  assert.ok(Number(secret["Properties"]["GenerateSecretString"]?.["PasswordLength"]) >= 32, "DICOM UID secret generated with at least 32 characters");
  const functions = template.findResources("AWS::Lambda::Function");
  assert.deepEqual(functions[idOf(stack, stack.api.handler)]?.["Properties"]["Environment"]["Variables"]["DICOM_UID_SECRET_ARN"], { Ref: secretId }, "API Lambda DICOM_UID_SECRET_ARN");
  for (const [id, fn] of Object.entries(functions)) assert.ok(!("DICOM_UID_SECRET" in (fn["Properties"]["Environment"]?.["Variables"] ?? {})), `${id} carries DICOM_UID_SECRET in clear text`);
  const policies = template.findResources("AWS::IAM::Policy");
  const coversSecret = (resource: unknown) => resource === "*" || JSON.stringify(resource).includes(`"${secretId}"`);
  const readers = allStatements(template).filter(({ statement }) => statement.Effect === "Allow"
    && actionsOf(statement).some((a) => a === "secretsmanager:GetSecretValue" || a === "secretsmanager:*") && coversSecret(statement.Resource));
  const roles = readers.flatMap(({ policyId }) => (policies[policyId]!["Properties"]["Roles"] as { Ref: string }[]).map((r) => r.Ref)).sort();
  assert.deepEqual(roles, [idOf(stack, stack.api.handler.role!)], "roles allowed to read the DICOM UID secret");
}

/**
 * Raw uploads cannot stay forever: the object bucket has an enabled lifecycle rule that expires
 * objects tagged {@link UPLOAD_TAG} (no prefix: the organisation id precedes `uploads/` in the key)
 * after `uploadExpirationDays`, and their non-current versions within `noncurrentVersionExpirationDays`;
 * an enabled bucket-wide rule aborts incomplete multipart uploads after `incompleteMultipartUploadDays`;
 * and the API Lambda, which signs the tagged PUTs, may tag upload keys (s3:PutObjectTagging on
 * upload keys, UPLOAD_KEY_PATTERN, nothing wider).
 */
export function assertUploadsExpire(template: Template, stack: CoinsegStack, bucket: EnvironmentConfig["bucket"]): void {
  const rules = (template.findResources("AWS::S3::Bucket")[idOf(stack, stack.objects.bucket)]?.["Properties"]["LifecycleConfiguration"]?.["Rules"] ?? []) as Record<string, any>[];
  const uploads = rules.find((r) => r["Id"] === LIFECYCLE_RULE_IDS.uploads);
  assert.deepEqual(
    uploads && { status: uploads["Status"], prefix: uploads["Prefix"], tags: uploads["TagFilters"], days: uploads["ExpirationInDays"] },
    { status: "Enabled", prefix: undefined, tags: [{ Key: UPLOAD_TAG.key, Value: UPLOAD_TAG.value }], days: bucket.uploadExpirationDays },
    "upload expiry rule",
  );
  assert.ok(uploads!["NoncurrentVersionExpiration"]?.["NoncurrentDays"] <= bucket.noncurrentVersionExpirationDays, "upload expiry rule: non-current versions");
  const multipart = rules.find((r) => r["Id"] === LIFECYCLE_RULE_IDS.multipart);
  assert.deepEqual(
    multipart && { status: multipart["Status"], prefix: multipart["Prefix"], tags: multipart["TagFilters"], days: multipart["AbortIncompleteMultipartUpload"]?.["DaysAfterInitiation"] },
    { status: "Enabled", prefix: undefined, tags: undefined, days: bucket.incompleteMultipartUploadDays },
    "multipart abort rule",
  );
  const tagging = statementsOfRole(template, idOf(stack, stack.api.handler.role!)).filter((st) => st.Effect === "Allow" && actionsOf(st).includes("s3:PutObjectTagging"));
  assert.equal(tagging.length, 1, "upload tagging grant");
  assert.match(JSON.stringify(tagging[0]!.Resource), /"\/orgs\/\*\/uploads\/\*"\]/, "upload tagging grant: upload keys only");
}

/**
 * Expired WebSocket registrations are swept on a schedule: an enabled EventBridge rule runs every
 * {@link REGISTRY_CLEANUP_PERIOD} with the WebSocket function as its only target and
 * {@link REGISTRY_CLEANUP_INPUT} as the event (without it the function would read an API Gateway
 * event and fail), and EventBridge may invoke the function for that rule.
 */
export function assertRegistryCleanupScheduled(template: Template, stack: CoinsegStack): void {
  const rule = template.findResources("AWS::Events::Rule")[idOf(stack, stack.websocket.registryCleanup)];
  assert.ok(rule, "the registry clean-up rule is in the template");
  const targets = (rule["Properties"]["Targets"] ?? []) as { Arn: unknown; Input?: string }[];
  assert.deepEqual(
    { state: rule["Properties"]["State"], schedule: rule["Properties"]["ScheduleExpression"], targets: targets.map((t) => ({ arn: t.Arn, input: t.Input })) },
    {
      state: "ENABLED", schedule: `rate(${REGISTRY_CLEANUP_PERIOD.toMinutes()} minutes)`,
      targets: [{ arn: arnOf(stack, stack.websocket.handler), input: JSON.stringify(REGISTRY_CLEANUP_INPUT) }],
    },
    "registry clean-up schedule",
  );
  const ruleArn = JSON.stringify(arnOf(stack, stack.websocket.registryCleanup));
  const permissions = Object.values(template.findResources("AWS::Lambda::Permission")).filter((p) => JSON.stringify(p["Properties"]["SourceArn"]) === ruleArn);
  assert.deepEqual(
    permissions.map((p) => [p["Properties"]["Action"], p["Properties"]["Principal"], p["Properties"]["FunctionName"]]),
    [["lambda:InvokeFunction", "events.amazonaws.com", arnOf(stack, stack.websocket.handler)]],
    "registry clean-up invoke permission",
  );
}

/** Variables a bootstrap consumes before the app parses its configuration, with the file that reads them. */
export const BOOTSTRAP_VARIABLES: Readonly<Record<string, { readonly consumer: string; readonly produces?: string }>> = {
  DATABASE_SECRET_ARN: { consumer: "infra/lib/runtime/lambda-secrets-bootstrap.ts", produces: "DATABASE_URL" },
  DATABASE_PROXY_HOST: { consumer: "infra/lib/runtime/lambda-secrets-bootstrap.ts" },
  JWT_SECRET_ARN: { consumer: "infra/lib/runtime/lambda-secrets-bootstrap.ts", produces: "JWT_SECRET" },
  DICOM_UID_SECRET_ARN: { consumer: "infra/lib/runtime/lambda-secrets-bootstrap.ts", produces: "DICOM_UID_SECRET" },
  DB_HOST: { consumer: "infra/docker/worker-entrypoint.sh", produces: "DATABASE_URL" },
  DB_PORT: { consumer: "infra/docker/worker-entrypoint.sh" },
  DB_NAME: { consumer: "infra/docker/worker-entrypoint.sh" },
  DB_USERNAME: { consumer: "infra/docker/worker-entrypoint.sh" },
  DB_PASSWORD: { consumer: "infra/docker/worker-entrypoint.sh" },
};

/** Variables read by the runtime under the app (Node, the NVIDIA container toolkit), not by coinseg. */
export const RUNTIME_VARIABLES: ReadonlySet<string> = new Set(["NODE_OPTIONS", "NODE_ENV", "NODE_EXTRA_CA_CERTS", "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES"]);

/** Which variables each process of the stack parses, keyed by Lambda handler or container name. */
const PROCESSES: Readonly<Record<string, { readonly reads: readonly string[]; readonly alsoRequired?: readonly string[] }>> = {
  "lambda.handler": { reads: [...API_LAMBDA_VARIABLES, ...API_LAMBDA_OPTIONAL_VARIABLES] },
  "lambda-websocket.handler": { reads: [...WEBSOCKET_LAMBDA_VARIABLES, ...WEBSOCKET_LAMBDA_OPTIONAL_VARIABLES], alsoRequired: ["APIGW_MANAGEMENT_ENDPOINT"] },
  "lambda-outbox-relay.handler": { reads: [...OUTBOX_RELAY_VARIABLES, ...OUTBOX_RELAY_OPTIONAL_VARIABLES] },
  worker: { reads: [...WORKER_VARIABLES, ...WORKER_OPTIONAL_VARIABLES] },
  // app/db-migrate.ts parses DATABASE_URL only.
  migrate: { reads: ["DATABASE_URL"] },
};

/** What the stack hands each of its processes: handler or container name → variable names (env + secrets). */
export function processEnvironments(template: Template): { process: string; resource: string; names: string[] }[] {
  const out: { process: string; resource: string; names: string[] }[] = [];
  for (const [id, fn] of Object.entries(template.findResources("AWS::Lambda::Function"))) {
    // Image functions run this repository's code; zip functions are CDK's own (trigger, custom resources).
    if (fn["Properties"]["PackageType"] !== "Image") continue;
    const handler = String(fn["Properties"]["ImageConfig"]?.["Command"]?.[0]);
    out.push({ process: handler, resource: id, names: Object.keys(fn["Properties"]["Environment"]?.["Variables"] ?? {}) });
  }
  for (const [id, task] of Object.entries(template.findResources("AWS::ECS::TaskDefinition"))) {
    for (const c of task["Properties"]["ContainerDefinitions"] as { Name: string; Environment?: { Name: string }[]; Secrets?: { Name: string }[] }[]) {
      out.push({ process: c.Name, resource: `${id}/${c.Name}`, names: [...(c.Environment ?? []), ...(c.Secrets ?? [])].map((e) => e.Name) });
    }
  }
  return out;
}

/** True when the variable has no default and is not optional in the config schema. */
function requiredBySchema(name: string): boolean {
  const field = (envSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>)[name];
  return !!field && !field.safeParse(undefined).success;
}

/**
 * Every variable the stack sets on an app Lambda or ECS container is one app/config/env-schema.ts
 * knows and that process parses, or a documented bootstrap/runtime variable; every variable the
 * process requires is set (or produced by its bootstrap). Returns the problems, one line each.
 */
export function environmentProblems(template: Template): string[] {
  const problems: string[] = [];
  const schema = new Set(Object.keys(envSchema.shape));
  for (const { process, resource, names } of processEnvironments(template)) {
    const spec = PROCESSES[process];
    if (!spec) {
      problems.push(`${resource}: unknown process ${process} (add it to PROCESSES with the variables its entry point parses)`);
      continue;
    }
    const given = new Set(names);
    for (const name of names) {
      if (BOOTSTRAP_VARIABLES[name] || RUNTIME_VARIABLES.has(name)) continue;
      if (!schema.has(name)) problems.push(`${resource} (${process}): ${name} is not in app/config/env-schema.ts`);
      else if (!spec.reads.includes(name)) problems.push(`${resource} (${process}): ${name} is set but ${process} does not parse it`);
    }
    const produced = new Set(names.flatMap((n) => BOOTSTRAP_VARIABLES[n]?.produces ?? []));
    for (const name of [...spec.reads.filter(requiredBySchema), ...(spec.alsoRequired ?? [])]) {
      if (!given.has(name) && !produced.has(name)) problems.push(`${resource} (${process}): requires ${name}, which the stack does not set`);
    }
    if (names.includes("OBJECT_STORE") && !given.has("S3_BUCKET")) problems.push(`${resource} (${process}): OBJECT_STORE without S3_BUCKET`);
  }
  return problems;
}

/** {@link environmentProblems} is empty. */
export function assertEnvironmentMatchesConfig(template: Template): void {
  assert.deepEqual(environmentProblems(template), []);
}

/** ENV names of a Dockerfile's final stage (what the running container sees). */
export function finalStageEnvNames(dockerfile: string): string[] {
  const instructions = parseDockerfile(fs.readFileSync(path.join(REPOSITORY_ROOT, dockerfile), "utf8"));
  const last = Math.max(...instructions.map((i) => i.stage));
  return instructions.filter((i) => i.stage === last && i.keyword === "ENV").flatMap((i) => i.args.split(/\s+/).filter((a) => a.includes("=")).map((a) => a.split("=")[0]!));
}
