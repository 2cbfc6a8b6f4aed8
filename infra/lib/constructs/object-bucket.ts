// The S3 bucket for pixels, uploads and masks (ObjectStore in AWS), plus its access-log bucket.
import { Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct, type IConstruct } from "constructs";

/** What a component may do with objects under `orgs/` (ObjectStore keys are `orgs/<organizationId>/…`). */
export type ObjectAccess = "read" | "write" | "delete";

/** Object key prefix every coinseg object lives under. */
export const OBJECT_KEY_PATTERN = "orgs/*";

/** Parameters of {@link ObjectBucket}. */
export interface ObjectBucketProps {
  readonly intelligentTieringAfterDays: number;
  readonly noncurrentVersionExpirationDays: number;
  /** Browser origins allowed to PUT to presigned URLs. */
  readonly corsAllowedOrigins: readonly string[];
  /** RETAIN for data that must outlive the stack (prod). */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Versioned bucket encrypted with a customer-managed KMS key (rotated yearly), all public access
 * blocked, TLS enforced by bucket policy, server access logs to a separate bucket, and lifecycle
 * rules: abort incomplete multipart uploads after 7 days, Intelligent-Tiering for current objects,
 * expiry of non-current versions.
 */
export class ObjectBucket extends Construct {
  /** The data bucket. */
  readonly bucket: s3.Bucket;
  /** Its encryption key (readers and writers need grants on it too; `bucket.grant*` adds them). */
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: ObjectBucketProps) {
    super(scope, id);
    const autoDelete = props.removalPolicy === RemovalPolicy.DESTROY;
    const accessLogs = new s3.Bucket(this, "AccessLogs", {
      encryption: s3.BucketEncryption.S3_MANAGED, // log delivery cannot write to SSE-KMS buckets
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: autoDelete,
    });
    this.key = new kms.Key(this, "Key", { enableKeyRotation: true, description: "coinseg pixels and masks", removalPolicy: props.removalPolicy });
    this.bucket = new s3.Bucket(this, "Data", {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: "data/",
      cors: [{ allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET], allowedOrigins: [...props.corsAllowedOrigins], allowedHeaders: ["*"], maxAge: 3000 }],
      lifecycleRules: [
        { id: "abort-multipart", abortIncompleteMultipartUploadAfter: Duration.days(7) },
        {
          id: "tiering",
          transitions: [{ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(props.intelligentTieringAfterDays) }],
        },
        { id: "noncurrent", noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpirationDays) },
      ],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: autoDelete,
    });
  }

  /**
   * Grants exactly the object actions named (s3:GetObject, s3:PutObject, s3:DeleteObject) on
   * `orgs/*`, s3:ListBucket limited to that prefix (so a missing key is a 404, not a 403), and the
   * KMS actions they need on this bucket's key only. No bucket-level write, no wildcard actions.
   */
  grantObjects(grantee: iam.IGrantable & IConstruct, access: readonly ObjectAccess[]): void {
    const actions = { read: "s3:GetObject", write: "s3:PutObject", delete: "s3:DeleteObject" } as const;
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: access.map((a) => actions[a]),
      resources: [this.bucket.arnForObjects(OBJECT_KEY_PATTERN)],
    }));
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ["s3:ListBucket"],
      resources: [this.bucket.bucketArn],
      conditions: { StringLike: { "s3:prefix": [OBJECT_KEY_PATTERN] } },
    }));
    const keyActions = access.includes("write") ? ["kms:Decrypt", "kms:GenerateDataKey"] : ["kms:Decrypt"];
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: keyActions, resources: [this.key.keyArn] }));
    const bucketLogicalId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    Validations.of(grantee).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${OBJECT_KEY_PATTERN}]`,
      reason: "Object keys are created at run time per organisation and study (orgs/<organizationId>/…); the grant is limited to that prefix and to the named actions. Tenancy is enforced by the application.",
    });
  }
}
