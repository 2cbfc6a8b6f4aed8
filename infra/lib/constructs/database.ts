// Aurora PostgreSQL (Serverless v2) with its credentials in Secrets Manager and an RDS Proxy in front.
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as rds from "aws-cdk-lib/aws-rds";
import { Construct } from "constructs";

/** Parameters of {@link Database}. */
export interface DatabaseProps {
  readonly vpc: ec2.IVpc;
  readonly minCapacityAcu: number;
  readonly maxCapacityAcu: number;
  readonly backupRetentionDays: number;
  readonly readers: number;
  readonly deletionProtection: boolean;
}

/** Name of the application database inside the cluster. */
export const DATABASE_NAME = "coinseg";
/** Characters left out of the generated password so it can sit in a URL unescaped. */
const PASSWORD_EXCLUDED_CHARACTERS = " %+~`#$&*()|[]{}:;<>?!'/@\"\\=,^.";

/**
 * The cluster lives in isolated subnets, encrypted at rest, IAM auth enabled, logs exported to
 * CloudWatch. Clients (API Lambda, workers) reach it only through the proxy, which pools
 * connections across thousands of Lambda instances and requires TLS; migrations connect to the
 * writer directly. Connect with `allowFrom(peer)`.
 */
export class Database extends Construct {
  /** The Aurora cluster. */
  readonly cluster: rds.DatabaseCluster;
  /** The connection proxy in front of it. */
  readonly proxy: rds.DatabaseProxy;
  /** Generated credentials: JSON with username, password, host, port, dbname. */
  readonly secret: rds.DatabaseSecret;
  private readonly proxySecurityGroup: ec2.SecurityGroup;
  private readonly clusterSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    this.secret = new rds.DatabaseSecret(this, "Secret", { username: "coinseg", excludeCharacters: PASSWORD_EXCLUDED_CHARACTERS });
    this.clusterSecurityGroup = new ec2.SecurityGroup(this, "ClusterSg", { vpc: props.vpc, allowAllOutbound: false, description: "coinseg Aurora cluster" });
    this.proxySecurityGroup = new ec2.SecurityGroup(this, "ProxySg", { vpc: props.vpc, allowAllOutbound: false, description: "coinseg RDS Proxy" });
    // addProxy() opens the cluster's port to the proxy's group (both directions) itself.

    const removalPolicy = props.deletionProtection ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY;
    this.cluster = new rds.DatabaseCluster(this, "Cluster", {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_9 }),
      credentials: rds.Credentials.fromSecret(this.secret),
      defaultDatabaseName: DATABASE_NAME,
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.clusterSecurityGroup],
      serverlessV2MinCapacity: props.minCapacityAcu,
      serverlessV2MaxCapacity: props.maxCapacityAcu,
      writer: rds.ClusterInstance.serverlessV2("Writer"),
      readers: Array.from({ length: props.readers }, (_, i) => rds.ClusterInstance.serverlessV2(`Reader${i + 1}`, { scaleWithWriter: true })),
      storageEncrypted: true,
      iamAuthentication: true,
      backup: { retention: Duration.days(props.backupRetentionDays) },
      deletionProtection: props.deletionProtection,
      cloudwatchLogsExports: ["postgresql"],
      removalPolicy,
    });
    this.proxy = this.cluster.addProxy("Proxy", {
      secrets: [this.secret],
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.proxySecurityGroup],
      requireTLS: true,
      // Lambda instances are short-lived: reclaim their connections after 5 idle minutes.
      idleClientTimeout: Duration.minutes(5),
    });

    Validations.of(this.secret).acknowledge({
      id: "AwsSolutions-SMG4",
      reason: "Single-user rotation would invalidate the password that running worker tasks and warm Lambdas hold, and the proxy authenticates clients with the same secret. Planned instead: IAM authentication to the proxy (iamAuthentication is already on). See docs/DEPLOY.md, 'Credentials'.",
    });
    Validations.of(this.cluster).acknowledge({
      id: "AwsSolutions-RDS10",
      reason: "Deletion protection is a per-environment parameter: on in prod, off in dev so a dev stack can be torn down.",
    }, {
      id: "AwsSolutions-RDS11",
      reason: "The port is not a security boundary: the cluster is in isolated subnets and only the proxy's and the migration task's security groups may connect.",
    });
  }

  /** Lets `peer` connect to the proxy on 5432 (API Lambda, workers). */
  allowProxyFrom(peer: ec2.ISecurityGroup, description: string): void {
    this.proxySecurityGroup.addIngressRule(peer, ec2.Port.tcp(5432), description);
  }

  /** Lets `peer` connect to the writer directly on 5432 (migrations only). */
  allowClusterFrom(peer: ec2.ISecurityGroup, description: string): void {
    this.clusterSecurityGroup.addIngressRule(peer, ec2.Port.tcp(5432), description);
  }
}
