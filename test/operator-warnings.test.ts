/**
 * Settings that are valid together but leave a feature that is on unable to work are named in
 * a warn line at start-up (the gateway still starts: the rest works).
 */
import { describe, expect, it } from 'vitest';
import { spawnGateway } from './helpers/index.js';

const warnings = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.includes('"level":"warn"'))
    .map((l) => JSON.parse(l) as { msg: string; variables?: string[] });

describe('GraphiQL on with introspection off', () => {
  it('starts, and says that GraphiQL cannot read the schema and what to set', async () => {
    const gw = await spawnGateway({ GRAPHIQL_ENABLED: 'true', INTROSPECTION_ENABLED: 'false' });
    try {
      // What the warning says is so: the schema query GraphiQL sends is refused.
      const res = await fetch(`${gw.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }) });
      expect(JSON.stringify(await res.json())).toMatch(/introspection/i);
      expect((await fetch(`${gw.url}/ui/graphiql`)).status).toBe(200);
      expect(warnings(gw.stdout())).toEqual([
        expect.objectContaining({
          variables: ['GRAPHIQL_ENABLED', 'INTROSPECTION_ENABLED'],
          msg: expect.stringMatching(/^GRAPHIQL_ENABLED is true but INTROSPECTION_ENABLED is false: \/ui\/graphiql cannot read the schema.*; set GRAPHIQL_ENABLED=false as well, or INTROSPECTION_ENABLED=true$/),
        }),
      ]);
    } finally {
      gw.child.kill('SIGTERM');
      await gw.exited;
    }
  }, 60_000);

  it('is not warned about when either is off or both are on', async () => {
    // Both on (the defaults), GraphiQL alone off, both off.
    const settings: Record<string, string>[] = [{}, { GRAPHIQL_ENABLED: 'false' }, { GRAPHIQL_ENABLED: 'false', INTROSPECTION_ENABLED: 'false' }];
    for (const env of settings) {
      const gw = await spawnGateway(env);
      gw.child.kill('SIGTERM');
      await gw.exited;
      expect(warnings(gw.stdout())).toEqual([]);
    }
  }, 60_000);
});
