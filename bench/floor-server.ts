/**
 * The bench's "REST checks only" server (run.ts): what a REST route that reads and checks the same
 * body costs on node:http, in the same run. It runs the gateway's own body decoding (bodyText) and
 * checks (parseLegacyBody: zod, the business rules), from the modules it is given (the bench
 * passes the build in dist/, the test the sources), and writes the legacy answer (legacyResponse)
 * with a fixed prediction. No model, request id, timer, access log or metrics: REST /predict's
 * distance from this row is what serving a prediction adds; this row's distance from raw is what
 * a checked JSON route costs on this machine (the toy table read 0.36–0.41× raw for one).
 *
 * The server is a module's text run by `node --input-type=module -e`, which no type checker reads:
 * its prediction is built here, typed as legacyResponse takes it, so a change to what that reads
 * fails `tsc` instead of every request of the bench (the 39th session's model_run_id did:
 * the server answered 400 to each, and the bench stopped at its first probe).
 */
import { pathToFileURL } from 'node:url';
import type { legacyResponse } from '../src/rest/predict.js';

/** The answer's fixed prediction: an MLflow run id is 32 hex digits, so the answer is the gateway's size. */
export const FLOOR_PREDICTION: Parameters<typeof legacyResponse>[0] = {
  willChurn: false,
  churnProbability: 0.1,
  threshold: 0.5,
  modelVersion: '1',
  riskLevel: 'LOW',
  model: { lineage: { runId: '0'.repeat(32) } },
};

/** Files of the modules the server imports: src/rest/predict and src/json-body, built or not. */
export interface FloorModules {
  readonly predict: string;
  readonly jsonBody: string;
}

/** The server's module text; it listens on 127.0.0.1:$PORT. */
export const floorServer = (modules: FloorModules): string => `
import http from 'node:http';
const { parseLegacyBody, legacyResponse } = await import(${JSON.stringify(pathToFileURL(modules.predict).href)});
const { bodyText } = await import(${JSON.stringify(pathToFileURL(modules.jsonBody).href)});
const prediction = ${JSON.stringify(FLOOR_PREDICTION)};
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let status = 200;
    let answer = {};
    if (req.method === 'POST') {
      try {
        const text = bodyText(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
        const { batch, requests } = parseLegacyBody(text, JSON.parse(text), 1000);
        const answers = requests.map((r) => legacyResponse(prediction, r));
        answer = batch ? answers : answers[0];
      } catch (err) {
        status = 400;
        answer = { detail: String(err.message) };
      }
    }
    const text = JSON.stringify(answer);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
}).listen(Number(process.env.PORT), '127.0.0.1');`;
