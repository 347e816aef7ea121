/**
 * The feature encoder, driven by the committed bundle's spec: a row encodes the same
 * alone as inside any batch, and the transforms do what docs/model-bundle.md says.
 */
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { manifestSchema, type EncodedFeature, type FeatureSpec } from '../src/bundle/manifest.js';
import { CONTRACT_ENUMS, CUSTOMER_FIELDS, MAX_TENURE_MONTHS } from '../src/contract.js';
import { BundleError } from '../src/errors.js';
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

// The properties below run with fixed seeds, as fuzz.test.ts and fast-path-admission.test.ts do:
// every run checks the same rows, so a failure is the code's, seen on every run, never one run's draw.
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
      { numRuns: 300, seed: 20261201 },
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
      { numRuns: 200, seed: 20261202 },
    );
  });

  it('turns a null TotalCharges into the spec nullAs value, not NaN', () => {
    const row = { ...fc.sample(customer, { numRuns: 1, seed: 7 })[0], tenure: 0, TotalCharges: null } as EncoderRow;
    const v = encoder.encode([row]);
    expect(Array.from(v).every(Number.isFinite)).toBe(true);
  });

  // The encoder is generated code (one straight-line function per spec). This oracle reads
  // the transforms as docs/model-bundle.md defines them, one feature at a time.
  const byDefinition = (f: EncodedFeature, row: EncoderRow): number => {
    const num = (column: string, nullAs?: number): number => (row[column] === null && nullAs !== undefined ? nullAs : (row[column] as number));
    switch (f.transform) {
      case 'identity':
        return num(f.column, f.nullAs);
      case 'onehot':
        return String(row[f.column]) === f.value ? 1 : 0;
      case 'ratio': {
        const d = num(f.denominator);
        return d === 0 ? f.zeroDenominatorAs : num(f.numerator, f.nullAs) / d;
      }
    }
  };

  it('computes every feature as the spec defines it, tenure 0 and null TotalCharges included', () => {
    const edge = customer.map((row) => ({ ...row, tenure: 0, TotalCharges: null }));
    fc.assert(
      fc.property(fc.oneof(customer, edge), (row) => {
        const v = encoder.encode([row]);
        expect(Array.from(v)).toEqual(manifest.featureSpec.features.map((f) => Math.fround(byDefinition(f, row))));
      }),
      { numRuns: 300, seed: 20261203 },
    );
  });

  it('treats column names and values as data: quotes, backslashes and line separators cannot escape into the code', () => {
    const odd = ['a"b', "c'd", 'e\\f', 'g\u2028h\u2029i', '`${j}`', '\n*/k/*'];
    const spec: FeatureSpec = {
      columns: odd.map((name) => ({ name, kind: 'categorical' as const, allowedValues: odd })),
      features: [
        ...odd.map((column, i) => ({ name: `f${i}`, transform: 'onehot' as const, column, value: odd[(i + 1) % odd.length] as string })),
        { name: 'n', transform: 'identity' as const, column: 'a"b', nullAs: -1 },
        { name: 'r', transform: 'ratio' as const, numerator: "c'd", denominator: 'e\\f', zeroDenominatorAs: 7, nullAs: 3 },
      ],
    };
    const oddEncoder = compileEncoder(spec);
    const rows: EncoderRow[] = [
      Object.fromEntries(odd.map((c, i) => [c, odd[(i + 1) % odd.length]])),
      { ...Object.fromEntries(odd.map((c) => [c, c])), 'a"b': null, "c'd": 10, 'e\\f': 4 },
      { ...Object.fromEntries(odd.map((c) => [c, c])), 'a"b': 2.5, "c'd": null, 'e\\f': 0 },
    ];
    for (const row of rows.slice(1)) {
      const v = oddEncoder.encode([row]);
      expect(Array.from(v)).toEqual(spec.features.map((f) => Math.fround(byDefinition(f, row))));
    }
    // The first row is all one-hot matches; its numeric columns are strings, which the encoder refuses.
    expect(() => oddEncoder.encode([rows[0] as EncoderRow])).toThrow(new TypeError('feature n: column a"b is string, expected a number'));
  });

  it('one-hot compares a numeric column by its decimal text, as docs/model-bundle.md defines it', () => {
    // SeniorCitizen is 0 or 1 in the contract and "0" / "1" in the spec's allowedValues: a bundle may one-hot it.
    const flags = compileEncoder({
      columns: [{ name: 'SeniorCitizen', kind: 'integer', allowedValues: ['0', '1'] }],
      features: [
        { name: 'SeniorCitizen=0', transform: 'onehot', column: 'SeniorCitizen', value: '0' },
        { name: 'SeniorCitizen=1', transform: 'onehot', column: 'SeniorCitizen', value: '1' },
      ],
    });
    expect(Array.from(flags.encode([{ SeniorCitizen: 1 }, { SeniorCitizen: 0 }]))).toEqual([0, 1, 1, 0]);
  });

  it('refuses a spec whose feature reads a column the spec does not list', () => {
    const spec: FeatureSpec = {
      columns: [{ name: 'Contract', kind: 'categorical', allowedValues: ['One year'] }],
      features: [{ name: 'Contract=One year', transform: 'onehot', column: 'Contracts', value: 'One year' }],
    };
    expect(() => compileEncoder(spec)).toThrow(new BundleError('feature Contract=One year reads unknown column(s) Contracts'));
  });
});
