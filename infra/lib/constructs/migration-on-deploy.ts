// Runs `app/db-migrate.ts` as a one-off Fargate task on every deploy that changes the image, and
// fails the deployment when the migration fails.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, Stack, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as triggers from "aws-cdk-lib/triggers";
import { Construct, type IConstruct } from "constructs";
import { nagAcknowledgements, nagArnParts } from "../nag-acknowledgements.ts";

/** Parameters of {@link MigrationOnDeploy}. */
export interface MigrationOnDeployProps {
  readonly cluster: ecs.Cluster;
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  /** Container options (image with worker-entrypoint.sh, database host = the writer). */
  readonly container: ecs.ContainerDefinitionOptions;
  /**
   * Content hash of the migration image. It is part of the trigger function's configuration, so a
   * new image (new migrations) makes a new function version, which re-runs the trigger.
   */
  readonly imageHash: string;
  /** Run only after these exist (the database cluster). */
  readonly executeAfter: readonly IConstruct[];
}

/** Source of the trigger function: RunTask, then poll DescribeTasks until the task stops. */
const HANDLER_SOURCE = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "run-migration-task.handler.cjs"), "utf8");

/**
 * A Fargate task definition running `node --import tsx app/db-migrate.ts`, and a CDK trigger (a
 * Lambda invoked by CloudFormation during the deploy) that starts it and waits for exit code 0.
 * The trigger's environment holds the migration image's content hash, so a new image (new code or
 * migrations) runs them again; an unchanged deploy does not. A failed migration fails the stack update, which
 * rolls back before any new API or worker code serves traffic — order the stack so they depend on it.
 */
export class MigrationOnDeploy extends Construct {
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly trigger: triggers.Trigger;

  constructor(scope: Construct, id: string, props: MigrationOnDeployProps) {
    super(scope, id);
    this.taskDefinition = new ecs.FargateTaskDefinition(this, "Task", {
      cpu: 512,
      memoryLimitMiB: 1024,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.taskDefinition.addContainer("migrate", { ...props.container, command: ["node", "--import", "tsx", "app/db-migrate.ts"] });
    const subnets = props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;

    const fn = new lambda.Function(this, "RunTask", {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: "index.handler",
      code: lambda.Code.fromInline(HANDLER_SOURCE),
      timeout: Duration.minutes(14),
      logGroup: new logs.LogGroup(this, "Logs", { retention: logs.RetentionDays.THREE_MONTHS }),
      environment: {
        CLUSTER_ARN: props.cluster.clusterArn,
        TASK_DEFINITION_ARN: this.taskDefinition.taskDefinitionArn,
        // A Ref hashes the same across revisions; the image hash does not.
        MIGRATION_IMAGE_HASH: props.imageHash,
        SUBNET_IDS: subnets.join(","),
        SECURITY_GROUP_ID: props.securityGroup.securityGroupId,
      },
    });
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ["ecs:RunTask"],
      resources: [this.taskDefinition.taskDefinitionArn],
      conditions: { ArnEquals: { "ecs:cluster": props.cluster.clusterArn } },
    }));
    const taskArnPattern = Stack.of(this).formatArn({ service: "ecs", resource: "task", resourceName: `${props.cluster.clusterName}/*` });
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["ecs:DescribeTasks"], resources: [taskArnPattern] }));
    const passRoles = [this.taskDefinition.taskRole.roleArn, this.taskDefinition.obtainExecutionRole().roleArn];
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ["iam:PassRole"], resources: passRoles, conditions: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } } }));

    this.trigger = new triggers.Trigger(this, "Trigger", {
      handler: fn,
      executeAfter: [...props.executeAfter, this.taskDefinition],
      executeOnHandlerChange: true,
      timeout: Duration.minutes(14),
    });

    nagAcknowledgements.ecsTaskDefinition(this.taskDefinition);
    nagAcknowledgements.lambdaFunction(fn, { inVpc: false, tracing: false });
    const clusterId = Stack.of(this).getLogicalId(props.cluster.node.defaultChild as ecs.CfnCluster);
    const { account, region } = nagArnParts(Stack.of(this));
    Validations.of(fn).acknowledge(
      { id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:${region}:${account}:task/<${clusterId}>/*]`, reason: "Task ARNs are generated at RunTask time; ecs:DescribeTasks is limited to tasks of this one cluster." },
      { id: "AwsSolutions-L1", reason: "Pinned to Node 22 on purpose: the inline handler relies on that runtime's bundled AWS SDK v3 and a runtime bump should be a reviewed change." },
    );
  }
}
