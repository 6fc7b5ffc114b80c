/** Calling handlers directly in tests: their environment, proxy events, a Lambda context. */
import { join } from 'node:path';
import { jest } from '@jest/globals';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

export function proxyEvent(
  method: string,
  resource: string,
  parts: Partial<APIGatewayProxyEvent> = {},
): APIGatewayProxyEvent {
  return {
    httpMethod: method,
    resource,
    path: resource,
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
    ...parts,
  };
}

export function testContext(requestId: string, remainingMs: number): Context {
  return {
    awsRequestId: requestId,
    functionName: 'kloud-test',
    getRemainingTimeInMillis: () => remainingMs,
  } as Context;
}

/**
 * The environment the handlers read, as local mode sets it: the table on `dynamoEndpoint`,
 * secrets, directories and cache under `dir`, and `extra` (store buckets, slice caps).
 */
export function useHandlerEnvironment(
  table: string,
  dir: string,
  dynamoEndpoint: string,
  extra: Record<string, string>,
): void {
  Object.assign(process.env, {
    KLOUD_TABLE_NAME: table,
    KLOUD_SECRETS_FILE: join(dir, 'secrets.json'),
    KLOUD_LOCAL_ROOT: join(dir, 'root'),
    KLOUD_CACHE_DIR: join(dir, 'cache'),
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_SERVICE_NAME: 'kloud',
    POWERTOOLS_METRICS_NAMESPACE: 'kloud',
    ...extra,
  });
}

/** Keeps what the process prints (log lines) in `printed` instead of showing it. */
export function capturePrinted(printed: string[]): void {
  for (const stream of [process.stdout, process.stderr])
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(chunk.toString());
      return true;
    });
}
