// The WebSocket API that streams job events to subscribers in AWS (PROTOCOL.md §7).
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { WebSocketLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type * as ec2 from "aws-cdk-lib/aws-ec2";
import type * as ecrAssets from "aws-cdk-lib/aws-ecr-assets";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
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

/**
 * The event the registry sweep sends the function (REGISTRY_CLEANUP_EVENT in
 * app/lambda/registry-cleanup-event.ts, kept equal by test/infra).
 */
export const REGISTRY_CLEANUP_INPUT = { coinseg: "remove-expired-websocket-connections" } as const;

/**
 * How often the registry sweep runs: a registration outlives API Gateway's 2 h connection limit by
 * at most this much when its connection ended without a `$disconnect` reaching the function.
 */
export const REGISTRY_CLEANUP_PERIOD = Duration.minutes(15);

/** Route keys of the WebSocket API: connect, disconnect, and every client message (PROTOCOL.md §7). */
export const WEBSOCKET_ROUTES = { connect: "$connect", disconnect: "$disconnect", message: "$default" } as const;

/**
 * A WebSocket API whose three routes ($connect, $disconnect, and $default for every client message:
 * subscribe / unsubscribe, PROTOCOL.md §7) go to one Lambda (app/lambda-websocket.ts). It keeps its connection registry in Postgres, so it joins the database
 * proxy like the HTTP API. Workers push results to clients through the stage's management endpoint
 * (`grantManagementApiAccess`), so the function may post to connections too. Every
 * {@link REGISTRY_CLEANUP_PERIOD} an EventBridge rule sends the same function
 * {@link REGISTRY_CLEANUP_INPUT}, and it deletes the registrations older than 2 h (connections API
 * Gateway has closed); no retries, the next run is the retry.
 */
export class WebsocketApi extends Construct {
  readonly api: apigw.WebSocketApi;
  readonly stage: apigw.WebSocketStage;
  readonly handler: lambda.DockerImageFunction;
  readonly securityGroup: ec2.SecurityGroup;
  /** The schedule of the registry sweep. */
  readonly registryCleanup: events.Rule;

  constructor(scope: Construct, id: string, props: WebsocketApiProps) {
    super(scope, id);
    ({ handler: this.handler, securityGroup: this.securityGroup } = createAppFunction(this, {
      vpc: props.vpc, image: props.image, handler: "lambda-websocket.handler", purpose: "coinseg WebSocket Lambda", memoryMiB: props.memoryMiB,
      // API Gateway invokes synchronously; only the sweep is asynchronous, and the next period retries it.
      timeout: Duration.seconds(29), retryAttempts: 0, environment: props.environment,
    }));
    this.registryCleanup = new events.Rule(this, "RegistryCleanup", {
      description: "coinseg: delete WebSocket registrations older than API Gateway's 2 h connection limit",
      schedule: events.Schedule.rate(REGISTRY_CLEANUP_PERIOD),
      targets: [new targets.LambdaFunction(this.handler, {
        event: events.RuleTargetInput.fromObject(REGISTRY_CLEANUP_INPUT), retryAttempts: 0, maxEventAge: REGISTRY_CLEANUP_PERIOD,
      })],
    });
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
