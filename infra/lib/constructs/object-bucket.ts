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

/** Keys of raw uploads (`orgs/<organizationId>/uploads/<uuid>`, core/services/study.service.ts). */
export const UPLOAD_KEY_PATTERN = "orgs/*/uploads/*";

/**
 * The tag every presigned upload carries (a signed `x-amz-tagging` header; UPLOAD_OBJECT_TAG in
 * adapters/storage/s3-object-store.ts, kept equal by test/infra). Lifecycle filters match key
 * prefixes or tags, and the organisation id precedes `uploads/` in the key, so no prefix selects
 * every organisation's uploads: the expiry rule filters on this tag.
 */
export const UPLOAD_TAG = { key: "coinseg-object", value: "upload" } as const;

/** Lifecycle rule ids, for the tests that look them up. */
export const LIFECYCLE_RULE_IDS = { uploads: "expire-uploads", multipart: "abort-multipart", deleteMarkers: "expired-delete-markers" } as const;

/** Parameters of {@link ObjectBucket}. */
export interface ObjectBucketProps {
  readonly intelligentTieringAfterDays: number;
  readonly noncurrentVersionExpirationDays: number;
  /** Raw uploads (tagged {@link UPLOAD_TAG}) expire this many days after they were put. */
  readonly uploadExpirationDays: number;
  /** Incomplete multipart uploads are aborted this many days after they began. */
  readonly incompleteMultipartUploadDays: number;
  /** Browser origins allowed to PUT to presigned URLs. */
  readonly corsAllowedOrigins: readonly string[];
  /** RETAIN for data that must outlive the stack (prod). */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Versioned bucket encrypted with a customer-managed KMS key (rotated yearly), all public access
 * blocked, TLS enforced by bucket policy, server access logs to a separate bucket, and lifecycle
 * rules: expiry of raw uploads (by their tag) after `uploadExpirationDays`, their non-current
 * versions a day later; abort of incomplete multipart uploads (bucket-wide: S3 accepts no tag filter
 * on that action); removal of delete markers left with no versions behind them; Intelligent-Tiering
 * for current objects; expiry of non-current versions.
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
        {
          // An upload that was never imported (or whose import failed and was not retried) would stay
          // forever with its DICOM headers. Imported and refused uploads are deleted by importStudy;
          // in this versioned bucket that leaves a non-current version, gone a day later (the shortest
          // of overlapping expirations wins over the "noncurrent" rule's).
          id: LIFECYCLE_RULE_IDS.uploads,
          tagFilters: { [UPLOAD_TAG.key]: UPLOAD_TAG.value },
          expiration: Duration.days(props.uploadExpirationDays),
          noncurrentVersionExpiration: Duration.days(1),
        },
        // Presigned uploads are single PUTs; a multipart upload left incomplete only costs storage.
        { id: LIFECYCLE_RULE_IDS.multipart, abortIncompleteMultipartUploadAfter: Duration.days(props.incompleteMultipartUploadDays) },
        // Once a key's versions have all expired, its delete marker is all that is left.
        { id: LIFECYCLE_RULE_IDS.deleteMarkers, expiredObjectDeleteMarker: true },
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

  /**
   * Grants s3:PutObjectTagging on upload keys ({@link UPLOAD_KEY_PATTERN}) only: a presigned upload
   * carries {@link UPLOAD_TAG}, and S3 authorises the tagging of a PUT against the URL's signer.
   * Goes with `grantObjects(…, ["write"])`, which grants the PUT itself.
   */
  grantUploadTagging(grantee: iam.IGrantable & IConstruct): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ["s3:PutObjectTagging"], resources: [this.bucket.arnForObjects(UPLOAD_KEY_PATTERN)] }));
    const bucketLogicalId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
    Validations.of(grantee).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${UPLOAD_KEY_PATTERN}]`,
      reason: "Upload keys are created at run time (orgs/<organizationId>/uploads/<uuid>); tagging is granted on upload keys only, so that presigned uploads can carry the tag the expiry rule selects.",
    });
  }
}
