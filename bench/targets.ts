/**
 * How `npm run bench` (bench/run.ts) records a load and judges a target against the issue's
 * limits: pure functions, so the rules are tested apart from a run (test/bench-targets.test.ts).
 *
 * A target that reads a load with failed answers is not met, whatever its figure: autocannon
 * counts every answer as a request, so a gateway refusing fast (503, 400, a GraphQL error in
 * a 200) would otherwise score its refusals as throughput. The run still writes its result
 * files, with the count beside the figure, so they keep what happened instead of losing it,
 * and exits with status 1.
 */

/** One autocannon load, as bench/results/<date>.json's `loads` holds it. */
export interface Load {
  name: string;
  /** Paired round (0-based) for the loads behind the ratio targets. */
  round?: number;
  connections: number;
  /** autocannon's requests.average: every answer counts, whatever its status. */
  requestsPerSec: number;
  /** autocannon's mean latency, of whole-millisecond samples: it reads low by up to 1 ms (0.02 ms at 1 connection and 3,400 req/s). Not shown in the table. */
  latencyMeanMs: number;
  /** connections ÷ req/s (Little's law: each connection keeps one request in flight): the mean time from one request to the next on a connection, autocannon's own turn included. */
  meanLatencyFromThroughputMs: number;
  /** autocannon's p99, in whole milliseconds: a reported k is a true p99 in [k, k+1). */
  latencyP99Ms: number;
  /** Connection errors and timeouts (autocannon's `errors`, timeouts included). */
  errors: number;
  /** Answers with a status outside 2xx. */
  non2xx: number;
  /** For the gateway's loads: 2xx answers that served no prediction (a GraphQL error in a 200), from gateway_predictions_total. */
  withoutPrediction?: number;
  /** The process's highest RSS during the load (VmHWM, reset before it), MB; absent when /proc could not be read. */
  peakRssMb?: number;
  /** Set when VmHWM could not be reset before the load: peakRssMb is then the process's peak since it started. */
  peakRssSinceStart?: boolean;
  /** Where the CPU went (bench/sched.ts), when /proc could be read. */
  cpu?: LoadCpu;
}

/** Shares of one core during the load's middle seconds, and the event loop's CPU time per request. */
export interface LoadCpu {
  loopOnCpu: number;
  loopWaiting: number;
  otherThreads: number;
  loadGenerator: number;
  /**
   * The event loop's CPU time from just before autocannon started to just after it ended ÷ the
   * requests it answered, µs. (Files before the thirty-first session: the middle seconds' share
   * of a core ÷ the load's mean req/s, a window and a count that did not match.)
   */
  loopUsPerRequest: number;
}

/** Answers of `loads` that were not a served 2xx: connection errors, timeouts, non-2xx, 2xx without a prediction. */
export function failedAnswers(loads: readonly Load[]): number {
  return loads.reduce((n, l) => n + l.errors + l.non2xx + (l.withoutPrediction ?? 0), 0);
}

/**
 * Whether `load` got no answer at all: its figures (0 req/s, a p99 and mean of 0 ms) measure
 * nothing, and a p99 of 0 read as met. A target that reads such a load is not measured.
 */
export const answeredNothing = (load: Load): boolean => load.requestsPerSec === 0;

export interface TargetSpec {
  target: string;
  /** null: not measured (an RSS that /proc could not give); such a target is not met. judge sets it null when a load it reads answered nothing. */
  value: number | null;
  low: number | null;
  high: number | null;
  limit: number;
  higherIsBetter: boolean;
  /**
   * The figure is autocannon's latency, in whole milliseconds: a reported k is a true value in
   * [k, k+1), so only a reported k below the limit shows the true value within it.
   */
  wholeMilliseconds?: boolean;
  /** The loads the figure is read from; any failed answer among them makes the target not met. */
  reads: readonly Load[];
}

/** A judged target, as bench/results/<date>.json's `targets` holds it. */
export interface Target extends Omit<TargetSpec, 'reads'> {
  /** Failed answers (failedAnswers) in the loads the target reads. */
  failedAnswers: number;
  met: boolean;
}

export function judge({ reads, ...spec }: TargetSpec): Target {
  const failed = failedAnswers(reads);
  const value = reads.some(answeredNothing) ? null : spec.value;
  const { limit } = spec;
  const within = value !== null && (spec.higherIsBetter ? value >= limit : spec.wholeMilliseconds ? value < limit : value <= limit);
  return { ...spec, value, failedAnswers: failed, met: within && failed === 0 };
}

/** The target table's "Measured" cell: the figure, its range or second figure in brackets, and any failed answers. */
export function measuredCell(t: Target): string {
  if (t.value === null) return 'not measured';
  const f = (v: number) => (t.wholeMilliseconds ? v.toFixed(0) : v.toFixed(v < 10 ? 3 : 1));
  const range = t.low === null || t.high === null || (t.low === t.high && t.low === t.value) ? '' : t.low === t.high ? ` (${f(t.low)})` : ` (${f(t.low)}–${f(t.high)})`;
  return `${f(t.value)}${range}${t.failedAnswers > 0 ? ` (${t.failedAnswers} failed answers)` : ''}`;
}

/** The target table's "Met" cell. */
export function metCell(t: Target): string {
  return t.met ? 'yes' : t.value === null ? '**no** (not measured)' : '**no**';
}
