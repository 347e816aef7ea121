/**
 * The feature encoder, driven by the committed bundle's spec: a row encodes the same
 * alone as inside any batch, and the transforms do what docs/model-bundle.md says.
 */
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manifestSchema } from '../src/bundle/manifest.js';
import { CONTRACT_ENUMS, CUSTOMER_FIELDS, MAX_TENURE_MONTHS } from '../src/contract.js';
import { compileEncoder, type EncoderRow } from '../src/model/features.js';
import { BUNDLE_DIR } from './helpers/index.js';

const manifest = manifestSchema.parse(JSON.parse(await readFile(`${BUNDLE_DIR}/manifest.json`, 'utf8')));
const encoder = compileEncoder(manifest.featureSpec);

const customer: fc.Arbitrary<EncoderRow> = fc.record(
  Object.fromEntries(
    CUSTOMER_FIELDS.map((f) => {
      switch (f.kind) {
        case 'enum':
          return [f.column, fc.constantFrom(...Object.values(CONTRACT_ENUMS[f.enumName]))];
        case 'yesNo':
          return [f.column, fc.constantFrom('Yes', 'No')];
        case 'flag01':
          return [f.column, fc.constantFrom(0, 1)];
        case 'months':
          return [f.column, fc.integer({ min: 0, max: MAX_TENURE_MONTHS })];
        case 'money':
          return [f.column, f.nullable ? fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: null }) : fc.double({ min: 0, max: 1e6, noNaN: true })];
      }
    }),
  ) as Record<string, fc.Arbitrary<string | number | null>>,
);

describe('feature encoder', () => {
  it('has one input per feature of the spec', () => {
    expect(encoder.width).toBe(manifest.featureSpec.features.length);
    expect(encoder.names).toEqual(manifest.featureSpec.features.map((f) => f.name));
  });

  it('encodes a row the same alone as at any position of a batch', () => {
    fc.assert(
      fc.property(fc.array(customer, { minLength: 1, maxLength: 30 }), fc.nat(), (rows, k) => {
        const i = k % rows.length;
        const batch = encoder.encode(rows);
        const alone = encoder.encode([rows[i] as EncoderRow]);
        expect(Array.from(batch.subarray(i * encoder.width, (i + 1) * encoder.width))).toEqual(Array.from(alone));
      }),
      { numRuns: 300 },
    );
  });

  it('one-hot encodes every categorical value, exactly one 1 per column', () => {
    fc.assert(
      fc.property(customer, (row) => {
        const v = encoder.encode([row]);
        const byColumn = new Map<string, number>();
        manifest.featureSpec.features.forEach((f, j) => {
          if (f.transform === 'onehot') byColumn.set(f.column, (byColumn.get(f.column) ?? 0) + (v[j] as number));
        });
        for (const total of byColumn.values()) expect(total).toBe(1);
      }),
      { numRuns: 200 },
    );
  });

  it('turns a null TotalCharges into the spec nullAs value, not NaN', () => {
    const row = { ...fc.sample(customer, { numRuns: 1, seed: 7 })[0], tenure: 0, TotalCharges: null } as EncoderRow;
    const v = encoder.encode([row]);
    expect(Array.from(v).every(Number.isFinite)).toBe(true);
  });
});
