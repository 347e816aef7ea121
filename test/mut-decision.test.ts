/**
 * The decision at its boundaries, on the real model: training counts a customer as churn when
 * p >= threshold (model/churn_model/evaluate.py) and chose the threshold by that rule, so the
 * gateway must decide the same way at a probability exactly equal to the threshold, and start
 * HIGH at highFrom and MEDIUM at mediumFrom. The old prototype's metrics and serving disagreed on
 * the threshold; a `>` here would disagree with training for every customer scored exactly at it.
 * No committed threshold equals a served probability, so the bundle's threshold is moved onto
 * one: the probability the committed model gives a customer, read back as float32 first.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readBundleDir, verifyBundle, type RawBundle } from '../src/bundle/load.js';
import { GatewayMetrics } from '../src/metrics.js';
import { ChurnModel } from '../src/model/churn-model.js';
import { ModelSlot } from '../src/model/model-slot.js';
import { Predictor, type Prediction } from '../src/prediction.js';
import { parseLegacyBody } from '../src/rest/predict.js';
import { BUNDLE_DIR, LEGACY_PAYLOAD } from './helpers/index.js';

const committed = await readBundleDir(BUNDLE_DIR);
const slots: ModelSlot[] = [];
afterAll(async () => {
  for (const slot of slots) await slot.close();
});

/** The committed bundle with its threshold (and what states it again) at `threshold`; MEDIUM from half of it, as params.medium_from_fraction says. */
function withThreshold(threshold: number): RawBundle {
  const manifest = JSON.parse(committed.manifestJson) as { threshold: number; metrics: Record<string, number>; params: Record<string, string>; riskBands: { mediumFrom: number; highFrom: number } };
  expect(manifest.params['medium_from_fraction']).toBe('0.5');
  manifest.threshold = threshold;
  manifest.metrics['threshold'] = threshold;
  manifest.riskBands = { mediumFrom: threshold * 0.5, highFrom: threshold };
  // Without its group report, which states the committed threshold again (and is not what is tested here).
  return { ...committed, origin: 'edited-bundle', manifestJson: JSON.stringify(manifest), groupReportJson: null };
}

/** The README's customer, two years into a two-year contract: well under 0.5, so twice its probability is still a threshold. */
const CUSTOMER = { ...LEGACY_PAYLOAD, Contract: 'Two year', tenure: 24, TotalCharges: 24 * LEGACY_PAYLOAD.MonthlyCharges };

/** The prediction a Predictor serving `raw` gives CUSTOMER, coalesced as the routes score it. */
async function predictWith(raw: RawBundle): Promise<Prediction> {
  const slot = new ModelSlot();
  slots.push(slot);
  await slot.swap(await ChurnModel.create(verifyBundle(raw)));
  const { requests } = parseLegacyBody(JSON.stringify(CUSTOMER), CUSTOMER, 1);
  const [prediction] = await new Predictor(slot, new GatewayMetrics()).predict(requests);
  return prediction as Prediction;
}

describe('the decision at a probability equal to a boundary', () => {
  it('is churn and HIGH at exactly the threshold, MEDIUM at exactly mediumFrom, as training decides (p >= threshold)', async () => {
    const p = (await predictWith(committed)).churnProbability;
    // The float32 the model answered, exactly representable as a threshold; twice it stays under 1.
    expect(Math.fround(p)).toBe(p);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(0.5);

    const atThreshold = await predictWith(withThreshold(p));
    expect(atThreshold).toMatchObject({ churnProbability: p, threshold: p, willChurn: true, riskLevel: 'HIGH' });

    // mediumFrom = half of 2p = p exactly (doubling and halving are exact in binary).
    const atMediumFrom = await predictWith(withThreshold(2 * p));
    expect(atMediumFrom.model.manifest.riskBands.mediumFrom).toBe(p);
    expect(atMediumFrom).toMatchObject({ churnProbability: p, willChurn: false, riskLevel: 'MEDIUM' });

    // Just above the probability: not churn; just above mediumFrom: LOW.
    const above = p + 2 ** -40;
    expect(await predictWith(withThreshold(above))).toMatchObject({ willChurn: false, riskLevel: 'MEDIUM' });
    expect(await predictWith(withThreshold(2 * above))).toMatchObject({ willChurn: false, riskLevel: 'LOW' });
  });
});
