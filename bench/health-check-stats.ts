/**
 * The health-check bench's arithmetic (bench/health-checks.ts): what a run of checks on one port
 * sums up to, and the ratios it is reported as, each against a baseline measured in the same run.
 */
import { median } from './stats.js';

/** One health check: how long until the answer's first bytes (or until it was given up), and whether that answer was a 200. */
export interface Check {
  readonly ms: number;
  readonly ok: boolean;
}

export interface CheckSummary {
  readonly checks: number;
  /** Not a 200: another status, a connection error, or no answer before the checker gave up. */
  readonly failed: number;
  readonly p50Ms: number;
  readonly maxMs: number;
  /** Checks the load balancer would have counted as failed: slower than its timeout, or failed. */
  readonly overTimeout: number;
  /**
   * The most of those in a row: what the target group's unhealthy threshold (3 in a row) acts on.
   * The bench checks every 200 ms, the ALB every 10 s, so a run of 3 here is not yet 3 of the ALB's.
   */
  readonly overTimeoutInARow: number;
}

/**
 * The summary of `checks` against a load balancer timing out at `timeoutMs`. A check given up
 * counts at the time it was given up (a lower bound of its latency) in p50 and max.
 */
export function summarizeChecks(checks: readonly Check[], timeoutMs: number): CheckSummary {
  if (checks.length === 0) throw new Error('no health checks to summarize');
  const ms = checks.map((c) => c.ms);
  let run = 0;
  let longest = 0;
  for (const c of checks) {
    run = !c.ok || c.ms > timeoutMs ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return {
    checks: checks.length,
    failed: checks.filter((c) => !c.ok).length,
    p50Ms: median(ms),
    maxMs: Math.max(...ms),
    overTimeout: checks.filter((c) => !c.ok || c.ms > timeoutMs).length,
    overTimeoutInARow: longest,
  };
}

/** `value` as a multiple of `baseline`, to 2 significant figures; null when the baseline is 0 (no ratio). */
export function ratio(value: number, baseline: number): number | null {
  if (baseline === 0) return null;
  return Number((value / baseline).toPrecision(2));
}

/** What the run is reported as: each port's p50 in the flood against its own idle p50, and OPS_PORT's against PORT's in the flood. */
export interface Ratios {
  readonly portFloodOverIdle: number | null;
  readonly opsFloodOverIdle: number | null;
  readonly opsOverPortInFlood: number | null;
}

export function floodRatios(idle: { port: CheckSummary; ops: CheckSummary }, flood: { port: CheckSummary; ops: CheckSummary }): Ratios {
  return {
    portFloodOverIdle: ratio(flood.port.p50Ms, idle.port.p50Ms),
    opsFloodOverIdle: ratio(flood.ops.p50Ms, idle.ops.p50Ms),
    opsOverPortInFlood: ratio(flood.ops.p50Ms, flood.port.p50Ms),
  };
}

/**
 * The target groups' health check timeout (infra/lib/load-balancer.ts, `healthCheck.timeout`):
 * a check not answered within it counts as failed. Written here because infra does not export it
 * (and its module loads aws-cdk-lib); test/bench-health-checks.test.ts holds the two equal.
 */
export const ALB_HEALTH_CHECK_TIMEOUT_MS = 5_000;

/** The flood's answers: 200s, other statuses (the gateway refusing: 503 over its body budget, …), and connections that failed. */
export function batchCounts(byStatusOrError: Readonly<Record<string, number>>): { answered: number; refused: number; errors: number } {
  let [answered, refused, errors] = [0, 0, 0];
  for (const [key, n] of Object.entries(byStatusOrError)) {
    if (key === '200') answered += n;
    else if (/^\d{3}$/.test(key)) refused += n;
    else errors += n;
  }
  return { answered, refused, errors };
}
