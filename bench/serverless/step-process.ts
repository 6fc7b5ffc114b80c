/**
 * One invocation of a backup step in its own process, as a Lambda invocation is: the request
 * (`{step, input}`) on stdin, the answer and the process's own CPU time and peak RSS on stdout.
 */
import { text } from 'node:stream/consumers';
import { batchStep, commitStep, planStep } from './backup-steps.js';
import type { StepName, StepAnswer } from './step-runner.js';

const STEPS = { plan: planStep, batch: batchStep, commit: commitStep } as const;

const request = JSON.parse(await text(process.stdin)) as { step: StepName; input: never };
const started = performance.now();
const output = await STEPS[request.step](request.input);
const usage = process.resourceUsage();
const answer: StepAnswer<unknown> = {
  output,
  seconds: (performance.now() - started) / 1000,
  cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
  peakRssBytes: usage.maxRSS * 1024,
};
process.stdout.write(`${JSON.stringify(answer)}\n`);
