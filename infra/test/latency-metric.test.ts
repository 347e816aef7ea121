/**
 * The single-prediction latency metric reads the gateway's access lines (src/logger.ts accessLog),
 * which this app does not import at synth. CloudWatch Logs cannot run a filter pattern offline, so
 * here the real gateway (src/main.ts, the real model) answers real requests, and the metric
 * filter's pattern, as synthesized, is evaluated against the lines it writes: it must take the
 * single predictions and nothing else, and the metric value's field must be a number in them. A
 * renamed field, route or message, or a change in how rows are counted, fails here.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHQL_CUSTOMER, LEGACY_PAYLOAD } from '../../test/helpers/customers.js';
import { REPO_ROOT, spawnGateway, type SpawnedGateway } from '../../test/helpers/gateway.js';
import { propsOfType, synth } from './helpers.js';

type Line = Record<string, unknown>;

/** A request the gateway answers, and whether it is a single prediction the metric is about. */
interface Case {
  readonly single: boolean;
  readonly status: number;
  send(url: string, id: string): Promise<Response>;
}

const rest = (body: unknown) => (url: string, id: string) =>
  fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id }, body: JSON.stringify(body) });
const graphql = (query: string, variables: Record<string, unknown> = {}) => (url: string, id: string) =>
  fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-request-id': id }, body: JSON.stringify({ query, variables }) });

const PREDICT = 'mutation Predict($c: CustomerInput!) { predict(customer: $c) { churnProbability } }';
const UI_PREDICT = ['predict.graphql', 'prediction-fields.graphql'].map((f) => readFileSync(`${REPO_ROOT}schema/operations/${f}`, 'utf8')).join('\n');
const PREDICT_BATCH = 'mutation Batch($cs: [CustomerInput!]!) { predictBatch(customers: $cs) { churnProbability } }';

const CASES: Record<string, Case> = {
  'REST single customer': { single: true, status: 200, send: rest(LEGACY_PAYLOAD) },
  'REST array of one customer': { single: true, status: 200, send: rest([LEGACY_PAYLOAD]) },
  'GraphQL predict': { single: true, status: 200, send: graphql(PREDICT, { c: GRAPHQL_CUSTOMER }) },
  'GraphQL predictBatch of one': { single: true, status: 200, send: graphql(PREDICT_BATCH, { cs: [GRAPHQL_CUSTOMER] }) },
  'REST batch of three': { single: false, status: 200, send: rest([LEGACY_PAYLOAD, LEGACY_PAYLOAD, LEGACY_PAYLOAD]) },
  'GraphQL predictBatch of three': { single: false, status: 200, send: graphql(PREDICT_BATCH, { cs: [GRAPHQL_CUSTOMER, GRAPHQL_CUSTOMER, GRAPHQL_CUSTOMER]}) },
  'REST customer refused (400)': { single: false, status: 400, send: rest({ ...LEGACY_PAYLOAD, tenure: -1 }) },
  'GraphQL customer refused (400)': { single: false, status: 400, send: graphql(PREDICT, { c: { ...GRAPHQL_CUSTOMER, tenure: -1 } }) },
  // What the /ui form sends: its prediction with explanation and training ranges is a single prediction too.
  "the UI form's Predict": { single: true, status: 200, send: graphql(UI_PREDICT, { customer: GRAPHQL_CUSTOMER }) },
  'GraphQL modelInfo': { single: false, status: 200, send: graphql('{ modelInfo { version } }') },
  'unknown path (404)': { single: false, status: 404, send: (url, id) => fetch(`${url}/nowhere`, { headers: { 'x-request-id': id } }) },
};

describe('the single-prediction latency metric filter, against the real gateway’s access lines', () => {
  const { template } = synth();
  const filters = propsOfType(template, 'AWS::Logs::MetricFilter');
  const [filter] = filters;
  const pattern = String(filter?.FilterPattern);
  const [transformation] = filter?.MetricTransformations as { MetricValue: string }[];
  let gw: SpawnedGateway | undefined;
  /** The gateway's complete JSON lines on stdout so far. */
  const lines = (): Line[] =>
    (gw?.stdout() ?? '')
      .split('\n')
      .slice(0, -1)
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line);
  /** The access line of each case, by case name. */
  const accessLines: Record<string, Line> = {};
  const statuses: Record<string, number> = {};

  beforeAll(async () => {
    // The real gateway through tsx, on a port of the kernel's choice (spawnGateway).
    gw = await spawnGateway({});
    const { url } = gw;
    for (const [name, c] of Object.entries(CASES)) {
      const id = `latency-metric-${Object.keys(CASES).indexOf(name)}`;
      const response = await c.send(url, id);
      await response.arrayBuffer();
      statuses[name] = response.status;
      // Access lines reach stdout together every 10 ms (ACCESS_LOG_FLUSH_MS).
      const accessLine = () => lines().find((l) => l.reqId === id && l.msg === 'request');
      const until = Date.now() + 10_000;
      while (!accessLine() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      const line = accessLine();
      if (line) accessLines[name] = line;
    }
  }, 120_000);

  afterAll(async () => {
    gw?.child.kill('SIGTERM');
    await gw?.exited;
  });

  it('is one filter, publishing the latencyMs field', () => {
    expect(filters).toHaveLength(1);
    expect(transformation?.MetricValue).toBe('$.latencyMs');
  });

  it.each(Object.keys(CASES))('%s: matched only if it is a single prediction', (name) => {
    const c = CASES[name];
    expect(statuses[name], name).toBe(c.status);
    const line = accessLines[name];
    expect(line, `no access line for ${name} in ${JSON.stringify(lines().slice(-5))}`).toBeDefined();
    expect(matches(pattern, line ?? {}), `${pattern}\n${JSON.stringify(line)}`).toBe(c.single);
    if (c.single) {
      // The metric value: a number, never negative (percentile statistics need that).
      const value = fieldOf(line ?? {}, transformation?.MetricValue ?? '');
      expect(typeof value).toBe('number');
      expect(value as number).toBeGreaterThanOrEqual(0);
    }
  });

  it('reads only fields the access line has, each compared with a value of the type the line writes', () => {
    const line = accessLines['REST single customer'] ?? {};
    const comparisons = [...pattern.matchAll(/(\$\.\w+) (?:=|!=|>=|<=|>|<) ("[^"]*"|[\d.]+)/g)];
    expect(comparisons.length).toBeGreaterThan(0);
    for (const [, field = '', value = ''] of comparisons) expect([field, typeof fieldOf(line, field)]).toEqual([field, value.startsWith('"') ? 'string' : 'number']);
    // CloudWatch Logs publishes a JSON field as the metric value only when the pattern matches
    // that field: without it the metric gets no data and the alarm never fires.
    expect(comparisons.map(([, field]) => field)).toContain(transformation?.MetricValue);
  });
});

/** A JSON log event's field, as `$.name` addresses it. */
function fieldOf(event: Line, selector: string): unknown {
  return event[selector.replace(/^\$\./, '')];
}

/**
 * Evaluates the subset of CloudWatch Logs' JSON filter pattern syntax the metric filter uses:
 * `{ expression }` with `$.field` compared (=, !=, <, <=, >, >=) to a "string" or a number, joined
 * by && and ||, in parentheses. As in CloudWatch, a field the event lacks matches no comparison, a
 * number compares only with a number, and a string only with a string (exactly: no `*` here).
 */
function matches(pattern: string, event: Line): boolean {
  const body = /^\{(.*)\}$/s.exec(pattern.trim())?.[1];
  if (body === undefined) throw new Error(`not a JSON filter pattern: ${pattern}`);
  const tokens = body.match(/\$\.\w+|"[^"]*"|-?\d+(?:\.\d+)?|&&|\|\||!=|>=|<=|[=<>()]/g) ?? [];
  if (tokens.join('').replace(/\s/g, '') !== body.replace(/\s/g, '')) throw new Error(`unsupported syntax in ${pattern}`);
  let at = 0;
  const next = () => tokens[at++];
  const either = (): boolean => {
    let value = both();
    while (tokens[at] === '||') {
      next();
      value = both() || value;
    }
    return value;
  };
  const both = (): boolean => {
    let value = primary();
    while (tokens[at] === '&&') {
      next();
      value = primary() && value;
    }
    return value;
  };
  const primary = (): boolean => {
    const token = next();
    if (token === '(') {
      const value = either();
      if (next() !== ')') throw new Error(`expected ) in ${pattern}`);
      return value;
    }
    const op = next();
    const literal = next();
    if (!token?.startsWith('$.') || op === undefined || literal === undefined) throw new Error(`expected $.field op value in ${pattern}`);
    const actual = fieldOf(event, token);
    const expected: string | number = literal.startsWith('"') ? literal.slice(1, -1) : Number(literal);
    if (typeof actual !== typeof expected) return false;
    const a = actual as string | number;
    return { '=': a === expected, '!=': a !== expected, '<': a < expected, '<=': a <= expected, '>': a > expected, '>=': a >= expected }[op] ?? false;
  };
  const value = either();
  if (at !== tokens.length) throw new Error(`unexpected ${tokens[at]} in ${pattern}`);
  return value;
}
