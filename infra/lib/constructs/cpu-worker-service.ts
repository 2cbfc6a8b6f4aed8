// CPU workers on Fargate: the variant for small deployments (no GPU instances to manage).
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import { Construct } from "constructs";
import { nagAcknowledgements } from "../nag-acknowledgements.ts";

/** Parameters of {@link CpuWorkerService}. */
export interface CpuWorkerServiceProps {
  readonly cluster: ecs.Cluster;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly cpuUnits: number;
  readonly memoryMiB: number;
  readonly container: ecs.ContainerDefinitionOptions;
}

/**
 * A Fargate service (linux/x86_64, private subnets, no public IP) starting at zero tasks; its task
 * count is set by QueueDepthScaling. ONNX Runtime uses its CPU execution provider here.
 */
export class CpuWorkerService extends Construct {
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;

  constructor(scope: Construct, id: string, props: CpuWorkerServiceProps) {
    super(scope, id);
    this.taskDefinition = new ecs.FargateTaskDefinition(this, "Task", {
      cpu: props.cpuUnits,
      memoryLimitMiB: props.memoryMiB,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.taskDefinition.addContainer("worker", props.container);
    nagAcknowledgements.ecsTaskDefinition(this.taskDefinition);
    this.service = new ecs.FargateService(this, "Service", {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: 0,
      assignPublicIp: false,
      securityGroups: [props.securityGroup],
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      circuitBreaker: { rollback: true },
      minHealthyPercent: 0,
      maxHealthyPercent: 200,
    });
  }
}
