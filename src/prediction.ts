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
}

export function riskLevelOf(p: number, bands: Manifest['riskBands']): RiskLevel {
  if (p >= bands.highFrom) return 'HIGH';
  return p >= bands.mediumFrom ? 'MEDIUM' : 'LOW';
}

export interface CustomerRequest {
  readonly customerId: string | null;
  readonly record: CustomerRecord;
}

export class Predictor {
  constructor(
    private readonly slot: ModelSlot,
    private readonly metrics: GatewayMetrics,
  ) {}

  /** The model answering right now (throws NotReadyError before start-up finishes). */
  get model(): ChurnModel {
    return this.slot.current;
  }

  /** One model computes every row of a request; results come back in input order. */
  async predict(customers: readonly CustomerRequest[]): Promise<Prediction[]> {
    const model = this.slot.current;
    const probabilities = await model.predictRows(customers.map((c) => c.record));
    const { threshold, riskBands } = model.manifest;
    this.metrics.batchSize.observe(customers.length);
    return customers.map((c, i) => {
      const p = probabilities[i] as number;
      const riskLevel = riskLevelOf(p, riskBands);
      this.metrics.predictions.inc({ risk_level: riskLevel });
      return { customerId: c.customerId, churnProbability: p, willChurn: p >= threshold, riskLevel, threshold, modelVersion: model.modelVersion };
    });
  }
}
