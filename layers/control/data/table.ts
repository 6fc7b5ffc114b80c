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
  UpdateCommand,
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
const TABLE_KEYS = ['pk', 'sk'] as const;
const GSI1_KEYS = ['pk', 'sk', 'gsi1pk', 'gsi1sk'] as const;
/** Reads one filtered page may take before it answers what it found (and where to go on). */
const MAX_FILTERED_READS = 10;
const FILTERED_READ_LIMIT = 100;

export interface Query {
  /** GSI1, or the table's own keys when absent */
  readonly index?: typeof GSI1;
  /** pk (gsi1pk) value */
  readonly partition: string;
  /** sk (gsi1sk) begins with it */
  readonly prefix?: string;
  /** descending sort key order */
  readonly descending?: boolean;
  /** only the items it accepts fill the page (attributes the key cannot select) */
  readonly filter?: (item: Item) => boolean;
  readonly limit: number;
  readonly nextToken?: string;
}

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
   * Adds `counters` (attribute paths such as `progress.done`, which must exist) to the item's
   * numbers in one atomic update, and sets `values`, where every attribute of `where` has its
   * value; false when one has not (or there is no item). Writers that run at once never lose an
   * addition. (DynamoDB's ADD takes top-level attributes only: a SET adds to nested ones.)
   */
  async add(
    pk: string,
    sk: string,
    counters: Readonly<Record<string, number>>,
    values: Readonly<Record<string, unknown>>,
    where: Readonly<Record<string, string | number>>,
  ): Promise<boolean> {
    const names: Record<string, string> = {};
    const attributeValues: Record<string, unknown> = {};
    let n = 0;
    const path = (p: string) =>
      p
        .split('.')
        .map((part) => {
          const name = `#n${n++}`;
          names[name] = part;
          return name;
        })
        .join('.');
    const value = (v: unknown) => {
      const name = `:v${n++}`;
      attributeValues[name] = v;
      return name;
    };
    const sets = [
      ...Object.entries(counters).map(([p, by]) => {
        const attribute = path(p);
        return `${attribute} = ${attribute} + ${value(by)}`;
      }),
      ...Object.entries(values).map(([p, v]) => `${path(p)} = ${value(v)}`),
    ];
    const conditions = Object.entries(where).map(([p, v]) => `${path(p)} = ${value(v)}`);
    return this.conditional(() =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.name,
          Key: { pk, sk },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: ['attribute_exists(pk)', ...conditions].join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: attributeValues,
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
  queryGsi1(partition: string, limit: number, nextToken?: string): Promise<Page<Item>> {
    return this.query({ index: GSI1, partition, limit, ...(nextToken !== undefined && { nextToken }) });
  }

  /**
   * One page of a partition, in sort key order. With a filter, it reads on until the page is
   * full, the partition ends or MAX_FILTERED_READS reads were made (a shorter page, with a token).
   */
  async query(q: Query): Promise<Page<Item>> {
    const keys = q.index ? GSI1_KEYS : TABLE_KEYS;
    const [pk, sk] = q.index ? ['gsi1pk', 'gsi1sk'] : ['pk', 'sk'];
    let start: Record<string, unknown> | undefined = decodePageToken(q.nextToken, keys, {
      [pk]: q.partition,
    });
    const items: Item[] = [];
    for (let reads = 0; reads < MAX_FILTERED_READS; reads++) {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.name,
          IndexName: q.index,
          KeyConditionExpression: `#pk = :pk${q.prefix === undefined ? '' : ' AND begins_with(#sk, :sk)'}`,
          ExpressionAttributeNames: { '#pk': pk, ...(q.prefix !== undefined && { '#sk': sk }) },
          ExpressionAttributeValues: {
            ':pk': q.partition,
            ...(q.prefix !== undefined && { ':sk': q.prefix }),
          },
          ScanIndexForward: !q.descending,
          Limit: q.filter ? FILTERED_READ_LIMIT : q.limit - items.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of (out.Items ?? []) as Item[]) {
        if (q.filter && !q.filter(item)) continue;
        items.push(item);
        // the page may end inside what was read: the token names its last item
        if (items.length === q.limit)
          return {
            items,
            nextToken: encodePageToken(Object.fromEntries(keys.map((k) => [k, String(item[k])])))!,
          };
      }
      start = out.LastEvaluatedKey;
      if (!start) return { items };
    }
    return { items, nextToken: encodePageToken(start as Record<string, string>)! };
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
