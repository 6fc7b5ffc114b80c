import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * A resource as cdk-nag names it in a finding's ID (`Resource::arn:<AWS::Partition>:...`): the
 * resolved value with each reference written `<Name>` or `<LogicalId.Attribute>`, so that the
 * acknowledgement matches whether the stack's account and region are known or not. Other
 * expressions (`Fn::Select` of a name) are written as their JSON, as cdk-nag writes them.
 */
export function nagResource(scope: Construct, value: string): string {
  const text = (part: unknown): string => {
    if (typeof part === 'string') return part;
    const ref = part as { Ref?: string; 'Fn::GetAtt'?: string[]; 'Fn::Join'?: [string, unknown[]] };
    if (ref['Fn::Join']) return ref['Fn::Join'][1].map(text).join(ref['Fn::Join'][0]);
    if (ref.Ref) return `<${ref.Ref}>`;
    if (ref['Fn::GetAtt']) return `<${ref['Fn::GetAtt'].join('.')}>`;
    return JSON.stringify(part);
  };
  return `Resource::${text(Stack.of(scope).resolve(value))}`;
}
