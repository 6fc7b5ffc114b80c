/** API Gateway proxy events and a Lambda context for calling handlers directly in tests. */
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
