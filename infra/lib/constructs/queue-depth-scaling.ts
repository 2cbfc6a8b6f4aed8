// Scales an ECS service from zero on the task queue's visible + in-flight messages.
import { Duration } from "aws-cdk-lib";
import * as appscaling from "aws-cdk-lib/aws-applicationautoscaling";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as ecs from "aws-cdk-lib/aws-ecs";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { queueDepthSteps, type QueueDepthStep } from "../scaling/queue-depth-steps.ts";

/** Parameters of {@link QueueDepthScaling}. */
export interface QueueDepthScalingProps {
  readonly service: ecs.BaseService;
  readonly queue: sqs.IQueue;
  readonly maxTasks: number;
  /** Messages (visible + in flight) one task should hold; see queueDepthSteps. */
  readonly messagesPerTask: number;
}

/**
 * Step scaling with exact capacities from {@link queueDepthSteps}, on the metric-math expression
 * `visible + inflight` (1-minute maxima). Counting in-flight messages keeps tasks that are still
 * working from being scaled in, and depth 0 scales the service to zero.
 */
export class QueueDepthScaling extends Construct {
  /** The steps deployed (the same ones bench/scale.ts replays). */
  readonly steps: readonly QueueDepthStep[];
  /** The metric the policy watches. */
  readonly depth: cloudwatch.MathExpression;

  constructor(scope: Construct, id: string, props: QueueDepthScalingProps) {
    super(scope, id);
    this.steps = queueDepthSteps(props.messagesPerTask, props.maxTasks);
    const period = Duration.minutes(1);
    this.depth = new cloudwatch.MathExpression({
      expression: "visible + inflight",
      usingMetrics: {
        visible: props.queue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
        inflight: props.queue.metricApproximateNumberOfMessagesNotVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
      },
      period,
      label: "task queue depth (visible + in flight)",
    });
    const scalable = props.service.autoScaleTaskCount({ minCapacity: 0, maxCapacity: props.maxTasks });
    scalable.scaleOnMetric("QueueDepth", {
      metric: this.depth,
      adjustmentType: appscaling.AdjustmentType.EXACT_CAPACITY,
      scalingSteps: this.steps.map((s) => ({
        lower: s.lowerMessages,
        upper: Number.isFinite(s.upperMessages) ? s.upperMessages : undefined,
        change: s.tasks,
      })),
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      cooldown: Duration.seconds(60),
    });
  }
}
