/**
 * Prometheus metrics, on a registry of the app's own (not prom-client's global one) so
 * that several apps in one test process do not collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ChurnModel } from './model/churn-model.js';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'gateway_requests_total',
    help: 'HTTP requests by route, GraphQL operation and status',
    labelNames: ['route', 'operation', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'gateway_request_duration_seconds',
    help: 'HTTP request latency by route and GraphQL operation',
    labelNames: ['route', 'operation'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  readonly predictions = new Counter({
    name: 'gateway_predictions_total',
    help: 'Predictions served by risk level',
    labelNames: ['risk_level'] as const,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'gateway_batch_size',
    help: 'Rows per prediction request',
    buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000, 10000],
    registers: [this.registry],
  });
  readonly inferenceRows = new Histogram({
    name: 'gateway_inference_rows_per_run',
    help: 'Rows per ONNX session.run (above 1 for singles when concurrent requests were coalesced)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 1000, 10000],
    registers: [this.registry],
  });
  readonly modelInfo = new Gauge({
    name: 'gateway_model_info',
    help: 'The model being served (value 1)',
    labelNames: ['name', 'version', 'source', 'run_id'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  setModel(model: ChurnModel): void {
    this.modelInfo.reset();
    const { name, source, runId } = model.lineage;
    this.modelInfo.set({ name, version: model.modelVersion, source, run_id: runId }, 1);
  }
}
