import { readFileSync } from 'node:fs';

/**
 * Linux pressure stall information (/proc/pressure): how long tasks waited for a CPU, for I/O
 * and for memory. Read before and after a step, the difference says what a slow step waited
 * for. The figures are machine-wide, so they include other work on the machine: useful to tell
 * "the disk was the limit" from "someone else had the cores".
 */
export interface PressureTotals {
  /** Microseconds in which at least one task waited ("some") or all waited ("full"). */
  readonly cpuSome: number;
  readonly ioSome: number;
  readonly ioFull: number;
  readonly memorySome: number;
  readonly memoryFull: number;
}

export type PressureStalls = { readonly [K in keyof PressureTotals]: number };

function totals(resource: 'cpu' | 'io' | 'memory'): { some: number; full: number } | undefined {
  try {
    const text = readFileSync(`/proc/pressure/${resource}`, 'utf8');
    const total = (kind: string): number =>
      Number(new RegExp(`^${kind} .*total=(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { some: total('some'), full: total('full') };
  } catch {
    return undefined; // not Linux, or a kernel without PSI
  }
}

export function readPressure(): PressureTotals | undefined {
  const cpu = totals('cpu');
  const io = totals('io');
  const memory = totals('memory');
  if (!cpu || !io || !memory) return undefined;
  return {
    cpuSome: cpu.some,
    ioSome: io.some,
    ioFull: io.full,
    memorySome: memory.some,
    memoryFull: memory.full,
  };
}

/** Stall seconds between two readings. */
export function stallsBetween(before: PressureTotals, after: PressureTotals): PressureStalls {
  const d = (k: keyof PressureTotals): number => (after[k] - before[k]) / 1e6;
  return {
    cpuSome: d('cpuSome'),
    ioSome: d('ioSome'),
    ioFull: d('ioFull'),
    memorySome: d('memorySome'),
    memoryFull: d('memoryFull'),
  };
}
