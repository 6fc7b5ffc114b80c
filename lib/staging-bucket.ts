import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface StagingBucketProps {
  /** the key objects are encrypted with (required: the stack's key; S3 bucket keys keep KMS calls few) */
  readonly encryptionKey: IKey;
  /** how long an object lives before S3 expires it (default: 7 days) */
  readonly expireAfter?: Duration;
  /** what a stack deletion does to the bucket (default: RETAIN; CloudFormation cannot delete a bucket with objects) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The control plane's scratch space (work manifests, downloads prepared for a caller): private,
 * TLS only, encrypted with the stack's key, every object expired after a few days and every
 * unfinished multipart upload after one.
 */
export class StagingBucket extends Construct {
  public readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: StagingBucketProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [
        {
          expiration: props.expireAfter ?? Duration.days(7),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason:
        'only the control-plane functions touch this bucket, and their own logs and traces record each use; server access logs would need a log bucket of their own, itself unlogged',
    });
  }
}
