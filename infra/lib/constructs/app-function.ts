// One of the API image's Lambda handlers as a function in the VPC: the shape the API, the WebSocket
// API and the outbox relay share.
import { type Duration, RemovalPolicy } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type * as ecrAssets from "aws-cdk-lib/aws-ecr-assets";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { nagAcknowledgements } from "../nag-acknowledgements.ts";

/** Parameters of {@link createAppFunction}. */
export interface AppFunctionProps {
  readonly vpc: ec2.IVpc;
  /** The API image (infra/docker/api-lambda.Dockerfile). */
  readonly image: ecrAssets.DockerImageAsset;
  /** `<module>.handler`: infra/docker/lambda/<module>.mjs in the image. */
  readonly handler: string;
  /** Describes the function's security group. */
  readonly purpose: string;
  readonly memoryMiB: number;
  readonly timeout: Duration;
  readonly reservedConcurrency?: number | undefined;
  /** Retries of asynchronous invocations (Lambda's default: 2). */
  readonly retryAttempts?: number;
  readonly description?: string;
  /** Environment of the function (no secret values: ARNs only, resolved at cold start). */
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * Creates, in `scope`, a security group `Sg`, a 3-month log group `Logs` and the function `Function`:
 * linux/amd64 container image, private subnets, X-Ray tracing, with cdk-nag's recurring findings
 * acknowledged (nag-acknowledgements.ts). The caller grants what the function may do.
 */
export function createAppFunction(scope: Construct, props: AppFunctionProps): { handler: lambda.DockerImageFunction; securityGroup: ec2.SecurityGroup } {
  const securityGroup = new ec2.SecurityGroup(scope, "Sg", { vpc: props.vpc, description: props.purpose });
  const logGroup = new logs.LogGroup(scope, "Logs", { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
  const handler = new lambda.DockerImageFunction(scope, "Function", {
    code: lambda.DockerImageCode.fromEcr(props.image.repository, { tagOrDigest: props.image.imageTag, cmd: [props.handler] }),
    description: props.description,
    architecture: lambda.Architecture.X86_64,
    memorySize: props.memoryMiB,
    timeout: props.timeout,
    reservedConcurrentExecutions: props.reservedConcurrency,
    retryAttempts: props.retryAttempts,
    vpc: props.vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    securityGroups: [securityGroup],
    tracing: lambda.Tracing.ACTIVE,
    logGroup,
    environment: { ...props.environment },
  });
  nagAcknowledgements.lambdaFunction(handler, { inVpc: true, tracing: true });
  return { handler, securityGroup };
}
