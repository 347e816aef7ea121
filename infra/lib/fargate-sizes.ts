/**
 * Fargate's valid CPU (units) to memory (MiB) combinations, Linux tasks.
 * Source: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
 */
function range(fromMiB: number, toMiB: number, stepMiB: number): number[] {
  const values: number[] = [];
  for (let m = fromMiB; m <= toMiB; m += stepMiB) values.push(m);
  return values;
}

export const FARGATE_MEMORY_BY_CPU: Readonly<Record<number, readonly number[]>> = Object.freeze({
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
});

/** Returns a human-readable problem, or undefined when cpu/memory is a valid Fargate size. */
export function fargateSizeProblem(cpu: number, memoryMiB: number): string | undefined {
  const memories = FARGATE_MEMORY_BY_CPU[cpu];
  if (memories === undefined) {
    return `cpu ${cpu} is not a Fargate CPU size; use one of ${Object.keys(FARGATE_MEMORY_BY_CPU).join(', ')}`;
  }
  if (!memories.includes(memoryMiB)) {
    const [lo, hi] = [memories[0], memories[memories.length - 1]];
    return `memoryMiB ${memoryMiB} is not valid with cpu ${cpu}; Fargate allows ${lo}–${hi} MiB (${memories.join(', ')})`;
  }
  return undefined;
}
