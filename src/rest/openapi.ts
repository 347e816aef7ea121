/**
 * The OpenAPI 3.1 description of the REST routes: POST /predict (the old prototype's contract),
 * GET / and HEAD / (health) and GET /openapi.json itself. The prototype (FastAPI) served one at
 * /openapi.json, and REST callers may have generated clients or gateway configs from it.
 *
 * Built from the places that define each fact, never from a copy: the customer fields, enum
 * values and limits from contract.ts, the default REST applies from rest/predict.ts (DEFAULTS),
 * the cross-field rules' wording from customer-rules.ts (its own messages), the answer's keys
 * and labels from legacyResponse itself, the risk levels and model sources from the GraphQL
 * schema's enums, MAX_BATCH and BODY_LIMIT_BYTES from the configuration, and info.version from
 * package.json. The cross-field rules are written here a second time, as JSON Schema
 * (if/then/else): test/openapi.test.ts sends generated bodies to the real server and checks the
 * schema's verdict is the server's.
 *
 * The committed schema/openapi.json is this document for the default configuration
 * (scripts/print-schema.ts); GET /openapi.json serves it for the gateway's own settings.
 */
import { readFileSync } from 'node:fs';
import { maxHeaderSize } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isEnumType } from 'graphql';
import { z } from 'zod';
import type { Config } from '../config.js';
import {
  ADD_ON_COLUMNS,
  CONTRACT_ENUMS,
  CUSTOMER_FIELDS,
  CUSTOMER_ID_MAX_LENGTH,
  MAX_CHARGE,
  MAX_LISTED_ISSUES,
  MAX_TENURE_MONTHS,
  allowedColumnValues,
  type ColumnName,
  type CustomerField,
  type CustomerRecord,
} from '../contract.js';
import { checkCustomerRules, datasetNaming } from '../customer-rules.js';
import { DATASET_CUSTOMER_BYTES, WINDOWS_1252_TAKEN } from '../http.js';
import { CONTAINERS_COUNTED_FROM } from '../json-body.js';
import type { RiskLevel } from '../prediction.js';
import { CALLER_ID } from '../request-state.js';
import { schema as graphqlSchema } from '../schema/index.js';
import { CONFIG_DEFAULTS } from '../schema/stated-values.js';
import { DEFAULTS, MAX_COUNTED_ISSUES, legacyResponse } from './predict.js';

/** Where the document is served. */
export const OPENAPI_PATH = '/openapi.json';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** The settings the document states (the limits, and which pages it links); the committed file states their defaults. */
export type OpenApiSettings = Pick<Config, 'MAX_BATCH' | 'BODY_LIMIT_BYTES' | 'GRAPHIQL_ENABLED' | 'DOCS_ENABLED'>;

/** The settings when unset: the values of the committed schema/openapi.json. */
export const DEFAULT_SETTINGS: OpenApiSettings = (({ MAX_BATCH, BODY_LIMIT_BYTES, GRAPHIQL_ENABLED, DOCS_ENABLED }) => ({ MAX_BATCH, BODY_LIMIT_BYTES, GRAPHIQL_ENABLED, DOCS_ENABLED }))(
  CONFIG_DEFAULTS,
);

/** The gateway's package.json, the nearest one above this file (src/rest/ or dist/src/rest/; /app in the image). */
function packageVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    let text: string | null = null;
    try {
      text = readFileSync(path.join(dir, 'package.json'), 'utf8');
    } catch {
      if (path.dirname(dir) === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    }
    if (text !== null) return z.object({ version: z.string().min(1) }).parse(JSON.parse(text)).version;
  }
}

/** A GraphQL enum's values and descriptions (RiskLevel, ModelSource): the same words on both interfaces. */
function graphqlEnum(name: string): { values: string[]; description: string } {
  const type = graphqlSchema.getType(name);
  if (!isEnumType(type)) throw new Error(`the GraphQL schema has no enum ${name}`);
  const values = type.getValues();
  return {
    values: values.map((v) => v.name),
    description: `${type.description ?? ''} ${values.map((v) => `${v.name}: ${v.description ?? ''}`).join(' ')}`.trim(),
  };
}

// The values the cross-field rules turn on, typed by the contract (a misspelling fails the typecheck).
const PHONE_NO: CustomerRecord['PhoneService'] = 'No';
const NO_PHONE_SERVICE: CustomerRecord['MultipleLines'] = CONTRACT_ENUMS.MultipleLines.NO_PHONE_SERVICE;
const INTERNET_NO: CustomerRecord['InternetService'] = CONTRACT_ENUMS.InternetService.NO;
const NO_INTERNET_SERVICE: CustomerRecord['OnlineSecurity'] = CONTRACT_ENUMS.AddOn.NO_INTERNET_SERVICE;
const WILL_CHURN_RISK: RiskLevel = 'HIGH';

/**
 * The examples: the data set's first row (customerID 7590-VHVEG) as README.md's REST example
 * sends it (SeniorCitizen left out, so the answer shows defaults_applied), in a batch with its id
 * and beside a customer not yet billed, and the answer the bundled model gives the first, in
 * full. test/openapi.test.ts checks the customer is the README's body and sends the examples to
 * the gateway: a retrained bundle fails there until the answer is updated.
 */
export const EXAMPLE_CUSTOMER = {
  gender: 'Female',
  Partner: 'Yes',
  Dependents: 'No',
  tenure: 1,
  PhoneService: 'No',
  MultipleLines: 'No phone service',
  InternetService: 'DSL',
  OnlineSecurity: 'No',
  OnlineBackup: 'Yes',
  DeviceProtection: 'No',
  TechSupport: 'No',
  StreamingTV: 'No',
  StreamingMovies: 'No',
  Contract: 'Month-to-month',
  PaperlessBilling: 'Yes',
  PaymentMethod: 'Electronic check',
  MonthlyCharges: 29.85,
  TotalCharges: 29.85,
} satisfies Omit<CustomerRecord, 'SeniorCitizen'>;
const EXAMPLE_BATCH: Json[] = [
  { customerID: '7590-VHVEG', ...EXAMPLE_CUSTOMER },
  { customerID: null, ...EXAMPLE_CUSTOMER, tenure: 0, TotalCharges: null },
];
// Written out, keys in the order the gateway writes them: Swagger UI shows them as they are here.
const EXAMPLE_ANSWER = { prediction: 'Likely to churn', churn_probability: 0.7200711965560913, threshold: 0.375, model_version: '2', risk_level: 'HIGH', model_run_id: '5b2ac2847dc844a0be722b59c1a44b36', defaults_applied: { SeniorCitizen: 0 } };

/** That the body limit can bind before MAX_BATCH, for the /predict description (README states it for the defaults). */
export const bodyLimitFirst = (bodyLimit: number, maxBatch: number): string =>
  `BODY_LIMIT_BYTES (${bodyLimit}) holds MAX_BATCH (${maxBatch}) customers only at up to ${Math.floor(bodyLimit / maxBatch)} bytes each, ` +
  `and the data set's rows take ${DATASET_CUSTOMER_BYTES.jsonDumps} bytes on average as Python's json.dumps writes them (with their 10-character customerID), ` +
  `${DATASET_CUSTOMER_BYTES.uuid4Id} with a uuid4 customerID and ${DATASET_CUSTOMER_BYTES.indented} indented: for customers larger than that the body limit binds first (413), so send fewer per request.`;

/** Why any request may be refused 400 before it is routed, in every operation's 400 (components.responses.NotHttp). */
const NOT_HTTP = "the request is not valid HTTP/1.1 (Node's parser names its error in detail; a new request id, and the connection closes) or, in HTTP/1.1, sends no Host";

/** What the version of a model is, in REST's answers and GET /. */
const VERSION_TEXT =
  'its registry version, or `run-` followed by its MLflow run id when it has none (never registered, or loaded by a runs:/ URI)';

/**
 * That the numeric columns are accepted beyond the training data's range, in REST's words: the
 * ranges are the serving model's (its manifest), which this document is not built from.
 */
const EXTRAPOLATION_TEXT =
  'Values beyond the range the model was trained on are accepted and scored by extrapolation, and the answer does not flag them. ' +
  "The serving model's ranges are in GraphQL's modelInfo { features { name observedMin observedMax } }, and GraphQL predictions list the inputs beyond them.";

/**
 * A customer every rule accepts: each categorical column's first allowed value ("Yes", "DSL",
 * "Month-to-month", …), SeniorCitizen 0, tenure and charges `numbers`. Checked by the rules.
 */
function exampleRecord(numbers: { tenure: number; MonthlyCharges: number; TotalCharges: number }): CustomerRecord {
  const record: Record<string, Json> = {};
  for (const f of CUSTOMER_FIELDS) {
    const allowed = allowedColumnValues(f);
    if (f.kind === 'flag01') record[f.column] = 0;
    else if (allowed) record[f.column] = allowed[0] as string;
    else if (f.kind === 'months' || f.kind === 'money') record[f.column] = numbers[f.column];
  }
  const customer = record as CustomerRecord;
  const issues = checkCustomerRules(customer, datasetNaming);
  if (issues.length > 0) throw new Error(`openapi.ts's example customer breaks the rules: ${issues.map((i) => i.message).join('; ')}`);
  return customer;
}

/** The rule `column` breaks once `change` is made to a valid customer, in the server's own words (without its "; got …"). */
function ruleText(change: Partial<Record<ColumnName, Json>>, column: ColumnName): string {
  const record = { ...exampleRecord({ tenure: 1, MonthlyCharges: 1, TotalCharges: 1 }), ...change } as CustomerRecord;
  const issue = checkCustomerRules(record, datasetNaming).find((i) => i.column === column);
  if (!issue) throw new Error(`openapi.ts: ${JSON.stringify(change)} no longer breaks a rule on ${column}`);
  return issue.message.replace(/; got [\s\S]*$/, '');
}

/** The rules on `column` alone and with others, in the server's words. */
function rulesOn(f: CustomerField): string[] {
  const column = f.column;
  if (f.kind === 'months') return [ruleText({ [column]: 0.5 }, column)];
  if (f.kind === 'money') return [ruleText({ [column]: -1 }, column), ...(f.nullable ? [ruleText({ [column]: null }, column)] : [])];
  if (column === 'MultipleLines') return [ruleText({ PhoneService: PHONE_NO }, column)];
  if ((ADD_ON_COLUMNS as readonly string[]).includes(column)) return [ruleText({ InternetService: INTERNET_NO }, column)];
  return [];
}

function columnSchema(f: CustomerField): JsonObject {
  const allowed = allowedColumnValues(f);
  // The contract's description up to its first clause (the rest is in GraphQL's words), then the rules in REST's.
  const description = [f.description.split(/[;,.]/)[0] as string, ...rulesOn(f)].join('. ');
  switch (f.kind) {
    case 'enum':
    case 'yesNo':
      return { type: 'string', enum: [...(allowed ?? [])], description: `${description}.` };
    case 'flag01':
      // null as left out: generated clients (pydantic's) send null for an optional field not set.
      // anyOf, not type: [integer, null] with null in the enum, which datamodel-code-generator
      // turns into an Enum with a None member instead of an optional IntEnum.
      return {
        anyOf: [{ type: 'integer', enum: (allowed ?? []).map(Number) }, { type: 'null' }],
        description: `${description}: 0 or 1 (not true/false, not a string). Optional: ${DEFAULTS.SeniorCitizen} when left out or null, which the answer names in defaults_applied.`,
      };
    case 'months':
      return { type: 'integer', minimum: 0, maximum: MAX_TENURE_MONTHS, description: `${description}. ${EXTRAPOLATION_TEXT}` };
    case 'money':
      return f.nullable
        ? { type: ['number', 'null'], minimum: 0, maximum: MAX_CHARGE, description: `${description}. Required: send null for not yet billed, it is never assumed. ${EXTRAPOLATION_TEXT}` }
        : { type: 'number', minimum: 0, maximum: MAX_CHARGE, description: `${description}. ${EXTRAPOLATION_TEXT}` };
  }
}

/** The rules between fields, as JSON Schema: exactly what customer-rules.ts checks beyond each field's own type and range. */
function crossFieldRules(): JsonObject[] {
  const addOns = (value: Json): JsonObject => Object.fromEntries(ADD_ON_COLUMNS.map((c) => [c, value]));
  return [
    {
      description: `${ruleText({ TotalCharges: null }, 'TotalCharges')}.`,
      if: { properties: { TotalCharges: { type: 'null' } }, required: ['TotalCharges'] },
      then: { properties: { tenure: { const: 0 } } },
    },
    {
      description: `${ruleText({ PhoneService: PHONE_NO }, 'MultipleLines')}.`,
      if: { properties: { PhoneService: { const: PHONE_NO } }, required: ['PhoneService'] },
      then: { properties: { MultipleLines: { const: NO_PHONE_SERVICE } } },
      else: { properties: { MultipleLines: { not: { const: NO_PHONE_SERVICE } } } },
    },
    {
      description: `${ADD_ON_COLUMNS.map((c) => ruleText({ InternetService: INTERNET_NO }, c)).join('; ')}.`,
      if: { properties: { InternetService: { const: INTERNET_NO } }, required: ['InternetService'] },
      then: { properties: addOns({ const: NO_INTERNET_SERVICE }) },
      else: { properties: addOns({ not: { const: NO_INTERNET_SERVICE } }) },
    },
  ];
}

function customerSchema(): JsonObject {
  const optional = new Set<string>(Object.keys(DEFAULTS));
  return {
    type: 'object',
    description:
      'One customer, in the data set\'s column names and values (the old prototype\'s payload). Every column is required except ' +
      `${[...optional].join(', ')} (defaulted when left out or null, and named in the answer's defaults_applied) and customerID; a field not listed here is refused. ` +
      'A customer that breaks several rules is answered with all of them.',
    properties: {
      customerID: {
        type: ['string', 'null'],
        maxLength: CUSTOMER_ID_MAX_LENGTH,
        description:
          'Your id for the customer, echoed in the answer; never a feature, and not checked for uniqueness (two customers of an array may carry the same id, or none: ' +
          `match answers to customers by position, the array's order). At most ${CUSTOMER_ID_MAX_LENGTH} characters, counted as Unicode code points (an emoji is one), ` +
          'and well-formed Unicode: half of a UTF-16 surrogate pair without the other half (JSON\'s "\\ud83d" alone) is refused (400), which this schema does not state. null, or left out: no id.',
      },
      ...Object.fromEntries(CUSTOMER_FIELDS.map((f) => [f.column, columnSchema(f)])),
    },
    required: CUSTOMER_FIELDS.map((f) => f.column).filter((c) => !optional.has(c)),
    additionalProperties: false,
    allOf: crossFieldRules(),
  };
}

/** What legacyResponse writes, each key described; the keys and labels are read from it, so a key it gains fails here. */
function answerSchema(): JsonObject {
  const risk = graphqlEnum('RiskLevel');
  const scored = (willChurn: boolean) =>
    ({ willChurn, churnProbability: 0.5, threshold: 0.5, modelVersion: '1', riskLevel: willChurn ? WILL_CHURN_RISK : 'LOW', model: { lineage: { runId: 'r' } } }) as const;
  const fewest = legacyResponse(scored(false), { customerId: null, defaultsApplied: [] });
  const most = legacyResponse(scored(true), { customerId: 'id', defaultsApplied: Object.keys(DEFAULTS) });
  const churnLabel = z.string().parse(most['prediction']);
  const stayLabel = z.string().parse(fewest['prediction']);
  const defaults = z.record(z.string(), z.number()).parse(most['defaults_applied']);
  const described: Record<string, JsonObject> = {
    prediction: {
      type: 'string',
      enum: [churnLabel, stayLabel],
      description: `${JSON.stringify(churnLabel)} when churn_probability ≥ threshold (risk_level ${WILL_CHURN_RISK}), else ${JSON.stringify(stayLabel)}. Always the answer's first key.`,
    },
    churn_probability: { type: 'number', minimum: 0, maximum: 1, description: 'Probability that the customer churns.' },
    threshold: { type: 'number', minimum: 0, maximum: 1, description: "The decision threshold of the model that answered (the model bundle's, chosen on validation data at training time)." },
    model_version: { type: 'string', description: `Version of the model that answered: ${VERSION_TEXT}.` },
    risk_level: {
      type: 'string',
      enum: risk.values,
      // REST's own words: the GraphQL enum's description names willChurn and ModelInfo.riskBands, which REST callers do not have.
      description:
        `Risk band of churn_probability p, one of ${risk.values.join(', ')}: LOW when p < mediumFrom, MEDIUM when mediumFrom ≤ p < threshold, ` +
        `${WILL_CHURN_RISK} when p ≥ threshold (exactly when prediction is ${JSON.stringify(churnLabel)}). mediumFrom is the serving model's, ` +
        'from its bundle; GraphQL shows it: query { modelInfo { riskBands { mediumFrom } } }.',
    },
    model_run_id: {
      type: 'string',
      description:
        'MLflow run id of the model that answered (GraphQL\'s modelInfo.runId while it serves). Unlike model_version it names one model: the ' +
        'same version number can belong to the packaged bundle and to another model MLflow serves, or to two registered models. Keep it for audit.',
    },
    customerID: { type: 'string', maxLength: CUSTOMER_ID_MAX_LENGTH, description: 'The customerID sent, when one was (not for null or none).' },
    defaults_applied: {
      type: 'object',
      properties: Object.fromEntries(Object.entries(defaults).map(([column, value]) => [column, { const: value }])),
      additionalProperties: false,
      minProperties: 1,
      description: 'The optional columns left out of the customer or sent as null, with the value scored in their place; absent when none was.',
    },
  };
  const written = Object.keys(most);
  const undescribed = written.filter((k) => !Object.hasOwn(described, k));
  const unwritten = Object.keys(described).filter((k) => !written.includes(k));
  if (undescribed.length > 0 || unwritten.length > 0) {
    throw new Error(`openapi.ts describes the REST answer's keys ${Object.keys(described).join(', ')}, and legacyResponse writes ${written.join(', ')}`);
  }
  return {
    type: 'object',
    description:
      `The prediction for one customer. "prediction" is the first key, as the old prototype's callers read it; risk_level, model_run_id, customerID and defaults_applied are additions. ` +
      'It does not say when an input lies beyond the range the model was trained on, where the probability is an extrapolation (GraphQL predictions do).',
    properties: Object.fromEntries(written.map((k) => [k, described[k] as JsonObject])),
    required: Object.keys(fewest),
    additionalProperties: false,
    allOf: [
      {
        if: { properties: { prediction: { const: churnLabel } }, required: ['prediction'] },
        then: { properties: { risk_level: { const: WILL_CHURN_RISK } } },
        else: { properties: { risk_level: { not: { const: WILL_CHURN_RISK } } } },
      },
    ],
  };
}

/** RFC 9457 problem details as sendProblem (http.ts) writes them; `errors` only where a field or the body is at fault. */
function problemSchema(status: number, detail: string, errors: 'never' | 'optional', codes: readonly [string, ...string[]]): JsonObject {
  return {
    type: 'object',
    description: detail,
    properties: {
      type: { const: 'about:blank' },
      title: { type: 'string', description: 'The HTTP status phrase.' },
      status: { const: status },
      code: {
        enum: [...codes],
        description:
          'What kind of problem, for programs to branch on (HttpProblem.code): the code the detail starts with, else the status phrase in capitals; ' +
          'BAD_USER_INPUT for values the fields do not accept, as GraphQL answers them. The same code is on the access line.',
      },
      detail: { type: 'string', description: 'What was wrong, in words.' },
      requestId: { type: 'string', description: 'The x-request-id of the answer: quote it when reporting a problem.' },
      ...(errors === 'optional'
        ? {
            errors: {
              type: 'array',
              minItems: 1,
              maxItems: MAX_LISTED_ISSUES,
              description: `Each problem found, at most ${MAX_LISTED_ISSUES} (detail gives the count).`,
              items: {
                type: 'object',
                properties: {
                  path: {
                    type: 'string',
                    description:
                      'Where: a column of a single customer (`tenure`); a column of a customer in an array (`[3].Contract`); a whole customer ' +
                      'of an array (`[3]`: its unknown fields); or `(body)`: the body itself, or a single customer\'s unknown fields.',
                  },
                  message: { type: 'string', description: 'What is wrong and what is allowed.' },
                },
                required: ['path', 'message'],
                additionalProperties: false,
              },
            },
          }
        : {}),
    },
    required: ['type', 'title', 'status', 'code', 'detail', 'requestId'],
    additionalProperties: false,
  };
}

const ref = (kind: 'schemas' | 'responses' | 'headers' | 'parameters', name: string): JsonObject => ({ $ref: `#/components/${kind}/${name}` });
const problemContent = (name: string): JsonObject => ({ 'application/problem+json': { schema: ref('schemas', name) } });
const REQUEST_ID_HEADER = { 'x-request-id': ref('headers', 'XRequestId') };

function healthSchemas(): Record<string, JsonObject> {
  const source = graphqlEnum('ModelSource');
  const model: Record<string, JsonObject> = {
    model: { type: 'string', description: 'Registered model name.' },
    version: { type: 'string', description: `Version of the serving model: ${VERSION_TEXT}.` },
    runId: { type: 'string', description: 'MLflow run that trained it.' },
    source: { type: 'string', enum: source.values, description: source.description },
    notice: {
      type: 'string',
      description:
        "Why this model serves rather than the one configured (e.g. the bundle, because MLflow's model could not be loaded at start-up), or that its MLflow run is deleted or gone; absent when nothing is to be said. " +
        "Models, versions, runs and error codes only, as modelInfo.notice: never the tracking server or what it answered.",
    },
    noticeDetail: {
      type: 'string',
      description:
        'On OPS_PORT only (not routed by the load balancer), beside notice: it as the operator needs it, with the tracking server, what MLflow answered and what to do next, as modelInfo.noticeDetail.',
    },
  };
  const modelRequired = ['model', 'version', 'runId', 'source'];
  return {
    Health: {
      type: 'object',
      description: 'Ready: a model is loaded, warmed up and scoring.',
      properties: { status: { const: 'ok' }, ...model },
      required: ['status', ...modelRequired],
      additionalProperties: false,
    },
    HealthUnavailable: {
      description: 'Not ready: starting (no model warmed up yet), draining (shutting down), or inference_failing (the latest run failed and a test run failed too).',
      oneOf: [
        { type: 'object', properties: { status: { enum: ['starting', 'draining'] } }, required: ['status'], additionalProperties: false },
        {
          type: 'object',
          properties: {
            status: { const: 'inference_failing' },
            ...model,
            failingSince: { type: 'string', format: 'date-time', description: 'When the runs started failing.' },
            failedRuns: { type: 'integer', minimum: 1, description: 'Runs failed in a row.' },
            cause: { type: 'string', description: "The first failed run's cause." },
          },
          required: ['status', ...modelRequired, 'failingSince', 'failedRuns', 'cause'],
          additionalProperties: false,
        },
      ],
    },
  };
}

/** The document for `settings`. */
export function buildOpenApiDocument(settings: OpenApiSettings): JsonObject {
  const { MAX_BATCH: maxBatch, BODY_LIMIT_BYTES: bodyLimit } = settings;
  // Configurable: the committed schema/openapi.json states the defaults, GET /openapi.json the serving gateway's settings.
  const setting = (name: 'MAX_BATCH' | 'BODY_LIMIT_BYTES') => `${name}, configurable, default ${DEFAULT_SETTINGS[name]}; GET ${OPENAPI_PATH} states the serving gateway's value`;
  const healthHeaders = { 'cache-control': ref('headers', 'CacheControlNoStore'), ...REQUEST_ID_HEADER };
  // Every problem answer is no-store (sendProblem, http.ts).
  const problemHeaders = healthHeaders;
  const retryAfter = { 'retry-after': ref('headers', 'RetryAfter'), ...problemHeaders };
  const documentHeaders = { etag: ref('headers', 'ETag'), 'cache-control': ref('headers', 'CacheControlNoCache'), ...REQUEST_ID_HEADER };
  // What any request may be answered before it reaches its route (node's parser, the headers
  // timeout, Expect), on the routes without a body; POST /predict states them with its own.
  const beforeRouting = {
    '400': ref('responses', 'NotHttp'),
    '408': ref('responses', 'HeadersTimeout'),
    '417': ref('responses', 'ExpectationFailed'),
    '431': ref('responses', 'RequestHeaderFieldsTooLarge'),
  };
  // Only the pages this gateway serves (GRAPHIQL_ENABLED, DOCS_ENABLED).
  const pages = [
    'a customer form is at [/ui](/ui)',
    ...(settings.DOCS_ENABLED ? ['this document as a page at [/docs](/docs)'] : []),
  ];
  // /graphql as code, not a link: a browser opening it gets a 400 (GET needs a query); GraphiQL is where to go.
  const graphqlAt = `\`/graphql\`${settings.GRAPHIQL_ENABLED ? ' (explore it in GraphiQL at [/ui/graphiql](/ui/graphiql))' : ''}`;
  const pagesLinked = pages.length > 1 ? `${pages.slice(0, -1).join(', ')} and ${pages[pages.length - 1] as string}` : (pages[0] as string);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Telco churn prediction gateway: REST',
      version: packageVersion(),
      description:
        'The REST routes of the churn prediction gateway: POST /predict, the old prototype\'s contract, and GET / for the load balancer. ' +
        `GraphQL (predict, predictBatch, modelInfo) is at ${graphqlAt}, described by its own schema (introspection, or schema/schema.graphql in the repository); ` +
        `${pagesLinked}. Every answer carries x-request-id, with a new id where the request's headers were never read (Node's HTTP parser refused the request, or its headers did not arrive in time).`,
    },
    // Swagger UI (/docs) groups operations by tag: without them, under a heading "default".
    tags: [
      { name: 'predictions', description: 'Churn predictions, the prototype\'s contract.' },
      { name: 'health', description: 'For the load balancer.' },
      { name: 'documentation', description: 'This document.' },
    ],
    paths: {
      '/predict': {
        post: {
          operationId: 'predict',
          tags: ['predictions'],
          summary: 'Churn predictions for one customer or an array of customers',
          description:
            `One customer (a JSON object) gets one answer; an array of at most ${maxBatch} customers (${setting('MAX_BATCH')}) gets an array of answers, in order ` +
            '(an empty array gets an empty one). One bad customer refuses the whole request, with a 400 naming every problem. ' +
            `POST /predict/ is answered the same (the prototype redirected it here); it is not listed, so generated clients get one method. ` +
            `Any method but POST is answered 405 (components.responses.MethodNotAllowed, with Allow: POST). ` +
            bodyLimitFirst(bodyLimit, maxBatch),
          parameters: [ref('parameters', 'XRequestId')],
          requestBody: {
            required: true,
            description:
              `JSON in UTF-8, uncompressed; content-type application/json (a body without a content-type is read as JSON, as the prototype's callers send it). ` +
              `A charset in the content-type is read as browsers read it when it names windows-1252 (us-ascii, iso-8859-1, latin1, windows-1252 and WHATWG's other names for it, which some clients write by default): a Latin-1 é is é. ` +
              `Any other charset, and a body in UTF-16 (a byte order mark first), is answered 415. ` +
              `The request schema accepts what the gateway accepts, except what JSON Schema cannot see in the parsed value or state portably: ` +
              `the body is at most ${bodyLimit} bytes (${setting('BODY_LIMIT_BYTES')}; 413 above), must be UTF-8 unless declared windows-1252 (400 naming the first bad byte), ` +
              `no object may send a field twice (400: JSON parsers keep the last value silently), ` +
              `no number may be too small for a 64-bit number without being zero, such as 1e-400 (400: JSON parsers read it as 0, a valid tenure or charge), ` +
              `and a customerID must be well-formed Unicode: half of a UTF-16 surrogate pair without the other half, which JSON writes as "\\ud83d", names no character, ` +
              `and echoed in the answer it would make the answer unreadable to strict JSON readers (400; a schema pattern for it would not compile in every client's regular expressions, pydantic's among them). ` +
              `A body over ${CONTAINERS_COUNTED_FROM} characters may hold a bounded number of JSON objects and arrays, which a body of customers never exceeds.`,
            content: {
              'application/json': {
                schema: ref('schemas', 'PredictRequest'),
                examples: {
                  customer: { summary: 'One customer: the data set\'s first row (customerID 7590-VHVEG), without its id', value: EXAMPLE_CUSTOMER },
                  batch: { summary: 'An array of customers: that row with its id, and a customer not billed yet', value: EXAMPLE_BATCH },
                },
              },
            },
          },
          responses: {
            '200': {
              description:
                'Scored: an object for a customer, an array of objects (same order, same length) for an array. ' +
                'The example is the answer of the model bundled with the gateway to the one-customer example.',
              headers: REQUEST_ID_HEADER,
              // One example, not named ones: Swagger UI would add a second examples drop-down, which names itself to no screen reader.
              content: { 'application/json': { schema: ref('schemas', 'PredictResponse'), example: EXAMPLE_ANSWER } },
            },
            '400': {
              description:
                `Refused: ${NOT_HTTP}; ` +
                'the body is not valid JSON or not UTF-8, sends a field twice or a number that would read as 0 without being zero, or a customer breaks the contract, a customerID that is not well-formed Unicode included ' +
                '(errors names each problem\'s place, `tenure` in a single customer or `[3].Contract` in an array, and what is allowed), ' +
                `or the array has more than ${maxBatch} customers. detail gives the count; checking stops at ${MAX_COUNTED_ISSUES} problems and then says so.`,
              headers: problemHeaders,
              content: problemContent('BadRequestProblem'),
            },
            '408': {
              description: 'The request body did not arrive in full within REQUEST_TIMEOUT_MS, or its headers within HEADERS_TIMEOUT_MS (then with a new request id); the connection closes.',
              headers: problemHeaders,
              content: problemContent('RequestTimeoutProblem'),
            },
            '413': {
              description: `The body is over ${bodyLimit} bytes (BODY_LIMIT_BYTES; detail says how many customers per request fit), or a chunked body's chunk extensions over 16 KB; the connection closes.`,
              headers: problemHeaders,
              content: problemContent('PayloadTooLargeProblem'),
            },
            '415': {
              description: `The content-type is not application/json or names a charset not read (the route takes ${WINDOWS_1252_TAKEN}), the body is UTF-16 (a byte order mark first), or it is compressed (content-encoding).`,
              headers: { 'accept-encoding': ref('headers', 'AcceptEncodingIdentity'), ...problemHeaders },
              content: problemContent('UnsupportedMediaTypeProblem'),
            },
            '417': ref('responses', 'ExpectationFailed'),
            '431': ref('responses', 'RequestHeaderFieldsTooLarge'),
            '501': {
              description: 'The body is sent in a transfer coding other than chunked (transfer-encoding: gzip, chunked).',
              headers: problemHeaders,
              content: problemContent('NotImplementedProblem'),
            },
            '500': {
              description: 'A failure the gateway does not expect (a fault in it, not in the request): quote the answer\'s requestId when reporting it; the gateway logs the cause under it.',
              headers: problemHeaders,
              content: problemContent('InternalServerErrorProblem'),
            },
            '503': {
              description:
                'Try again: no model is warmed up yet (detail starts MODEL_NOT_READY), inference failed (INFERENCE_FAILED), the gateway holds too many request bodies at once ' +
                '(MAX_BODY_BYTES_IN_FLIGHT: OVERLOADED), it is shutting down and the request waited for 100 Continue (Expect: 100-continue; its body is not read), ' +
                  'or it stopped at SHUTDOWN_TIMEOUT_MS before answering (SHUTTING_DOWN; the connection closes): ' +
                'these come with Retry-After. No answer within REQUEST_TIMEOUT_MS (REQUEST_TIMEOUT): no Retry-After, and the connection closes.',
              headers: retryAfter,
              content: problemContent('ServiceUnavailableProblem'),
            },
          },
        },
      },
      '/': {
        get: {
          operationId: 'health',
          tags: ['health'],
          summary: 'Health check for the load balancer',
          description: 'Any method but GET and HEAD is answered 405 (components.responses.MethodNotAllowed, with Allow: GET, HEAD).',
          responses: {
            '200': { description: 'Ready.', headers: healthHeaders, content: { 'application/json': { schema: ref('schemas', 'Health') } } },
            '503': { description: 'Not ready: do not send predictions here.', headers: healthHeaders, content: { 'application/json': { schema: ref('schemas', 'HealthUnavailable') } } },
            ...beforeRouting,
          },
        },
        head: {
          operationId: 'healthHead',
          tags: ['health'],
          summary: 'Health check, status only',
          responses: { '200': { description: 'Ready.', headers: healthHeaders }, '503': { description: 'Not ready.', headers: healthHeaders } },
        },
      },
      [OPENAPI_PATH]: {
        get: {
          operationId: 'openapi',
          tags: ['documentation'],
          summary: 'This document',
          description:
            `For this gateway's MAX_BATCH and BODY_LIMIT_BYTES, and its version: revalidate it before each use (cache-control: no-cache), ` +
            'sending its etag as if-none-match (304 while it is unchanged). Any method but GET and HEAD is answered 405.',
          parameters: [ref('parameters', 'IfNoneMatch')],
          responses: {
            '200': { description: 'The OpenAPI 3.1 document.', headers: documentHeaders, content: { 'application/json': { schema: { type: 'object' } } } },
            '304': { description: 'Unchanged since the etag sent in if-none-match: use the copy kept.', headers: documentHeaders },
            ...beforeRouting,
          },
        },
        head: {
          operationId: 'openapiHead',
          tags: ['documentation'],
          summary: 'This document, headers only',
          parameters: [ref('parameters', 'IfNoneMatch')],
          responses: {
            '200': { description: 'The OpenAPI 3.1 document would be sent.', headers: documentHeaders },
            '304': { description: 'Unchanged since the etag sent in if-none-match.', headers: documentHeaders },
          },
        },
      },
    },
    components: {
      schemas: {
        Customer: customerSchema(),
        PredictRequest: {
          description: `One customer, or an array of at most ${maxBatch} (MAX_BATCH).`,
          anyOf: [ref('schemas', 'Customer'), { type: 'array', items: ref('schemas', 'Customer'), maxItems: maxBatch }],
        },
        Prediction: answerSchema(),
        PredictResponse: {
          description: 'An object for a customer sent as an object; an array for an array.',
          anyOf: [ref('schemas', 'Prediction'), { type: 'array', items: ref('schemas', 'Prediction'), maxItems: maxBatch }],
        },
        BadRequestProblem: problemSchema(400, 'The request was refused; errors lists each problem found, when a field or the body is at fault.', 'optional', ['BAD_USER_INPUT', 'BAD_REQUEST']),
        MethodNotAllowedProblem: problemSchema(405, 'The method is not served on this path; the allow header names those that are.', 'never', ['METHOD_NOT_ALLOWED']),
        RequestTimeoutProblem: problemSchema(408, 'The request body did not arrive in time.', 'never', ['REQUEST_TIMEOUT']),
        PayloadTooLargeProblem: problemSchema(413, 'The body is over BODY_LIMIT_BYTES.', 'never', ['PAYLOAD_TOO_LARGE']),
        UnsupportedMediaTypeProblem: problemSchema(415, 'The body is not JSON in UTF-8 (or a declared windows-1252), uncompressed.', 'never', ['UNSUPPORTED_MEDIA_TYPE']),
        ExpectationFailedProblem: problemSchema(417, 'The Expect sent cannot be met: only 100-continue is.', 'never', ['EXPECTATION_FAILED']),
        RequestHeaderFieldsTooLargeProblem: problemSchema(431, 'The request line and headers are over the size Node reads.', 'never', ['REQUEST_HEADER_FIELDS_TOO_LARGE']),
        InternalServerErrorProblem: problemSchema(500, 'A failure the gateway does not expect; requestId names it in the logs.', 'never', ['INTERNAL_SERVER_ERROR']),
        NotImplementedProblem: problemSchema(501, 'A transfer coding the gateway does not decode.', 'never', ['NOT_IMPLEMENTED']),
        ServiceUnavailableProblem: problemSchema(503, 'Repeat the request later (Retry-After, when sent, says when).', 'never', ['OVERLOADED', 'REQUEST_TIMEOUT', 'SHUTTING_DOWN', 'MODEL_NOT_READY', 'INFERENCE_FAILED']),
        ...healthSchemas(),
      },
      responses: {
        MethodNotAllowed: {
          description: 'A method the path does not serve.',
          headers: { allow: ref('headers', 'Allow'), 'cache-control': ref('headers', 'CacheControlNoStore'), ...REQUEST_ID_HEADER },
          content: problemContent('MethodNotAllowedProblem'),
        },
        NotHttp: { description: `Refused: ${NOT_HTTP}.`, headers: problemHeaders, content: problemContent('BadRequestProblem') },
        HeadersTimeout: {
          description: 'The request line and headers did not arrive in full within HEADERS_TIMEOUT_MS: a new request id (the headers were not read), and the connection closes.',
          headers: problemHeaders,
          content: problemContent('RequestTimeoutProblem'),
        },
        ExpectationFailed: {
          description: 'An Expect other than 100-continue (detail names it); the connection closes.',
          headers: problemHeaders,
          content: problemContent('ExpectationFailedProblem'),
        },
        RequestHeaderFieldsTooLarge: {
          description: `The request line and headers are over ${maxHeaderSize} bytes, the most Node reads (--max-http-header-size); a new request id (the headers were not read), and the connection closes.`,
          headers: problemHeaders,
          content: problemContent('RequestHeaderFieldsTooLargeProblem'),
        },
      },
      parameters: {
        XRequestId: {
          name: 'x-request-id',
          in: 'header',
          required: false,
          description: `Your id for the request, used in the answer's x-request-id and the gateway's logs if it matches ${CALLER_ID.source}; otherwise the gateway makes one (a UUID). Never refused.`,
          schema: { type: 'string' },
        },
        IfNoneMatch: {
          name: 'if-none-match',
          in: 'header',
          required: false,
          description: 'The etag of the copy kept (or a list of them, or *): answered 304 without the document while it is unchanged.',
          schema: { type: 'string' },
        },
      },
      headers: {
        XRequestId: { description: 'The request id: the one sent (if it matches the x-request-id parameter\'s pattern), else a new UUID.', required: true, schema: { type: 'string' } },
        RetryAfter: { description: 'Seconds after which the same request may succeed.', schema: { type: 'string', pattern: '^[0-9]+$' } },
        Allow: { description: 'The methods the path serves.', required: true, schema: { type: 'string' } },
        AcceptEncodingIdentity: { description: 'identity, on a 415 for a body in a content coding (content-encoding): the body is read uncompressed only.', schema: { const: 'identity' } },
        CacheControlNoStore: { description: 'no-store: no cache may keep the answer (a health answer is true only when it is written; a problem such as a 404 would otherwise be kept for as long as a cache guesses).', required: true, schema: { const: 'no-store' } },
        CacheControlNoCache: { description: 'no-cache: a cache may keep the document but must revalidate it (if-none-match) before each use.', required: true, schema: { const: 'no-cache' } },
        ETag: { description: 'The version of the document: it changes with the gateway\'s settings and version.', required: true, schema: { type: 'string' } },
      },
    },
  };
}

/** The document as served: compact JSON text. */
export function openApiText(settings: OpenApiSettings): string {
  return JSON.stringify(buildOpenApiDocument(settings));
}
