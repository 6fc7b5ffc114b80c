import { cpus, release, totalmem, type as osType } from 'node:os';
import type { ToolName } from './tools/backup-tool.js';

/** Where the figures were taken: without it, two results files cannot be compared. */
export interface MachineDescription {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly os: string;
  readonly node: string;
  readonly tools: Partial<Record<ToolName, string>>;
}

export function describeMachine(tools: Partial<Record<ToolName, string>>): MachineDescription {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryBytes: totalmem(),
    os: `${osType()} ${release()}`,
    node: process.versions.node,
    tools,
  };
}
