// The WebSocket API that streams job events to subscribers in AWS (PROTOCOL.md §7).
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { WebSocketLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type * as ec2 from "aws-cdk-lib/aws-ec2";
import type * as ecrAssets from "aws-cdk-lib/aws-ecr-assets";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { nagAcknowledgements } from "../nag-acknowledgements.ts";
import { createAppFunction } from "./app-function.ts";

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

/** Route keys of the WebSocket API: connect, disconnect, and every client message (PROTOCOL.md §7). */
export const WEBSOCKET_ROUTES = { connect: "$connect", disconnect: "$disconnect", message: "$default" } as const;

/**
 * A WebSocket API whose three routes ($connect, $disconnect, and $default for every client message:
 * subscribe / unsubscribe, PROTOCOL.md §7) go to one Lambda (app/lambda-websocket.ts). It keeps its connection registry in Postgres, so it joins the database
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
    ({ handler: this.handler, securityGroup: this.securityGroup } = createAppFunction(this, {
      vpc: props.vpc, image: props.image, handler: "lambda-websocket.handler", purpose: "coinseg WebSocket Lambda", memoryMiB: props.memoryMiB,
      timeout: Duration.seconds(29), environment: props.environment,
    }));
    const integration = (name: string) => new WebSocketLambdaIntegration(name, this.handler);
    this.api = new apigw.WebSocketApi(this, "Api", {
      description: "coinseg job subscriptions (PROTOCOL.md section 7)",
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
    nagAcknowledgements.websocketManagement(this.handler, this.api, this.stage.stageName);
    Validations.of(this.api).acknowledge({
      id: "AwsSolutions-APIG4",
      reason: "Authentication is the application's: each subscribe message carries an API key or JWT that the handler verifies like the HTTP API (browsers cannot send credentials with the handshake), and nothing is posted to a connection before that; an API Gateway authorizer cannot check API keys stored hashed in Postgres.",
    });
  }
}
