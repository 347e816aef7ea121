/**
 * The model bundle's manifest and parity file, as zod schemas: the gateway's reading of
 * docs/model-bundle.md. Anything training writes that does not fit is refused at load.
 */
import { z } from 'zod';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');

export const featureColumnSchema = z.object({
  name: z.string().min(1),
  kind: z.enum(['categorical', 'integer', 'number']),
  allowedValues: z.array(z.string()).min(1).optional(),
  nullable: z.boolean().optional(),
  observedMin: z.number().optional(),
  observedMax: z.number().optional(),
});

export const encodedFeatureSchema = z.discriminatedUnion('transform', [
  z.object({ name: z.string().min(1), transform: z.literal('identity'), column: z.string(), nullAs: z.number().optional() }),
  z.object({ name: z.string().min(1), transform: z.literal('onehot'), column: z.string(), value: z.string() }),
  z.object({
    name: z.string().min(1),
    transform: z.literal('ratio'),
    numerator: z.string(),
    denominator: z.string(),
    zeroDenominatorAs: z.number(),
    nullAs: z.number().optional(),
  }),
]);

/**
 * The explainer's entry (optional: model versions registered before it existed have none and
 * are served without explanations). `tolerance` is in log-odds per contribution.
 */
export const explainerEntrySchema = z.object({
  file: z.string().min(1),
  sha256,
  trees: z.number().int().min(1),
  referenceCount: z.number().int().min(1),
  tolerance: z.number().positive(),
});

export const featureSpecSchema = z.object({
  columns: z.array(featureColumnSchema).min(1),
  features: z.array(encodedFeatureSchema).min(1),
});

export const manifestSchema = z.object({
  formatVersion: z.literal(1),
  registeredModel: z.object({ name: z.string().min(1), version: z.string().nullable(), alias: z.string().nullable() }),
  run: z.object({ runId: z.string().min(1), experimentId: z.string().min(1), experimentName: z.string().min(1) }),
  // modelInfo.trainedAt promises an ISO 8601 UTC time (training writes 2026-11-29T00:26:31Z).
  createdAt: z.iso.datetime({ message: 'an ISO 8601 UTC time such as 2026-11-29T00:26:31Z' }),
  gitCommit: z.string().nullable(),
  // The config file the run read: its bytes' sha256, its path in the checkout (null outside it). Optional: the
  // committed bundle was trained before training recorded it.
  config: z.object({ sha256, path: z.string().min(1).nullable() }).optional(),
  datasetSha256: sha256.nullable(),
  libraryVersions: z.record(z.string(), z.string()),
  params: z.record(z.string(), z.string()),
  metrics: z.record(z.string(), z.number()),
  threshold: z.number().gt(0).lt(1),
  thresholdRule: z.string(),
  riskBands: z.object({ mediumFrom: z.number().min(0).max(1), highFrom: z.number().min(0).max(1) }),
  onnx: z.object({
    file: z.string().min(1),
    sha256,
    inputName: z.string().min(1),
    outputName: z.string().min(1),
    positiveClassIndex: z.number().int().min(0),
    opset: z.number().int().optional(),
  }),
  parity: z.object({ file: z.string().min(1), sha256, count: z.number().int().min(1), tolerance: z.number().positive() }),
  explainer: explainerEntrySchema.optional(),
  featureSpec: featureSpecSchema,
});

export const parityFileSchema = z.object({
  tolerance: z.number().positive(),
  cases: z
    .array(z.object({ input: z.record(z.string(), z.union([z.string(), z.number(), z.null()])), probability: z.number().min(0).max(1) }))
    .min(1),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type FeatureSpec = z.infer<typeof featureSpecSchema>;
export type EncodedFeature = z.infer<typeof encodedFeatureSchema>;
export type ParityFile = z.infer<typeof parityFileSchema>;
