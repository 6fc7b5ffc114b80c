import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface MetadataTableProps {
  /** the customer managed key the table is encrypted with (required: the stack's key) */
  readonly encryptionKey: IKey;
  /** what a stack deletion does to the table (default: RETAIN, the store apps outlive the stack) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The control plane's single DynamoDB table (store apps now; tasks and schedules later): `pk`/`sk`
 * and one index `gsi1` on `gsi1pk`/`gsi1sk`, as the runtime's repository expects; on demand,
 * point-in-time recovery on, encrypted with the stack's key.
 */
export class MetadataTable extends Construct {
  public readonly table: Table;

  constructor(scope: Construct, id: string, props: MetadataTableProps) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: AttributeType.STRING },
      sortKey: { name: 'gsi1sk', type: AttributeType.STRING },
    });
  }
}
