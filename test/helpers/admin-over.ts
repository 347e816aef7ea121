/**
 * The gateway's own ModelAdmin over a hand-made ModelSource, serving a model the caller owns (the
 * test gateway's, as a rule: nothing swaps it out, and the test gateway releases it), logging at
 * debug into `lines`.
 */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';
import { GatewayMetrics } from '../../src/metrics.js';
import type { ChurnModel } from '../../src/model/churn-model.js';
import { ModelAdmin, type ModelSource } from '../../src/model/model-admin.js';
import { ModelSlot } from '../../src/model/model-slot.js';

export async function adminOver(source: ModelSource, serving: ChurnModel) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const slot = new ModelSlot();
  await slot.swap(serving);
  const metrics = new GatewayMetrics();
  return { admin: new ModelAdmin(slot, source, createLogger('debug', destination), metrics), slot, lines, metrics };
}
