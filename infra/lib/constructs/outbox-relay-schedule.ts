// The scheduled outbox relay: a Lambda run every minute that sends tasks the API could not send.
import { Duration } from "aws-cdk-lib";
import type * as ec2 from "aws-cdk-lib/aws-ec2";
import type * as ecrAssets from "aws-cdk-lib/aws-ecr-assets";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { createAppFunction } from "./app-function.ts";

/** Parameters of {@link OutboxRelaySchedule}. */
export interface OutboxRelayScheduleProps {
  readonly vpc: ec2.IVpc;
  /** The API image; its `lambda-outbox-relay.handler` is the relay (app/lambda-outbox-relay.ts). */
  readonly image: ecrAssets.DockerImageAsset;
  /** Environment of the function (no secret values: ARNs only, resolved at cold start). */
  readonly environment: Readonly<Record<string, string>>;
}

/** The relay's schedule: once a minute, EventBridge's finest rate. */
export const OUTBOX_RELAY_PERIOD = Duration.minutes(1);

/**
 * The safety net of serverless dispatch (PROTOCOL.md §2). The API Lambda sends a job's tasks right
 * after the job commits; this function, run every minute by an EventBridge rule, sends the outbox
 * rows still undispatched after OUTBOX_RELAY_MIN_AGE_SECONDS (the API crashed, timed out or met an
 * SQS error between commit and send). Without it such a job would wait forever, and with zero
 * workers running nothing else would ever send it. One invocation at a time (reserved concurrency 1),
 * no async retries (the next minute is the retry), and a timeout below the period.
 */
export class OutboxRelaySchedule extends Construct {
  readonly handler: lambda.DockerImageFunction;
  readonly rule: events.Rule;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: OutboxRelayScheduleProps) {
    super(scope, id);
    ({ handler: this.handler, securityGroup: this.securityGroup } = createAppFunction(this, {
      vpc: props.vpc, image: props.image, handler: "lambda-outbox-relay.handler", purpose: "coinseg outbox relay Lambda",
      description: "coinseg: sends outbox tasks the API Lambda did not send (every minute)",
      memoryMiB: 512, timeout: Duration.seconds(50), reservedConcurrency: 1, retryAttempts: 0, environment: props.environment,
    }));
    this.rule = new events.Rule(this, "EveryMinute", {
      description: "coinseg: run the outbox relay",
      schedule: events.Schedule.rate(OUTBOX_RELAY_PERIOD),
      targets: [new targets.LambdaFunction(this.handler, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });
  }
}
