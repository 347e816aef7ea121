/**
 * A whole POST /predict body, from its text to its answer's text, for bodies parsed on the
 * inference worker (onnx-worker.js) rather than on the event loop: JSON.parse, the legacy
 * contract (zod), the customer rules, the encoding, the decision and the answer's JSON.
 *
 * On the event loop a 10,000-row body held every other request, health checks included: GET /
 * waited ~52 ms behind a valid one and ~154 ms behind an invalid one (zod builds every row's
 * issues), against ~10 and ~12 ms with the body on the worker (README, Performance). Small
 * bodies stay on the event loop (app.ts): there, parsing one customer costs less than handing
 * it over, and their predictions are coalesced.
 *
 * The same functions as on the event loop (rest/predict.ts, prediction.ts `decide`), so both
 * give the same bytes for the same body (test/rest-on-worker.test.ts).
 */
import type { Manifest } from '../bundle/manifest.js';
import { HttpProblem } from '../http.js';
import type { FeatureEncoder } from '../model/features.js';
import { decide, type RiskLevel } from '../prediction.js';
import { legacyResponse, parseLegacyBody } from './predict.js';

/** What the REST path needs of a model: its encoder, its decision and a session.run. */
export interface RestScorer {
  readonly encoder: FeatureEncoder;
  readonly threshold: number;
  readonly riskBands: Manifest['riskBands'];
  readonly modelVersion: string;
  /** P(churn) for `rows` encoded rows in `input`. */
  score(input: Float32Array, rows: number): Promise<Float32Array>;
}

export type RiskCounts = Record<RiskLevel, number>;

export type RestOutcome =
  /** The 200 answer's JSON text; `rows` predictions were made, counted by risk level. */
  | { readonly kind: 'answer'; readonly text: string; readonly rows: number; readonly byRisk: RiskCounts }
  /** The 4xx problem the request gets: not JSON, or not the legacy contract. */
  | { readonly kind: 'problem'; readonly problem: HttpProblem };

/** The body as the event loop reads it: JSON, then the legacy contract. */
export function parseRestBody(text: string, maxBatch: number): ReturnType<typeof parseLegacyBody> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new HttpProblem(400, 'Bad Request', `request body is not valid JSON: ${(err as Error).message}`, [{ path: '(body)', message: 'must be valid JSON' }]);
  }
  return parseLegacyBody(body, maxBatch);
}

/** Answers one body; rejects only when session.run fails. */
export async function answerRestBody(text: string, maxBatch: number, scorer: RestScorer): Promise<RestOutcome> {
  let parsed: ReturnType<typeof parseLegacyBody>;
  try {
    parsed = parseRestBody(text, maxBatch);
  } catch (err) {
    if (err instanceof HttpProblem) return { kind: 'problem', problem: err };
    throw err;
  }
  const { batch, requests } = parsed;
  const rows = requests.length;
  const input = new Float32Array(rows * scorer.encoder.width);
  scorer.encoder.encodeInto(
    requests.map((r) => r.record),
    input,
  );
  const probabilities = rows === 0 ? new Float32Array(0) : await scorer.score(input, rows);
  const byRisk: RiskCounts = { LOW: 0, MEDIUM: 0, HIGH: 0 };
  const answers = requests.map((request, i) => {
    const prediction = decide(probabilities[i] as number, request.customerId, scorer);
    byRisk[prediction.riskLevel]++;
    return legacyResponse(prediction, request);
  });
  return { kind: 'answer', text: JSON.stringify(batch ? answers : answers[0]), rows, byRisk };
}
