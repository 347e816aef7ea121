/**
 * What the bench scripts send (`npm run bench`, `bench/compare-builds.ts`, `npm run soak`):
 * one source, so an A/B or a soak measures the load the bench's ratios are read from. (An A/B
 * that sent the README's customer while the bench sent another once missed a 14 % REST
 * regression that only the bench's customer paid.)
 *
 * The customers are the bundle's parity inputs within the data set's tenure range, generated at
 * training time, never the data set's rows. The single prediction is the first of them: a new
 * customer (tenure 0, TotalCharges null) with MonthlyCharges 0, below the training range
 * (GraphQL's outsideTrainingRange is not selected, so nothing is computed for it).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parityFileSchema } from '../src/bundle/manifest.js';
import { graphqlCustomer, type CustomerRecord } from '../src/contract.js';
import type { CustomerInput } from '../src/generated/graphql.js';

export const GQL_PREDICT = 'mutation Predict($customer: CustomerInput!) { predict(customer: $customer) { churnProbability willChurn riskLevel threshold modelVersion } }';
export const GQL_BATCH = 'mutation PredictBatch($customers: [CustomerInput!]!) { predictBatch(customers: $customers) { churnProbability willChurn riskLevel modelVersion } }';

/**
 * autocannon's timeout for one request, s: a request unanswered this long counts as a timeout (among
 * its errors, so a failed answer). Its default, 10 s, outlasted every load (5 s, 3 with --quick, the
 * A/B's 6 s), so a request the server never answered was counted nowhere, and a load with no answers
 * at all read 0 errors and a p99 of 0 ms. One second is 100× the p99 limit. A request sent in a
 * load's last second and never answered is still dropped uncounted: autocannon stops first.
 */
export const LOAD_TIMEOUT_SECONDS = 1;

/** autocannon's command line (after `node`, from a checkout's root) for a load of `seconds` at `connections` connections: the bench's and the A/B's. */
export function autocannonArgv(url: string, body: string | null, connections: number, seconds: number): string[] {
  const argv = ['node_modules/autocannon/autocannon.js', '--json', '-c', String(connections), '-d', String(seconds), '-t', String(LOAD_TIMEOUT_SECONDS)];
  if (body !== null) argv.push('-m', 'POST', '-H', 'content-type=application/json', '-b', body);
  argv.push(url);
  return argv;
}

/** A predictBatch body (GQL_BATCH) for `rows`, each sent by the contract's mapping (src/contract.ts), which the parity replay sends too. */
/**
 * A batch request's headers asking for its answer uncompressed. fetch asks for gzip by default, which
 * the gateway grants for answers of 64 KiB and more (src/compression.ts); on loopback compressing
 * saves no transfer time and only adds the thread pool's work. So the batch timings measure serving as
 * runs from before compression did (and a base checkout from before it, which compresses nothing), as
 * autocannon's loads, which ask for no coding, do.
 */
export const UNCOMPRESSED_JSON = { 'content-type': 'application/json', 'accept-encoding': 'identity' } as const;

export function graphqlBatch(rows: readonly CustomerRecord[]): string {
  return JSON.stringify({ query: GQL_BATCH, operationName: 'PredictBatch', variables: { customers: rows.map((r) => graphqlCustomer(r) satisfies CustomerInput) } });
}

export interface BenchLoads {
  /** `n` customers, cycling through the pool. */
  readonly rowsOf: (n: number) => CustomerRecord[];
  /** The single prediction's body for POST /predict. */
  readonly rest: string;
  /** The single prediction's body for POST /graphql (GQL_PREDICT). */
  readonly graphql: string;
}

/** The loads, from the bundle under `root` (a checkout). */
export async function benchLoads(root: string): Promise<BenchLoads> {
  const parity = parityFileSchema.parse(JSON.parse(await readFile(path.join(root, 'model/bundle/parity.json'), 'utf8')));
  const pool = parity.cases.map((c) => c.input as CustomerRecord).filter((r) => r.tenure <= 72);
  const one = pool[0];
  if (!one) throw new Error('the parity file has no customer with tenure ≤ 72');
  return {
    rowsOf: (n) => Array.from({ length: n }, (_, i) => pool[i % pool.length] as CustomerRecord),
    rest: JSON.stringify(one),
    graphql: JSON.stringify({ query: GQL_PREDICT, operationName: 'Predict', variables: { customer: graphqlCustomer(one) satisfies CustomerInput } }),
  };
}
