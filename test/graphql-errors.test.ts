/**
 * What a GraphQL caller sees of a failure the gateway does not expect: "Unexpected error." and
 * the request id, never the cause, whatever NODE_ENV says (the cause is logged under that id).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, startTestGateway, type TestGateway } from './helpers/index.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ LOG_LEVEL: 'warn' });
});
afterAll(() => gw.close());

describe('a failure no resolver expects', () => {
  it.each(['development', 'production', 'test'])('is answered without its message or stack when NODE_ENV is %s', async (nodeEnv) => {
    // Yoga reads process.env.NODE_ENV when it masks an error: "development" added the cause, stack included.
    const before = process.env['NODE_ENV'];
    process.env['NODE_ENV'] = nodeEnv;
    Object.defineProperty(gw.slot, 'current', {
      configurable: true,
      get: () => {
        throw new TypeError('injected: secret internals at /srv/app/model-slot.ts:42');
      },
    });
    try {
      const res = await gql(gw.url, 'query Lineage { modelInfo { modelVersion } }', {}, { 'x-request-id': `masked-${nodeEnv}` });
      expect(res.headers.get('x-request-id')).toBe(`masked-${nodeEnv}`);
      expect(res.body.errors).toEqual([
        { message: 'Unexpected error.', locations: [{ line: 1, column: 17 }], path: ['modelInfo'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      ]);
      expect(JSON.stringify(res.body)).not.toMatch(/injected|stack|model-slot/);
    } finally {
      Reflect.deleteProperty(gw.slot, 'current');
      process.env['NODE_ENV'] = before;
    }
  });
});
