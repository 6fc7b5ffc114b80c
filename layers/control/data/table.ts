/**
 * The single DynamoDB table (pk/sk, one GSI gsi1pk/gsi1sk). Only conditional writes, no
 * transactions (dynalite has none): callers order their writes so a failure leaves nothing a
 * reader would trust (see store-apps/store-app-repository.ts).
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { decodePageToken, encodePageToken } from './page-token.js';

export interface Item {
  readonly pk: string;
  readonly sk: string;
  readonly gsi1pk?: string;
  readonly gsi1sk?: string;
  readonly [attribute: string]: unknown;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

export const GSI1 = 'gsi1';
const GSI1_KEYS = ['pk', 'sk', 'gsi1pk', 'gsi1sk'] as const;

export class Table {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    readonly name: string,
    client = new DynamoDBClient({}),
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(pk: string, sk: string): Promise<Item | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.name, Key: { pk, sk }, ConsistentRead: true }),
    );
    return out.Item as Item | undefined;
  }

  /** Writes `item` only where no item has its key; false when one has. */
  async putNew(item: Item): Promise<boolean> {
    return this.conditional(() =>
      this.doc.send(
        new PutCommand({ TableName: this.name, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      ),
    );
  }

  /** Replaces `item` only while the stored one has `version`; false when it changed meanwhile (or is gone). */
  async replace(item: Item & { version: number }, version: number): Promise<boolean> {
    return this.conditional(() =>
      this.doc.send(
        new PutCommand({
          TableName: this.name,
          Item: item,
          ConditionExpression: 'attribute_exists(pk) AND version = :v',
          ExpressionAttributeValues: { ':v': version },
        }),
      ),
    );
  }

  /**
   * Deletes the item; false when there was none, or when one of `where`'s attributes does not
   * have its value (so that a writer deletes only the item it saw).
   */
  async delete(
    pk: string,
    sk: string,
    where: Readonly<Record<string, string | number>> = {},
  ): Promise<boolean> {
    const entries = Object.entries(where);
    const names = Object.fromEntries(entries.map(([name], i) => [`#w${i}`, name]));
    const values = Object.fromEntries(entries.map(([, value], i) => [`:w${i}`, value]));
    return this.conditional(() =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.name,
          Key: { pk, sk },
          ConditionExpression: ['attribute_exists(pk)', ...entries.map((_, i) => `#w${i} = :w${i}`)].join(
            ' AND ',
          ),
          ...(entries.length > 0 && { ExpressionAttributeNames: names, ExpressionAttributeValues: values }),
        }),
      ),
    );
  }

  /** One page of the items whose gsi1pk is `partition`, in gsi1sk order. */
  async queryGsi1(partition: string, limit: number, nextToken?: string): Promise<Page<Item>> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.name,
        IndexName: GSI1,
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': partition },
        Limit: limit,
        ExclusiveStartKey: decodePageToken(nextToken, GSI1_KEYS, { gsi1pk: partition }),
      }),
    );
    const next = encodePageToken(out.LastEvaluatedKey as Record<string, string> | undefined);
    return { items: (out.Items ?? []) as Item[], ...(next && { nextToken: next }) };
  }

  private async conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}
