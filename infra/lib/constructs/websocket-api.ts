// The WebSocket API that carries GraphQL subscriptions (graphql-ws messages) in AWS.
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { WebSocketLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import type * as ecrAssets from "aws-cdk-lib/aws-ecr-assets";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { nagAcknowledgements } from "../nag-acknowledgements.ts";

/** Parameters of {@link WebsocketApi}. */
export interface WebsocketApiProps {
  readonly vpc: ec2.IVpc;
  /** The API image; its `lambda-websocket.handler` serves the routes. */
  readonly image: ecrAssets.DockerImageAsset;
  readonly memoryMiB: number;
  readonly throttleRatePerSecond: number;
  readonly throttleBurst: number;
  readonly environment: Readonly<Record<string, string>>;
}

/** Route keys of the WebSocket API: connect, disconnect, and every graphql-ws message. */
export const WEBSOCKET_ROUTES = { connect: "$connect", disconnect: "$disconnect", message: "$default" } as const;

/**
 * A WebSocket API whose three routes ($connect, $disconnect, and $default for every graphql-ws
 * message) go to one Lambda. It keeps its connection registry in Postgres, so it joins the database
 * proxy like the HTTP API. Workers push results to clients through the stage's management endpoint
 * (`grantManagementApiAccess`), so the function may post to connections too.
 */
export class WebsocketApi extends Construct {
  readonly api: apigw.WebSocketApi;
  readonly stage: apigw.WebSocketStage;
  readonly handler: lambda.DockerImageFunction;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: WebsocketApiProps) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, "Sg", { vpc: props.vpc, description: "coinseg WebSocket Lambda" });
    this.handler = new lambda.DockerImageFunction(this, "Function", {
      code: lambda.DockerImageCode.fromEcr(props.image.repository, { tagOrDigest: props.image.imageTag, cmd: ["lambda-websocket.handler"] }),
      architecture: lambda.Architecture.X86_64,
      memorySize: props.memoryMiB,
      timeout: Duration.seconds(29),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.securityGroup],
      tracing: lambda.Tracing.ACTIVE,
      logGroup: new logs.LogGroup(this, "Logs", { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY }),
      environment: { ...props.environment },
    });
    const integration = (name: string) => new WebSocketLambdaIntegration(name, this.handler);
    this.api = new apigw.WebSocketApi(this, "Api", {
      description: "coinseg GraphQL subscriptions (graphql-ws)",
      connectRouteOptions: { integration: integration("Connect") },
      disconnectRouteOptions: { integration: integration("Disconnect") },
      defaultRouteOptions: { integration: integration("Message") },
    });
    const accessLogs = new logs.LogGroup(this, "AccessLogs", { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.stage = new apigw.WebSocketStage(this, "Stage", {
      webSocketApi: this.api,
      stageName: "live",
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRatePerSecond, burstLimit: props.throttleBurst },
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs) },
    });
    this.stage.grantManagementApiAccess(this.handler);
    nagAcknowledgements.lambdaFunction(this.handler, { inVpc: true, tracing: true });
    nagAcknowledgements.websocketManagement(this.handler, this.api, this.stage.stageName);
    Validations.of(this.api).acknowledge({
      id: "AwsSolutions-APIG4",
      reason: "The $connect handler authenticates the graphql-ws connection_init payload (API key or JWT) like the HTTP API; an API Gateway authorizer cannot check API keys stored hashed in Postgres.",
    });
  }
}
