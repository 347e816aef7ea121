/**
 * Start-up check that a bundle fits this gateway: the feature spec's columns and values
 * must be exactly the customer contract's, and the ONNX graph must take the input the
 * feature spec produces. Any difference stops the load with every difference listed.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { Manifest } from '../bundle/manifest.js';
import { CUSTOMER_FIELDS, allowedColumnValues } from '../contract.js';

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');

export function diffManifestAgainstContract(manifest: Manifest): string[] {
  const problems: string[] = [];
  const columns = new Map(manifest.featureSpec.columns.map((c) => [c.name, c]));
  for (const field of CUSTOMER_FIELDS) {
    const column = columns.get(field.column);
    if (!column) {
      problems.push(`column ${field.column} (GraphQL ${field.field}) is in the contract but not in the feature spec`);
      continue;
    }
    const allowed = allowedColumnValues(field);
    if (allowed && !sameSet(allowed, column.allowedValues ?? [])) {
      problems.push(`column ${field.column} allows [${(column.allowedValues ?? []).join(', ')}] in the bundle but [${allowed.join(', ')}] in the contract`);
    }
    if (field.kind === 'money' && field.nullable) {
      const nullable = column.nullable === true;
      if (!nullable) problems.push(`column ${field.column} is nullable in the contract but not in the feature spec`);
    }
  }
  const contractColumns = new Set<string>(CUSTOMER_FIELDS.map((f) => f.column));
  for (const name of columns.keys()) {
    if (!contractColumns.has(name)) problems.push(`column ${name} is in the feature spec but the contract has no such field`);
  }
  for (const f of manifest.featureSpec.features) {
    if (f.transform !== 'onehot') continue;
    const allowed = columns.get(f.column)?.allowedValues;
    if (allowed && !allowed.includes(f.value)) problems.push(`feature ${f.name} tests ${f.column} = "${f.value}", which is not an allowed value`);
  }
  // A column that may be null (in the feature spec or in the contract) needs nullAs in every
  // feature that reads it as a number; a denominator has no such fallback, so it must not be nullable.
  const nullableInContract = new Set<string>(CUSTOMER_FIELDS.filter((f) => 'nullable' in f && f.nullable).map((f) => f.column));
  const nullable = (column: string): boolean => columns.get(column)?.nullable === true || nullableInContract.has(column);
  for (const f of manifest.featureSpec.features) {
    if (f.transform === 'onehot') continue;
    const read = f.transform === 'identity' ? f.column : f.numerator;
    if (nullable(read) && f.nullAs === undefined) {
      problems.push(`feature ${f.name} reads nullable column ${read} without nullAs`);
    }
    if (f.transform === 'ratio' && nullable(f.denominator)) {
      problems.push(`feature ${f.name} divides by nullable column ${f.denominator}; a denominator cannot be null`);
    }
  }
  return problems;
}

/** What a session says about its graph: an onnxruntime InferenceSession or the worker-hosted one. */
export type SessionShape = Pick<InferenceSession, 'inputNames' | 'outputNames' | 'inputMetadata' | 'outputMetadata'>;

export function diffSessionAgainstManifest(session: SessionShape, manifest: Manifest): string[] {
  const problems: string[] = [];
  const width = manifest.featureSpec.features.length;
  const input = session.inputMetadata.find((m) => m.name === manifest.onnx.inputName);
  if (!input) {
    problems.push(`ONNX input ${manifest.onnx.inputName} not found; the graph has [${session.inputNames.join(', ')}]`);
  } else if (input.isTensor) {
    if (input.type !== 'float32') problems.push(`ONNX input ${input.name} is ${input.type}, expected float32`);
    const dim = input.shape[1];
    if (input.shape.length !== 2 || (typeof dim === 'number' && dim !== width)) {
      problems.push(`ONNX input ${input.name} has shape [${input.shape.join(', ')}], expected [N, ${width}] (the feature spec's ${width} features)`);
    }
  } else {
    problems.push(`ONNX input ${input.name} is not a tensor`);
  }
  const output = session.outputMetadata.find((m) => m.name === manifest.onnx.outputName);
  if (!output) {
    problems.push(`ONNX output ${manifest.onnx.outputName} not found; the graph has [${session.outputNames.join(', ')}]`);
  } else if (!output.isTensor) {
    problems.push(`ONNX output ${output.name} is not a tensor (export without ZipMap)`);
  } else {
    // The worker reads row i's P(positive) at [i, positiveClassIndex] of a float32 tensor.
    const { positiveClassIndex } = manifest.onnx;
    if (output.type !== 'float32') {
      problems.push(`ONNX output ${output.name} is ${output.type}, expected float32 class probabilities (onnx.outputName must name the probabilities, not the label)`);
    }
    const classes = output.shape[1];
    if (output.shape.length === 1 ? positiveClassIndex !== 0 : output.shape.length !== 2 || (typeof classes === 'number' && classes <= positiveClassIndex)) {
      problems.push(`ONNX output ${output.name} has shape [${output.shape.join(', ')}], expected [N, classes] with more than ${positiveClassIndex} classes (positiveClassIndex ${positiveClassIndex})`);
    }
  }
  return problems;
}
