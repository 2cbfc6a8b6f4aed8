// CloudWatch alarms (dead letters, queue age, API 5xx rate, outbox relay) to an SNS topic, and one dashboard.
import { Duration } from "aws-cdk-lib";
import type * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

/** Parameters of {@link Monitoring}. */
export interface MonitoringProps {
  readonly dashboardName: string;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly queueDepth: cloudwatch.IMetric;
  readonly httpApi: apigw.HttpApi;
  readonly apiFunction: lambda.IFunction;
  /** The scheduled outbox relay: when it fails, tasks the API could not send are not sent at all. */
  readonly outboxRelayFunction: lambda.IFunction;
  readonly oldestMessageAgeSeconds: number;
  readonly api5xxRatePercent: number;
  readonly alarmEmail?: string;
}

/**
 * Four alarms, each notifying an encrypted SNS topic (and its OK transition too):
 * - `DeadLetters`: any message in the dead-letter queue (a poison task; DESIGN.md §6),
 * - `OldestMessageAge`: the oldest task waited longer than the threshold (workers cannot keep up),
 * - `Api5xxRate`: 5xx responses over 5 minutes above the threshold percentage of requests,
 * - `OutboxRelayErrors`: the scheduled outbox relay failed 3 minutes in a row (tasks may be stuck
 *   in the outbox: SQS refuses them, or the database is unreachable).
 * The dashboard shows queue depth against the scaling metric, age, dead letters, API traffic and Lambda.
 */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly deadLetterAlarm: cloudwatch.Alarm;
  readonly oldestMessageAgeAlarm: cloudwatch.Alarm;
  readonly api5xxRateAlarm: cloudwatch.Alarm;
  readonly outboxRelayAlarm: cloudwatch.Alarm;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const key = new kms.Key(this, "TopicKey", { enableKeyRotation: true, description: "coinseg alarm topic" });
    // CloudWatch publishes alarm notifications to the encrypted topic.
    key.grant(new iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*");
    this.topic = new sns.Topic(this, "Alarms", { masterKey: key, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new actions.SnsAction(this.topic);

    const minute = Duration.minutes(1);
    this.deadLetterAlarm = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: cloudwatch.Stats.MAXIMUM })
      .createAlarm(this, "DeadLetters", {
        alarmDescription: "Task messages reached the dead-letter queue (3 failed receives). Inspect, fix, then redrive.",
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.oldestMessageAgeAlarm = props.queue.metricApproximateAgeOfOldestMessage({ period: minute, statistic: cloudwatch.Stats.MAXIMUM })
      .createAlarm(this, "OldestMessageAge", {
        alarmDescription: `The oldest inference task has waited more than ${props.oldestMessageAgeSeconds} s: workers are not keeping up (max tasks reached, or capacity unavailable).`,
        threshold: props.oldestMessageAgeSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const fiveMinutes = Duration.minutes(5);
    const errorRate = new cloudwatch.MathExpression({
      expression: "IF(requests > 0, 100 * errors / requests, 0)",
      usingMetrics: {
        errors: props.httpApi.metricServerError({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        requests: props.httpApi.metricCount({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      },
      period: fiveMinutes,
      label: "API 5xx rate (%)",
    });
    this.api5xxRateAlarm = errorRate.createAlarm(this, "Api5xxRate", {
      alarmDescription: `More than ${props.api5xxRatePercent}% of API requests returned 5xx over 5 minutes.`,
      threshold: props.api5xxRatePercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.outboxRelayAlarm = props.outboxRelayFunction.metricErrors({ period: minute, statistic: cloudwatch.Stats.SUM })
      .createAlarm(this, "OutboxRelayErrors", {
        alarmDescription: "The scheduled outbox relay failed 3 minutes in a row: tasks the API could not send stay in the outbox. Check its logs (SQS errors, database).",
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const alarms = [this.deadLetterAlarm, this.oldestMessageAgeAlarm, this.api5xxRateAlarm, this.outboxRelayAlarm];
    for (const alarm of alarms) {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }

    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", { dashboardName: props.dashboardName, defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: "Task queue depth (scaling metric)", left: [props.queueDepth], width: 12 }),
      new cloudwatch.GraphWidget({ title: "Oldest task age (s)", left: [props.queue.metricApproximateAgeOfOldestMessage({ period: minute })], leftAnnotations: [{ value: props.oldestMessageAgeSeconds, label: "alarm" }], width: 12 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: "Alarms", alarms, width: 6 }),
      new cloudwatch.GraphWidget({ title: "API requests and 5xx", left: [props.httpApi.metricCount({ period: minute }), props.httpApi.metricServerError({ period: minute })], right: [errorRate], width: 9 }),
      new cloudwatch.GraphWidget({ title: "API Lambda", left: [props.apiFunction.metricDuration({ statistic: "p99", period: minute })], right: [props.apiFunction.metricThrottles({ period: minute }), props.apiFunction.metricErrors({ period: minute })], width: 9 }),
    );
  }
}
