// The cdk-nag findings coinseg accepts for recurring reasons, each with its justification in one place.
import { Stack, Token, Validations } from "aws-cdk-lib";
import type * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import type { IConstruct } from "constructs";

/** How cdk-nag prints the stack's account and region inside finding ids (tokens become placeholders). */
export function nagArnParts(stack: Stack): { readonly account: string; readonly region: string } {
  return {
    account: Token.isUnresolved(stack.account) ? "<AWS::AccountId>" : stack.account,
    region: Token.isUnresolved(stack.region) ? "<AWS::Region>" : stack.region,
  };
}

const MANAGED_POLICY = (name: string) => `Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${name}`;

/**
 * Acknowledgements shared by several constructs. One-off ones sit next to their construct.
 * Every entry states why the finding is acceptable; none silences a whole rule.
 */
export const nagAcknowledgements = {
  /** A Lambda function's service role: AWS's logging/VPC policies and X-Ray's `*` resource. */
  lambdaFunction(fn: IConstruct, options: { readonly inVpc: boolean; readonly tracing: boolean }): void {
    Validations.of(fn).acknowledge({
      id: `AwsSolutions-IAM4[${MANAGED_POLICY("AWSLambdaBasicExecutionRole")}]`,
      reason: "AWS-maintained policy that only lets the function write its own CloudWatch log streams.",
    });
    if (options.inVpc) {
      Validations.of(fn).acknowledge({
        id: `AwsSolutions-IAM4[${MANAGED_POLICY("AWSLambdaVPCAccessExecutionRole")}]`,
        reason: "AWS-maintained policy for the ENIs a VPC function needs; the EC2 ENI actions do not support resource-level scoping.",
      });
    }
    if (options.tracing) {
      Validations.of(fn).acknowledge({
        id: "AwsSolutions-IAM5[Resource::*]",
        reason: "xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource scoping.",
      });
    }
  },

  /** An ECS task definition: plain (non-secret) environment and the execution role's ECR token. */
  ecsTaskDefinition(task: ecs.TaskDefinition): void {
    Validations.of(task).acknowledge({
      id: "AwsSolutions-ECS2",
      reason: "The environment holds non-secret configuration only (queue URL, bucket name, hosts); the database credentials are ECS secrets injected from Secrets Manager at task start.",
    });
    Validations.of(task).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason: "The execution role's ecr:GetAuthorizationToken supports no resource scoping; image pulls are scoped to the asset repository.",
    });
  },

  /** A principal posting to WebSocket connections through the stage's management API. */
  websocketManagement(principal: IConstruct, api: apigw.WebSocketApi, stageName: string): void {
    const stack = Stack.of(api);
    const apiId = stack.getLogicalId(api.node.defaultChild as never);
    const { account, region } = nagArnParts(stack);
    Validations.of(principal).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:${region}:${account}:<${apiId}>/${stageName}/*/@connections/*]`,
      reason: "Connection ids are assigned by API Gateway at connect time; the grant is limited to this API's stage and its @connections endpoint.",
    });
  },
};
