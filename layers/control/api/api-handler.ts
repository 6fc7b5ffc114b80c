/**
 * One function's API Gateway REST proxy handler: finds the operation by `resource` and
 * `httpMethod`, validates the request, calls the operation's implementation and shapes the
 * answer. Logging, tracing and metrics come from middy middlewares.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { NotFound } from '../errors.js';
import { logger, metrics, tracer } from '../runtime/observability.js';
import { OPERATIONS, type OperationInput, type OperationKey, type OperationResult } from './operations.js';
import { parseRequest } from './request.js';
import { Answer, errorResponse, jsonResponse } from './responses.js';

export type Implementations<K extends OperationKey> = {
  [key in K]: (input: OperationInput<key>) => Promise<OperationResult<key> | Answer<OperationResult<key>>>;
};

export function apiHandler<K extends OperationKey>(implementations: Implementations<K>) {
  const route = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const key = `${event.httpMethod} ${event.resource}` as K;
    const started = Date.now();
    logger.appendKeys({ route: key });
    tracer.putAnnotation('route', key);
    let response: APIGatewayProxyResult;
    try {
      const implementation = implementations[key] as
        ((input: OperationInput<K>) => Promise<unknown>) | undefined;
      if (!implementation) throw new NotFound(`no route ${event.httpMethod} ${event.path}`, 'NO_ROUTE');
      const spec = OPERATIONS[key];
      const result = await implementation(parseRequest<K>(spec, event));
      response =
        result instanceof Answer
          ? jsonResponse(result.status, result.body)
          : jsonResponse(spec.status, result);
    } catch (err) {
      response = errorResponse(err, context.awsRequestId);
    }
    metrics.addMetric(response.statusCode < 400 ? 'requestSucceeded' : 'requestRefused', MetricUnit.Count, 1);
    logger.info('request', {
      method: event.httpMethod,
      resource: event.resource,
      status: response.statusCode,
      ms: Date.now() - started,
    });
    return response;
  };
  return middy(route)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}
