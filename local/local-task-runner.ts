/**
 * Local mode's TaskRunner: the workflows' synthesized definitions run in-process by
 * aws-local-stepfunctions, their Lambda tasks answered by the very handlers Lambda would run (found
 * by the function ARN of each Task state). Executions are named after their task, as in AWS:
 * starting a running task again answers its execution.
 */
import './promise-with-resolvers.js';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { TaskRecord } from '../layers/control/tasks/task.js';
import {
  type TaskRunner,
  WORKFLOWS,
  type Workflow,
  workflowOf,
} from '../layers/control/tasks/task-runner.js';
import { lambdaContext } from './lambda-context.js';
import type { AslDefinition, AslState } from './state-machine-definitions.js';

/** A Lambda handler as local mode calls it: the event, a context, the answer. */
export type LocalFunction = (event: unknown, context: Context) => Promise<unknown>;

export interface LocalFunctionSpec {
  readonly handler: LocalFunction;
  /** the function's timeout (its context's remaining time starts there) */
  readonly timeoutMs: number;
}

type LocalTaskHandlers = NonNullable<
  NonNullable<NonNullable<Parameters<StateMachine['run']>[1]>['overrides']>['taskResourceLocalHandlers']
>;
type LocalTask = LocalTaskHandlers[string];
type LocalTaskAnswer = Awaited<ReturnType<LocalTask>>;

/** The ARN of a task's execution, as AWS would name it on the workflow's state machine. */
function executionArn(workflow: Workflow, taskId: string): string {
  return `arn:aws:states:us-east-1:000000000000:execution:kloud-${workflow}s:${taskId}`;
}

export interface LocalRunOptions {
  /** called as each Lambda Task state invokes its function, as an execution's history would show it */
  readonly log?: (entry: { state: string; function: string; taskId?: string }) => void;
  /** by state name: the pause before each retry, in ms (tests; local mode keeps the definition's) */
  readonly retryIntervalOverrides?: Record<string, number>;
  /** by state name: how long a Wait state waits, in ms (tests; local mode keeps the definition's) */
  readonly waitTimeOverrides?: Record<string, number>;
}

interface Execution {
  readonly arn: string;
  abort(): void;
  readonly ended: Promise<void>;
}

export class LocalTaskRunner implements TaskRunner {
  private readonly machines: Record<Workflow, StateMachine>;
  private readonly overrides: Record<string, LocalTask>;
  private readonly executions = new Map<string, Execution>();

  constructor(
    definitions: Readonly<Record<Workflow, AslDefinition>>,
    /** by function ARN */
    functions: Readonly<Record<string, LocalFunctionSpec>>,
    private readonly onExecutionError: (arn: string, err: unknown) => void,
    private readonly options: LocalRunOptions = {},
  ) {
    const machine = (definition: AslDefinition) =>
      new StateMachine(definition as unknown as StateMachineDefinition, {
        validationOptions: { checkPaths: false },
      });
    this.machines = Object.fromEntries(WORKFLOWS.map((w) => [w, machine(definitions[w])])) as Record<
      Workflow,
      StateMachine
    >;
    this.overrides = {};
    for (const definition of new Set(Object.values(definitions)))
      Object.assign(this.overrides, lambdaOverrides(definition, functions, options.log));
  }

  async start(task: TaskRecord): Promise<string> {
    const workflow = workflowOf(task.type);
    const arn = executionArn(workflow, task.id);
    if (this.executions.has(arn)) return arn;
    const { retryIntervalOverrides, waitTimeOverrides } = this.options;
    const run = this.machines[workflow].run(
      { taskId: task.id },
      {
        overrides: {
          taskResourceLocalHandlers: this.overrides,
          ...(retryIntervalOverrides && { retryIntervalOverrides }),
          ...(waitTimeOverrides && { waitTimeOverrides }),
        },
        noThrowOnAbort: true,
      },
    );
    const ended = run.result.then(
      () => undefined,
      (err: unknown) => this.onExecutionError(arn, err),
    );
    const execution = { arn, abort: run.abort, ended };
    this.executions.set(arn, execution);
    void ended.finally(() => this.executions.delete(arn));
    return arn;
  }

  async stop(executionArn: string): Promise<void> {
    this.executions.get(executionArn)?.abort();
  }

  /** Waits for every running execution to end (local mode's shutdown, tests). */
  async settled(): Promise<void> {
    while (this.executions.size > 0) await Promise.all([...this.executions.values()].map((e) => e.ended));
  }

  /** Stops every running execution. */
  async stopAll(): Promise<void> {
    for (const execution of this.executions.values()) execution.abort();
    await this.settled();
  }
}

/**
 * A local handler for every `lambda:invoke` Task state of the definition (Map and Parallel
 * states' own included): the state's input is `{ FunctionName, Payload }`, its answer `{ Payload }`.
 */
function lambdaOverrides(
  definition: AslDefinition,
  functions: Readonly<Record<string, LocalFunctionSpec>>,
  log: LocalRunOptions['log'],
): Record<string, LocalTask> {
  const overrides: Record<string, LocalTask> = {};
  const visit = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      for (const inner of [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])])
        if (inner) visit(inner.States);
      if (state.Type !== 'Task') continue;
      const arn = state.Parameters?.FunctionName;
      const fn = arn === undefined ? undefined : functions[arn];
      if (state.Resource !== 'arn:aws:states:::lambda:invoke' || !fn)
        throw new Error(`local mode has no handler for the Task state "${name}" (${arn ?? state.Resource})`);
      const functionName = arn!.slice(arn!.lastIndexOf(':') + 1).replace(/^kloud-/, '');
      overrides[name] = async (input) => {
        const { Payload } = input as { Payload: { taskId?: string } | null };
        log?.({ state: name, function: functionName, ...(Payload?.taskId && { taskId: Payload.taskId }) });
        const answer = await fn.handler(Payload, lambdaContext(functionName, randomUUID(), fn.timeoutMs));
        return { Payload: answer ?? null } as LocalTaskAnswer;
      };
    }
  };
  visit(definition.States);
  return overrides;
}
