import { Arn, ArnFormat, Names, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import type { KloudFunction } from './kloud-function.js';
import { nagResource } from './nag-resource.js';

export interface BackupSchedulesProps {
  /** the scheduled-task function, the only target the schedules may invoke (required) */
  readonly target: IFunction;
}

/**
 * What the schedules run on: the stack's own EventBridge Scheduler schedule group, which the
 * schedules function fills at run time (one schedule per kloud schedule), and the role Scheduler
 * invokes each schedule's target with. That role may invoke the scheduled-task function and
 * nothing else, and only Scheduler acting for this account may take it (aws:SourceAccount).
 * Why the target is a function and not the task state machine: docs/ARCHITECTURE.md, "Schedules".
 */
export class BackupSchedules extends Construct {
  public readonly group: CfnScheduleGroup;
  /** the role Scheduler assumes to invoke the target */
  public readonly role: Role;
  private readonly target: IFunction;

  constructor(scope: Construct, id: string, props: BackupSchedulesProps) {
    super(scope, id);
    this.target = props.target;
    this.group = new CfnScheduleGroup(this, 'Group', {
      name: Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }),
    });
    this.role = new Role(this, 'SchedulerRole', {
      description: 'EventBridge Scheduler: invokes the kloud scheduled-task function',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    this.role.addToPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.target.functionArn] }),
    );
  }

  /**
   * The function that manages the schedules (the schedules API): the group, role and target in
   * its environment; creating, changing, reading and deleting schedules of this group only, and
   * passing this role only, to Scheduler only.
   */
  bindManager(manager: KloudFunction): void {
    manager.fn.addEnvironment('KLOUD_SCHEDULE_GROUP', this.group.ref);
    manager.fn.addEnvironment('KLOUD_SCHEDULER_ROLE_ARN', this.role.roleArn);
    manager.fn.addEnvironment('KLOUD_SCHEDULED_TASK_ARN', this.target.functionArn);
    const schedules = Arn.format(
      {
        service: 'scheduler',
        resource: 'schedule',
        resourceName: `${this.group.ref}/*`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      },
      Stack.of(this),
    );
    manager.role.addToPolicy(
      new PolicyStatement({
        actions: [
          'scheduler:CreateSchedule',
          'scheduler:UpdateSchedule',
          'scheduler:DeleteSchedule',
          'scheduler:GetSchedule',
        ],
        resources: [schedules],
      }),
    );
    manager.role.addToPolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    Validations.of(manager).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[${nagResource(manager, schedules)}]`,
      reason:
        "one Scheduler schedule per kloud schedule, named at run time: the stack's schedule group is the boundary",
    });
  }
}
