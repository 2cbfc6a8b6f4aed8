// The GraphQL API: app/lambda.ts as a container-image Lambda behind an API Gateway HTTP API.
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type * as ec2 from "aws-cdk-lib/aws-ec2";
import type * as ecrAssets from "aws-cdk-lib/aws-ecr-assets";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { createAppFunction } from "./app-function.ts";

/** Parameters of {@link GraphqlApi}. */
export interface GraphqlApiProps {
  readonly vpc: ec2.IVpc;
  readonly image: ecrAssets.DockerImageAsset;
  readonly memoryMiB: number;
  readonly timeoutSeconds: number;
  readonly reservedConcurrency?: number;
  readonly throttleRatePerSecond: number;
  readonly throttleBurst: number;
  /** Browser origins allowed to call the API (CORS preflight answered by API Gateway). */
  readonly corsAllowedOrigins: readonly string[];
  /** Environment of the function (no secret values: ARNs only, resolved at cold start). */
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * Lambda (linux/amd64 container image, in private subnets, X-Ray tracing, 3-month logs) and an HTTP
 * API whose `$default` stage sends every route to it with payload format 2.0, throttled, access-logged.
 * The API authenticates callers itself (API keys and JWT bearer tokens in the GraphQL layer).
 */
export class GraphqlApi extends Construct {
  /** The API function. */
  readonly handler: lambda.DockerImageFunction;
  /** The HTTP API. */
  readonly httpApi: apigw.HttpApi;
  /** Security group of the function (allow it into the database proxy). */
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: GraphqlApiProps) {
    super(scope, id);
    ({ handler: this.handler, securityGroup: this.securityGroup } = createAppFunction(this, {
      vpc: props.vpc, image: props.image, handler: "lambda.handler", purpose: "coinseg API Lambda", memoryMiB: props.memoryMiB,
      timeout: Duration.seconds(props.timeoutSeconds), reservedConcurrency: props.reservedConcurrency, environment: props.environment,
    }));
    const accessLogs = new logs.LogGroup(this, "AccessLogs", { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.httpApi = new apigw.HttpApi(this, "HttpApi", {
      description: "coinseg GraphQL API",
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: [...props.corsAllowedOrigins],
        allowMethods: [apigw.CorsHttpMethod.GET, apigw.CorsHttpMethod.POST, apigw.CorsHttpMethod.OPTIONS],
        // The credentials coinseg reads (app/api/request-credentials.ts) plus GraphQL's content type.
        allowHeaders: ["authorization", "content-type", "x-api-key"],
        // GET /jobs/:id/masks.nii.gz's file name and progress (app/api/job-masks-route.ts), for browser clients.
        exposeHeaders: ["content-disposition", "x-coinseg-result-slices", "x-coinseg-job-status"],
        maxAge: Duration.hours(1),
      },
      defaultIntegration: new HttpLambdaIntegration("Graphql", this.handler, { payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0 }),
    });
    new apigw.HttpStage(this, "Stage", {
      httpApi: this.httpApi,
      stageName: "$default",
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRatePerSecond, burstLimit: props.throttleBurst },
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs)},
    });
    Validations.of(this.httpApi).acknowledge({
      id: "AwsSolutions-APIG4",
      reason: "Authentication is the application's: API keys (hashed at rest) and JWT bearer tokens are verified in the GraphQL context, and every resolver is scoped to the caller's organisation (DESIGN.md §6). An API Gateway authorizer would duplicate it for API keys it cannot check.",
    });
  }
}
