/**
 * What bundle verification must refuse, checked in-process on the committed bundle with one
 * fact changed at a time (the spawned-process view of start-up refusals is in
 * test/startup-faults.test.ts). Each case is a check that no other test exercised: removing it
 * let the gateway serve a bundle it promises to refuse.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readBundleDir, verifyBundle, type RawBundle } from '../src/bundle/load.js';
import { BundleError } from '../src/errors.js';
import { ChurnModel } from '../src/model/churn-model.js';
import { BUNDLE_DIR } from './helpers/index.js';

const committed = await readBundleDir(BUNDLE_DIR);
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

type Json = Record<string, unknown>;
type Column = { name: string; allowedValues?: string[]; nullable?: boolean; kind: string };
type Feature = { name: string; transform: string; column?: string; value?: string };

/** The committed bundle with its manifest changed by `edit`. */
function withManifest(edit: (m: Json) => void): RawBundle {
  const manifest = JSON.parse(committed.manifestJson) as Json;
  edit(manifest);
  return { ...committed, origin: 'edited-bundle', manifestJson: JSON.stringify(manifest) };
}
const spec = (m: Json) => m['featureSpec'] as { columns: Column[]; features: Feature[] };
const column = (m: Json, name: string) => spec(m).columns.find((c) => c.name === name) as Column;

/** verifyBundle's refusal, as a BundleError message. */
function refusal(raw: RawBundle): string {
  try {
    verifyBundle(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(BundleError);
    return (err as BundleError).message;
  }
  throw new Error('verifyBundle accepted the bundle');
}

/** ChurnModel.create's refusal (the contract check runs before any ONNX session starts). */
async function contractRefusal(raw: RawBundle): Promise<string> {
  const err = await ChurnModel.create(verifyBundle(raw)).then(
    async (model) => {
      await model.release();
      return new Error('the model was created');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BundleError);
  return (err as BundleError).message;
}

describe('bundle checksums and consistency', () => {
  it('accepts the committed bundle (control)', () => {
    expect(verifyBundle(committed).manifest.threshold).toBeGreaterThan(0);
  });

  it('refuses a parity.json whose bytes are not the ones the manifest hashed, even when it still parses', () => {
    const parityJson = `${committed.parityJson}\n`;
    expect(refusal({ ...committed, parityJson })).toMatch(/^parity\.json in \S+ has sha256 [0-9a-f]{64}, but the manifest says [0-9a-f]{64}$/);
  });

  it('refuses risk bands whose HIGH does not start at the threshold, or whose MEDIUM starts above HIGH', () => {
    // riskLevel HIGH and churn: true would disagree for the customers in between.
    const highElsewhere = withManifest((m) => (m['riskBands'] = { mediumFrom: 0.1, highFrom: 0.5 }));
    expect(refusal(highElsewhere)).toMatch(/riskBands in edited-bundle must satisfy mediumFrom ≤ highFrom = threshold; got \{"mediumFrom":0\.1,"highFrom":0\.5\} with threshold 0\.375/);
    const inverted = withManifest((m) => (m['riskBands'] = { mediumFrom: 0.5, highFrom: m['threshold'] }));
    expect(refusal(inverted)).toMatch(/riskBands in edited-bundle must satisfy mediumFrom ≤ highFrom = threshold; got \{"mediumFrom":0\.5,"highFrom":0\.375\}/);
  });

  it('compares a fact stated twice only when both are stated, names every disagreement at once, and reads n_rounds as a number', () => {
    type Stated = { metrics: Record<string, number>; params: Record<string, string> };
    const neither = withManifest((m) => {
      delete (m as Stated).metrics['threshold'];
      delete (m as Stated).params['threshold_rule'];
      delete (m as Stated).params['n_rounds'];
      delete (m as Stated).params['medium_from_fraction'];
      m['riskBands'] = { mediumFrom: 0.01, highFrom: m['threshold'] };
    });
    expect(verifyBundle(neither).manifest.threshold).toBe(0.375);
    expect(verifyBundle(withManifest((m) => ((m as Stated).params['n_rounds'] = '462.0'))).manifest.params['n_rounds']).toBe('462.0');
    // Without an explainer, n_rounds has nothing to agree with.
    expect(verifyBundle({ ...withManifest((m) => void delete m['explainer']), explainerJson: null }).explainer).toBeNull();
    const all = withManifest((m) => {
      (m as Stated).metrics['threshold'] = 0.5;
      (m as Stated).params['threshold_rule'] = 'another';
      (m as Stated).params['n_rounds'] = 'many';
      m['riskBands'] = { mediumFrom: 0.01, highFrom: m['threshold'] };
    });
    expect(refusal(all)).toMatch(
      /^manifest\.json in edited-bundle contradicts itself \(modelInfo would show both\): threshold is 0\.375, but metrics\.threshold is 0\.5; thresholdRule is "[^"]+", but params\.threshold_rule is "another"; explainer\.trees is 462, but params\.n_rounds is "many" \(one tree per boosting round\); riskBands\.mediumFrom is 0\.01, but params\.medium_from_fraction is "0\.5" of threshold 0\.375 \(0\.1875\)$/,
    );
    // Training rounds mediumFrom to 6 decimals: within that, the two agree.
    expect(verifyBundle(withManifest((m) => (m['riskBands'] = { mediumFrom: 0.1875004, highFrom: m['threshold'] }))).manifest.riskBands.mediumFrom).toBe(0.1875004);
    expect(refusal(withManifest((m) => (m['riskBands'] = { mediumFrom: 0.18751, highFrom: m['threshold'] })))).toMatch(/riskBands\.mediumFrom is 0\.18751, but params\.medium_from_fraction is "0\.5"/);
  });

  it('refuses a threshold outside (0, 1): every customer would be churn, or none', () => {
    for (const threshold of [0, 1, 1.5]) {
      const raw = withManifest((m) => {
        m['threshold'] = threshold;
        m['riskBands'] = { mediumFrom: 0, highFrom: threshold };
      });
      expect(refusal(raw), String(threshold)).toMatch(/manifest\.json in edited-bundle does not match the bundle format: threshold: /);
    }
  });

  it('refuses a parity case whose expected probability is not a probability', () => {
    const parity = JSON.parse(committed.parityJson) as { tolerance: number; cases: { probability: number }[] };
    (parity.cases[0] as { probability: number }).probability = 1.5;
    const parityJson = JSON.stringify(parity);
    const raw = withManifest((m) => ((m['parity'] as Json)['sha256'] = sha(parityJson)));
    expect(refusal({ ...raw, parityJson })).toMatch(/parity\.json in edited-bundle does not match the bundle format: cases\.0\.probability: /);
  });
});

describe('the contract check at load', () => {
  it('refuses allowed values that differ from the contract even when there are as many of them', async () => {
    const raw = withManifest((m) => (column(m, 'Contract').allowedValues = ['Month-to-month', 'One year', 'Three years']));
    expect(await contractRefusal(raw)).toContain('column Contract allows [Month-to-month, One year, Three years] in the bundle but [');
  });

  it('refuses a feature spec where TotalCharges, nullable in the contract, is not nullable', async () => {
    const raw = withManifest((m) => delete column(m, 'TotalCharges').nullable);
    expect(await contractRefusal(raw)).toContain('column TotalCharges is nullable in the contract but not in the feature spec');
  });

  it('refuses a column the contract has no field for', async () => {
    const raw = withManifest((m) => spec(m).columns.push({ name: 'Region', kind: 'categorical', allowedValues: ['North', 'South'] }));
    expect(await contractRefusal(raw)).toContain('column Region is in the feature spec but the contract has no such field');
  });

  it('refuses a one-hot feature testing a value the column does not allow (it would always be 0)', async () => {
    const raw = withManifest((m) => ((spec(m).features.find((f) => f.name === 'gender=Female') as Feature).value = 'female'));
    expect(await contractRefusal(raw)).toContain('feature gender=Female tests gender = "female", which is not an allowed value');
  });
});
