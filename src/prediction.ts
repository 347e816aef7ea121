/**
 * From probabilities to decisions: threshold, risk level and the model version, the
 * same for REST and GraphQL. The threshold and risk bands are the bundle's, never the
 * gateway's (the old prototype decided at 0.5 while its metrics used 0.35).
 */
import type { Manifest } from './bundle/manifest.js';
import type { CustomerRecord } from './contract.js';
import type { GatewayMetrics } from './metrics.js';
import type { ChurnModel } from './model/churn-model.js';
import type { ModelSlot } from './model/model-slot.js';

export type RiskLevel = 'LOW' | 'MEDIUM' | 'HIGH';

export interface Prediction {
  readonly customerId: string | null;
  readonly churnProbability: number;
  readonly willChurn: boolean;
  readonly riskLevel: RiskLevel;
  readonly threshold: number;
  readonly modelVersion: string;
  /**
   * The customer as scored and the model that scored it, for what is computed on request only
   * (GraphQL Prediction.outsideTrainingRange reads this model's manifest, not the one serving by
   * then). REST answers name their keys one by one, so neither reaches them.
   */
  readonly record: CustomerRecord;
  readonly model: ChurnModel;
}

export function riskLevelOf(p: number, bands: Manifest['riskBands']): RiskLevel {
  if (p >= bands.highFrom) return 'HIGH';
  return p >= bands.mediumFrom ? 'MEDIUM' : 'LOW';
}

export interface CustomerRequest {
  readonly customerId: string | null;
  readonly record: CustomerRecord;
}

/** Requests up to this many rows may share one session.run with concurrent requests. */
export const COALESCE_MAX_ROWS = 64;

/**
 * Coalesced runs allowed in flight at once: one on the inference worker and one queued
 * behind it, so the worker starts the next batch as soon as it is free while the event
 * loop keeps collecting requests (REST at 50 connections: +6% over one at a time, measured
 * in 3 interleaved rounds; more did not help).
 */
const MAX_RUNS_IN_FLIGHT = 2;

interface PendingRun {
  readonly model: ChurnModel;
  readonly rows: readonly CustomerRecord[];
  readonly resolve: (probabilities: Float32Array) => void;
  readonly reject: (err: unknown) => void;
}

export class Predictor {
  private pending: PendingRun[] = [];
  private flushScheduled = false;
  /** Coalesced runs in flight; at MAX_RUNS_IN_FLIGHT, new requests wait for one to finish. */
  private running = 0;

  constructor(
    private readonly slot: ModelSlot,
    private readonly metrics: GatewayMetrics,
    private readonly options: { coalesce: boolean } = { coalesce: true },
  ) {}

  /** The model answering right now (throws NotReadyError before start-up finishes). */
  get model(): ChurnModel {
    return this.slot.current;
  }

  /** One model computes every row of a request; results come back in input order. */
  async predict(customers: readonly CustomerRequest[]): Promise<Prediction[]> {
    const model = this.slot.current;
    // An empty batch scores nothing: no run, and none in gateway_inference_rows_per_run.
    if (customers.length === 0) return [];
    const records = customers.map((c) => c.record);
    const probabilities =
      this.options.coalesce && customers.length <= COALESCE_MAX_ROWS ? await this.coalesced(model, records) : await this.run(model, records);
    const { threshold, riskBands } = model.manifest;
    // Served predictions are metered per answered request (app.ts, RequestState.scored).
    return customers.map((c, i): Prediction => {
      const p = probabilities[i] as number;
      return {
        customerId: c.customerId,
        churnProbability: p,
        willChurn: p >= threshold,
        riskLevel: riskLevelOf(p, riskBands),
        threshold,
        modelVersion: model.modelVersion,
        record: c.record,
        model,
      };
    });
  }

  private run(model: ChurnModel, rows: readonly CustomerRecord[]): Promise<Float32Array> {
    this.metrics.inferenceRows.observe(rows.length);
    return model.predictRows(rows);
  }

  /**
   * Queues the rows; with no fixed wait, everything queued while fewer than
   * MAX_RUNS_IN_FLIGHT coalesced runs are in flight goes out as one session.run (per model)
   * right after the current I/O phase, and everything queued while the limit is reached
   * goes out as one run when a run completes.
   */
  private coalesced(model: ChurnModel, rows: readonly CustomerRecord[]): Promise<Float32Array> {
    model.acquire();
    return new Promise((resolve, reject) => {
      this.pending.push({ model, rows, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.running >= MAX_RUNS_IN_FLIGHT || this.pending.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    const runs = this.pending;
    this.pending = [];
    this.flushScheduled = false;
    const byModel = new Map<ChurnModel, PendingRun[]>();
    for (const run of runs) {
      const group = byModel.get(run.model);
      if (group) group.push(run);
      else byModel.set(run.model, [run]);
    }
    for (const [model, group] of byModel) {
      this.running++;
      void this.runGroup(model, group).finally(() => {
        group.forEach(() => model.relinquish());
        this.running--;
        this.scheduleFlush();
      });
    }
  }

  /**
   * One session.run for every request of the group. If it fails and the group has more than
   * one request, each request is run again on its own: a row that cannot be scored fails its
   * own request, never the other callers' that happened to share the run.
   */
  private async runGroup(model: ChurnModel, group: readonly PendingRun[]): Promise<void> {
    let rows = (group[0] as PendingRun).rows;
    if (group.length > 1) {
      const all: CustomerRecord[] = [];
      for (const g of group) for (const row of g.rows) all.push(row);
      rows = all;
    }
    let probabilities: Float32Array;
    try {
      probabilities = await this.run(model, rows);
    } catch (err) {
      if (group.length === 1) return (group[0] as PendingRun).reject(err);
      await Promise.all(group.map((g) => this.run(model, g.rows).then(g.resolve, g.reject)));
      return;
    }
    let offset = 0;
    for (const g of group) {
      g.resolve(probabilities.subarray(offset, offset + g.rows.length));
      offset += g.rows.length;
    }
  }
}
