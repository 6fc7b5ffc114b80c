import {
  AccessLogFormat,
  AuthorizationType,
  LogGroupLogDestination,
  MethodLoggingLevel,
  LambdaIntegration,
  RequestValidator,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { AnyPrincipal, ArnPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ApiFunction, Route } from '../layers/control/api/routes.js';

export interface ControlApiProps {
  /** the routes to serve (required: `ROUTES` from the shared route table) */
  readonly routes: readonly Route[];
  /** the function behind each route's `fn` (required) */
  readonly functions: Readonly<Record<ApiFunction, IFunction>>;
  /**
   * IAM principal ARNs (roles, users, or `arn:aws:iam::ACCOUNT:root`) allowed to call the API
   * (default: none named; any principal of this account whose IAM policy allows `execute-api:Invoke`)
   */
  readonly callers?: readonly string[];
  /** steady-state requests per second across the API (default: 50) */
  readonly throttlingRateLimit?: number;
  /** burst of requests above the rate (default: 100) */
  readonly throttlingBurstLimit?: number;
  /** how long access logs are kept (default: one year) */
  readonly accessLogRetention?: RetentionDays;
}

/**
 * The REST API built from the route table: every method signed (IAM authorization) and checked
 * by a request validator, access logs in JSON, throttling on the stage, and, when callers are
 * named, a resource policy that denies every other principal.
 */
export class ControlApi extends Construct {
  public readonly api: RestApi;
  public readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ControlApiProps) {
    super(scope, id);
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? RetentionDays.ONE_YEAR,
    });
    this.api = new RestApi(this, 'Api', {
      description: 'kloud control plane',
      cloudWatchRole: false,
      policy: props.callers?.length ? callersOnly(props.callers) : undefined,
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        loggingLevel: MethodLoggingLevel.OFF,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
        throttlingRateLimit: props.throttlingRateLimit ?? 50,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 100,
      },
    });
    const validator = new RequestValidator(this, 'Validator', {
      restApi: this.api,
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    const integrations = new Map<ApiFunction, LambdaIntegration>();
    for (const route of props.routes) {
      let integration = integrations.get(route.fn);
      if (!integration) {
        integration = new LambdaIntegration(props.functions[route.fn], { allowTestInvoke: false });
        integrations.set(route.fn, integration);
      }
      this.api.root.resourceForPath(route.path).addMethod(route.method, integration, {
        requestValidator: validator,
        requestParameters: pathParameters(route.path),
      });
    }
    this.acknowledge(
      'AwsSolutions-COG4',
      'callers are CI jobs and scripts with AWS credentials: every method uses IAM (SigV4) authorization, not Cognito',
    );
    this.acknowledge(
      'AwsSolutions-APIG3',
      'every request must be SigV4-signed by an allowed IAM principal; a web ACL would add a monthly cost at rest for no caller it could stop',
    );
    this.acknowledge(
      'AwsSolutions-APIG6',
      "access logs record every request; execution logs need the region's account-wide API Gateway CloudWatch role, which one application's stack should not take over",
    );
  }

  private acknowledge(id: string, reason: string): void {
    Validations.of(this).acknowledge({ id: `AwsSolutions::${id}`, reason });
  }
}

/** `{appId}` in a path becomes a required `method.request.path.appId`. */
function pathParameters(path: string): Record<string, boolean> {
  return Object.fromEntries(
    [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [`method.request.path.${name}`, true]),
  );
}

/**
 * Allows the named callers and denies everyone else: without the deny, any principal of the
 * account whose own IAM policy allows `execute-api:Invoke` could still call (same-account access
 * is granted by either policy).
 */
function callersOnly(callers: readonly string[]): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        actions: ['execute-api:Invoke'],
        principals: callers.map((arn) => new ArnPrincipal(arn)),
        resources: ['execute-api:/*'],
      }),
      new PolicyStatement({
        effect: Effect.DENY,
        actions: ['execute-api:Invoke'],
        principals: [new AnyPrincipal()],
        resources: ['execute-api:/*'],
        conditions: { ArnNotLike: { 'aws:PrincipalArn': [...callers] } },
      }),
    ],
  });
}
