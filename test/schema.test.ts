/**
 * The schema as a contract: committed SDL and generated types match the Pothos schema,
 * the fixed names and enum values are there, and every type and field is described.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { isEnumType, isInputObjectType, isObjectType, type GraphQLField, type GraphQLInputField, type GraphQLNamedType } from 'graphql';
import { schema } from '../src/schema/index.js';
import { REPO_ROOT } from './helpers/index.js';
import { printSortedSchema, SDL_PATH } from '../scripts/print-schema.js';

describe('schema drift', () => {
  it('schema/schema.graphql is the printed, sorted Pothos schema', async () => {
    expect(await readFile(SDL_PATH, 'utf8')).toBe(printSortedSchema());
  });

  it('src/generated is what codegen makes from the committed SDL and operations', () => {
    expect(() => execFileSync('npx', ['graphql-codegen', '--config', 'codegen.ts', '--check'], { cwd: REPO_ROOT, stdio: 'pipe' })).not.toThrow();
  });
});

describe('public contract', () => {
  const enumValues = (name: string) => {
    const t = schema.getType(name);
    return isEnumType(t) ? t.getValues().map((v) => v.name).sort() : null;
  };

  it('keeps the fixed enum values', () => {
    expect(enumValues('Gender')).toEqual(['FEMALE', 'MALE']);
    expect(enumValues('MultipleLines')).toEqual(['NO', 'NO_PHONE_SERVICE', 'YES']);
    expect(enumValues('InternetService')).toEqual(['DSL', 'FIBER_OPTIC', 'NO']);
    expect(enumValues('AddOn')).toEqual(['NO', 'NO_INTERNET_SERVICE', 'YES']);
    expect(enumValues('Contract')).toEqual(['MONTH_TO_MONTH', 'ONE_YEAR', 'TWO_YEAR']);
    expect(enumValues('PaymentMethod')).toEqual(['BANK_TRANSFER_AUTOMATIC', 'CREDIT_CARD_AUTOMATIC', 'ELECTRONIC_CHECK', 'MAILED_CHECK']);
    expect(enumValues('RiskLevel')).toEqual(['HIGH', 'LOW', 'MEDIUM']);
    expect(enumValues('ModelSource')).toEqual(['BUNDLE', 'MLFLOW']);
  });

  it('keeps CustomerInput field names and types', () => {
    const input = schema.getType('CustomerInput');
    if (!isInputObjectType(input)) throw new Error('CustomerInput missing');
    const fields = Object.fromEntries(Object.values(input.getFields()).map((f) => [f.name, String(f.type)]));
    expect(fields).toEqual({
      customerId: 'String', gender: 'Gender!', seniorCitizen: 'Boolean!', partner: 'Boolean!', dependents: 'Boolean!', tenure: 'Int!',
      phoneService: 'Boolean!', multipleLines: 'MultipleLines!', internetService: 'InternetService!', onlineSecurity: 'AddOn!',
      onlineBackup: 'AddOn!', deviceProtection: 'AddOn!', techSupport: 'AddOn!', streamingTV: 'AddOn!', streamingMovies: 'AddOn!',
      contract: 'Contract!', paperlessBilling: 'Boolean!', paymentMethod: 'PaymentMethod!', monthlyCharges: 'Float!', totalCharges: 'Float',
    });
  });

  it('keeps the operations and output fields', () => {
    const mutation = schema.getMutationType()?.getFields();
    expect(String(mutation?.['predict']?.type)).toBe('Prediction!');
    expect(mutation?.['predict']?.args.map((a) => `${a.name}: ${String(a.type)}`)).toEqual(['customer: CustomerInput!']);
    expect(String(mutation?.['predictBatch']?.type)).toBe('[Prediction!]!');
    expect(mutation?.['predictBatch']?.args.map((a) => `${a.name}: ${String(a.type)}`)).toEqual(['customers: [CustomerInput!]!']);
    expect(String(schema.getQueryType()?.getFields()['modelInfo']?.type)).toBe('ModelInfo!');
    const prediction = schema.getType('Prediction');
    if (!isObjectType(prediction)) throw new Error('Prediction missing');
    expect(Object.fromEntries(Object.values(prediction.getFields()).map((f) => [f.name, String(f.type)]))).toEqual({
      customerId: 'String', churnProbability: 'Float!', willChurn: 'Boolean!', riskLevel: 'RiskLevel!', threshold: 'Float!', modelVersion: 'String!',
      modelRunId: 'String!', outsideTrainingRange: '[TrainingRangeNote!]!', explanation: 'Explanation',
    });
    const fieldsOf = (name: string) => {
      const t = schema.getType(name);
      if (!isObjectType(t)) throw new Error(`${name} missing`);
      return Object.fromEntries(Object.values(t.getFields()).map((f) => [f.name, [String(f.type), ...f.args.map((a) => `${a.name}: ${String(a.type)}`)].join(' ')]));
    };
    expect(fieldsOf('Explanation')).toEqual({ baseLogOdds: 'Float!', logOdds: 'Float!', drivers: '[RiskDriver!]! top: Int' });
    expect(fieldsOf('RiskDriver')).toEqual({ name: 'String!', fields: '[String!]!', inputFields: '[String!]!', contribution: 'Float!' });
    const note = schema.getType('TrainingRangeNote');
    if (!isObjectType(note)) throw new Error('TrainingRangeNote missing');
    expect(Object.fromEntries(Object.values(note.getFields()).map((f) => [f.name, String(f.type)]))).toEqual({ field: 'String!', value: 'Float!', observedMin: 'Float!', observedMax: 'Float!' });
    const info = schema.getType('ModelInfo');
    if (!isObjectType(info)) throw new Error('ModelInfo missing');
    const infoFields = Object.fromEntries(Object.values(info.getFields()).map((f) => [f.name, String(f.type)]));
    expect(infoFields).toMatchObject({
      name: 'String!', version: 'String', alias: 'String', runId: 'String!', experimentId: 'String!', experimentName: 'String!',
      source: 'ModelSource!', trainedAt: 'String!', loadedAt: 'String!', onnxSha256: 'String!', datasetSha256: 'String', threshold: 'Float!',
      params: '[Param!]!', metrics: '[Metric!]!', features: '[Feature!]!',
    });
  });

  it('makes a field nullable only where a served model can lack it', () => {
    const parity = schema.getType('ParityCheck');
    if (!isObjectType(parity)) throw new Error('ParityCheck missing');
    // Every model that serves was accepted by its parity replay (ChurnModel.create), which measured it.
    expect(Object.fromEntries(Object.values(parity.getFields()).map((f) => [f.name, String(f.type)]))).toEqual({ cases: 'Int!', tolerance: 'Float!', maxAbsDiff: 'Float!', fileSha256: 'String!' });
  });

  it("names in each root field's description the error codes it answers, with their HTTP status", () => {
    const fields = { ...schema.getQueryType()?.getFields(), ...schema.getMutationType()?.getFields() };
    const codes: Record<string, string[]> = {
      modelInfo: ['MODEL_NOT_READY (HTTP 503)'],
      predict: ['BAD_USER_INPUT (HTTP 400)', 'MODEL_NOT_READY or INFERENCE_FAILED (HTTP 503'],
      predictBatch: ['BAD_USER_INPUT', 'Errors as for predict'],
      reloadModel: ['MODEL_BUNDLE_INVALID, HTTP 422', 'MLFLOW_NOT_FOUND or MLFLOW_UNAVAILABLE, HTTP 502', 'FORBIDDEN (HTTP 403)', 'MODEL_NOT_READY (HTTP 503)'],
    };
    expect(Object.keys(fields).sort()).toEqual(Object.keys(codes).sort());
    for (const [field, named] of Object.entries(codes)) for (const code of named) expect(fields[field]?.description, field).toContain(code);
  });

  it("names every code and status of the README's error table in Mutation's or a root field's description (GraphiQL's docs explorer)", async () => {
    const readme = await readFile(`${REPO_ROOT}README.md`, 'utf8');
    const table = readme.slice(readme.indexOf('- **Error codes.**'), readme.indexOf('- **Start-up.**'));
    const rows = table.split('\n').filter((line) => /^\s*\| (?!Code |---)/.test(line));
    expect(rows.length).toBeGreaterThan(10);
    const described = [schema.getMutationType(), schema.getQueryType()].flatMap((t) => [t?.description, ...Object.values(t?.getFields() ?? {}).map((f) => f.description)]).join('\n');
    const missing: string[] = [];
    for (const row of rows) {
      const [what = '', status = ''] = row.split('|').slice(1).map((cell) => cell.trim());
      for (const [, code] of what.matchAll(/`([A-Z][A-Z_]+)`/g)) if (!described.includes(code ?? '')) missing.push(code ?? '');
      // 404 is an unknown route's, never /graphql's.
      for (const [n] of status.matchAll(/\d{3}/g)) if (n !== '404' && !new RegExp(`\\b${n}\\b`).test(described)) missing.push(n);
    }
    expect(missing).toEqual([]);
  });

  it('describes every type, field, argument and enum value', () => {
    const missing: string[] = [];
    const types = Object.values(schema.getTypeMap()).filter((t: GraphQLNamedType) => !t.name.startsWith('__') && !['String', 'Boolean', 'Int', 'Float', 'ID'].includes(t.name));
    for (const t of types) {
      if (!t.description) missing.push(t.name);
      if (isObjectType(t) || isInputObjectType(t)) {
        for (const f of Object.values<GraphQLField<unknown, unknown> | GraphQLInputField>(t.getFields())) {
          if (!f.description) missing.push(`${t.name}.${f.name}`);
          for (const a of 'args' in f ? f.args : []) if (!a.description) missing.push(`${t.name}.${f.name}(${a.name})`);
        }
      }
      if (isEnumType(t)) for (const v of t.getValues()) if (!v.description) missing.push(`${t.name}.${v.name}`);
    }
    expect(missing).toEqual([]);
  });
});
