// GPU workers: ECS on EC2 GPU instances from an Auto Scaling group that starts at zero instances.
import { Validations } from "aws-cdk-lib";
import * as autoscaling from "aws-cdk-lib/aws-autoscaling";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { nagAcknowledgements } from "../nag-acknowledgements.ts";

/** Parameters of {@link GpuWorkerService}. */
export interface GpuWorkerServiceProps {
  readonly cluster: ecs.Cluster;
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  /** e.g. g5.xlarge: one task per instance, one GPU per task. */
  readonly instanceType: string;
  readonly maxInstances: number;
  readonly cpuUnits: number;
  readonly memoryReservationMiB: number;
  readonly container: ecs.ContainerDefinitionOptions;
}

/**
 * An ECS service on a capacity provider backed by GPU instances (ECS-optimised GPU AMI, encrypted
 * gp3 root volume, IMDSv2 only). Managed scaling adds instances when tasks are pending and removes
 * idle ones, so with the service at zero tasks the group drains to zero instances. Each task
 * reserves one GPU (`gpuCount: 1`). Its task count is set by QueueDepthScaling.
 */
export class GpuWorkerService extends Construct {
  readonly service: ecs.Ec2Service;
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;

  constructor(scope: Construct, id: string, props: GpuWorkerServiceProps) {
    super(scope, id);
    // Instance role: ECS adds only what the agent needs to join the cluster (no task permissions here).
    const instanceRole = new iam.Role(this, "InstanceRole", { assumedBy: new iam.ServicePrincipal("ec2.amazonaws.com") });
    const launchTemplate = new ec2.LaunchTemplate(this, "LaunchTemplate", {
      role: instanceRole,
      instanceType: new ec2.InstanceType(props.instanceType),
      machineImage: ecs.EcsOptimizedImage.amazonLinux2(ecs.AmiHardwareType.GPU),
      userData: ec2.UserData.forLinux(),
      securityGroup: props.securityGroup,
      requireImdsv2: true,
      detailedMonitoring: true,
      blockDevices: [{ deviceName: "/dev/xvda", volume: ec2.BlockDeviceVolume.ebs(100, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }) }],
    });
    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, "Asg", {
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate,
      minCapacity: 0,
      maxCapacity: props.maxInstances,
      newInstancesProtectedFromScaleIn: true,
    });
    const capacityProvider = new ecs.AsgCapacityProvider(this, "CapacityProvider", {
      autoScalingGroup: this.autoScalingGroup,
      enableManagedScaling: true,
      enableManagedTerminationProtection: true,
      targetCapacityPercent: 100,
      instanceWarmupPeriod: 180,
    });
    props.cluster.addAsgCapacityProvider(capacityProvider);

    this.taskDefinition = new ecs.Ec2TaskDefinition(this, "Task", { networkMode: ecs.NetworkMode.AWS_VPC });
    this.taskDefinition.addContainer("worker", {
      ...props.container,
      cpu: props.cpuUnits,
      memoryReservationMiB: props.memoryReservationMiB,
      gpuCount: 1,
    });
    nagAcknowledgements.ecsTaskDefinition(this.taskDefinition);
    this.service = new ecs.Ec2Service(this, "Service", {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: 0,
      securityGroups: [props.securityGroup],
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      capacityProviderStrategies: [{ capacityProvider: capacityProvider.capacityProviderName, weight: 1 }],
      circuitBreaker: { rollback: true },
      minHealthyPercent: 0,
      maxHealthyPercent: 200,
    });

    Validations.of(instanceRole).acknowledge(
      { id: "AwsSolutions-IAM5[Action::ecs:Submit*]", reason: "Added by ECS for the container agent on the instance (state-change submissions); not usable by tasks, which have their own roles." },
      { id: "AwsSolutions-IAM5[Resource::*]", reason: "The ECS agent's ecs:DiscoverPollEndpoint, ecr:GetAuthorizationToken and logs actions support no resource scoping." },
    );
    Validations.of(this.autoScalingGroup).acknowledge(
      { id: "AwsSolutions-AS3", reason: "Scaling activity is driven by ECS managed scaling and visible in the ECS service events and the dashboard; no human acts on per-instance notifications." },
    );
  }
}
