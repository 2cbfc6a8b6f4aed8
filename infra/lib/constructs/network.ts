// The VPC: public subnets (NAT), private subnets with egress (Lambda, workers), isolated ones (Aurora).
import { RemovalPolicy, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";

/** Parameters of {@link Network}. */
export interface NetworkProps {
  /** IPv4 CIDR of the VPC, e.g. 10.20.0.0/16. */
  readonly cidr: string;
  /** Availability zones, explicit so synthesis does no lookup. */
  readonly availabilityZones: readonly string[];
  readonly natGateways: number;
}

/**
 * The VPC with three subnet tiers, flow logs (rejected traffic, 90 days) and an S3 gateway endpoint
 * so pixel traffic from workers does not pay for the NAT gateway.
 */
export class Network extends Construct {
  /** The VPC. */
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, "Vpc", {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr),
      availabilityZones: [...props.availabilityZones],
      natGateways: props.natGateways,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: "private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: "isolated", subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    Validations.of(this.vpc).acknowledge({ id: "CloudFormation-Validate::W3010", reason: "Zones are explicit parameters so that synthesis never looks them up (no AWS account in CI); each environment lists zones of its own region." });
    const flowLogGroup = new logs.LogGroup(this, "FlowLogs", { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.vpc.addFlowLog("FlowLog", {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
  }
}
