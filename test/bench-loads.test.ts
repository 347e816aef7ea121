/**
 * What the bench sends (bench/loads.ts) is what a gateway answers, and its GraphQL half scores the
 * same customers as its REST half: the GraphQL customers are the contract's mapping of the same
 * rows (graphqlCustomer), so an enum value or field renamed in src/contract.ts cannot leave the
 * bench sending the old name and counting every GraphQL answer as failed.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { floorServer } from '../bench/floor-server.js';
import { benchLoads, graphqlBatch, type BenchLoads } from '../bench/loads.js';
import { CONTRACT_ENUMS, type CustomerRecord } from '../src/contract.js';
import { REPO_ROOT, listeningPort, postJson, startTestGateway, waitFor, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
let loads: BenchLoads;

beforeAll(async () => {
  gw = await startTestGateway();
  loads = await benchLoads(REPO_ROOT);
});
afterAll(() => gw.close());

type Scored = { churnProbability: number };
type GraphQLAnswer = { data?: Record<string, Scored | Scored[]> | null; errors?: unknown };

describe("the bench's loads (bench/loads.ts) on a running gateway", () => {
  it('the single prediction is answered over REST and GraphQL with the same probability', async () => {
    const rest = await postJson(gw.url, '/predict', loads.rest);
    const graphql = await postJson(gw.url, '/graphql', loads.graphql);
    expect(rest.status).toBe(200);
    expect(graphql.status).toBe(200);
    const answer = graphql.json as GraphQLAnswer;
    expect(answer.errors).toBeUndefined();
    expect((answer.data?.['predict'] as Scored).churnProbability).toBe((rest.json as { churn_probability: number }).churn_probability);
  });

  it("a predictBatch of the pool's rows scores each row as REST scores the same row", async () => {
    const rows = loads.rowsOf(500);
    const rest = await postJson(gw.url, '/predict', rows);
    const graphql = await postJson(gw.url, '/graphql', graphqlBatch(rows));
    expect(rest.status).toBe(200);
    expect(graphql.status).toBe(200);
    const answer = graphql.json as GraphQLAnswer;
    expect(answer.errors).toBeUndefined();
    const got = (answer.data?.['predictBatch'] as Scored[]).map((p) => p.churnProbability);
    expect(got).toHaveLength(rows.length);
    expect(got).toEqual((rest.json as { churn_probability: number }[]).map((p) => p.churn_probability));
  });

  it("refuses a row with a value the contract does not have, naming its column, instead of sending a guess", () => {
    const [row] = loads.rowsOf(1);
    const odd = { ...row, PaymentMethod: 'Cheque' } as unknown as CustomerRecord;
    expect(() => graphqlBatch([odd])).toThrow(`PaymentMethod: "Cheque" is not one of the contract's values (${Object.values(CONTRACT_ENUMS.PaymentMethod).join(', ')})`);
    expect(() => graphqlBatch([{ ...row, Partner: true } as unknown as CustomerRecord])).toThrow('Partner: true is not one of the contract\'s values (Yes, No)');
  });

  it('the "REST checks only" server (bench/floor-server.ts) answers the single prediction with the keys the gateway answers', async () => {
    // Run on the sources (tsx), as the bench runs it on their build: the 39th session's
    // model_run_id made it answer 400 to every request, and the bench stopped at its first probe.
    // PORT 0, the port read back once it listens: a free port chosen here and handed over could be
    // taken by another test's server in the seconds tsx takes to start it, which then answered.
    const server = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', floorServer({ predict: `${REPO_ROOT}src/rest/predict.ts`, jsonBody: `${REPO_ROOT}src/json-body.ts` })], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    server.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let floorUrl = '';
    try {
      await waitFor('the checks-only server to listen', async () => {
        const port = server.pid === undefined ? null : await listeningPort(server.pid, null);
        if (port !== null) floorUrl = `http://127.0.0.1:${port}`;
        return port !== null;
      }, 30_000);
      const floor = await postJson(floorUrl, '/', loads.rest);
      const rest = await postJson(gw.url, '/predict', loads.rest);
      expect({ status: floor.status, stderr }).toEqual({ status: 200, stderr: '' });
      expect(Object.keys(floor.json as object)).toEqual(Object.keys(rest.json as object));
      expect(Buffer.byteLength(JSON.stringify(floor.json))).toBeGreaterThan(Buffer.byteLength(JSON.stringify(rest.json)) - 40);
    } finally {
      server.kill('SIGTERM');
    }
  });
});
