/**
 * Starts and stops task executions in AWS, each on its workflow's state machine (lib/).
 * An execution is named after its task: Step Functions refuses a second execution of one name
 * with another input and answers the first one's ARN for the same input, so a start that is
 * retried starts the task once.
 */
import { type SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { TaskRecord } from './task.js';
import { type TaskRunner, type Workflow, workflowOf } from './task-runner.js';

export class StepFunctionsTaskRunner implements TaskRunner {
  constructor(
    private readonly client: SFNClient,
    /** the state machine of each workflow */
    private readonly stateMachineArns: Readonly<Record<Workflow, string>>,
  ) {}

  async start(task: TaskRecord): Promise<string> {
    const out = await this.client.send(
      new StartExecutionCommand({
        stateMachineArn: this.stateMachineArns[workflowOf(task.type)],
        name: task.id,
        input: JSON.stringify({ taskId: task.id }),
      }),
    );
    return out.executionArn!;
  }

  async stop(executionArn: string, reason: string): Promise<void> {
    await this.client.send(new StopExecutionCommand({ executionArn, cause: reason.slice(0, 32_768) }));
  }
}
