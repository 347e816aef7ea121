/**
 * The README's and the docs' examples answer as shown: every `curl … localhost:8000…` in a
 * bash block is sent, as written, to the gateway serving the committed bundle, and where the
 * doc shows the answer (a `# {…}` comment) the answer must be that, `…` / `...` standing for
 * the rest of a number / anything. The error messages the README quotes are the gateway's.
 * A retrained bundle (new version, threshold or probability) fails here until the docs say so.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOC_PAGES, gql, postJson, REPO_ROOT, startTestGateway, type TestGateway } from './helpers/index.js';

interface Example {
  file: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** The answer the doc shows, if any. */
  shown: string | undefined;
}

const DOCS = ['README.md', ...DOC_PAGES];

/** The curl commands against localhost:8000 in the bash blocks of `file`. */
function examples(file: string): Example[] {
  const text = readFileSync(`${REPO_ROOT}${file}`, 'utf8');
  const found: Example[] = [];
  for (const [, block] of text.matchAll(/```bash\n([\s\S]*?)```/g)) {
    // A command runs from `curl` to the next command or the end of the block; its single-quoted
    // arguments may span lines (the docs' JSON bodies have no ' inside).
    for (const command of (block as string).split(/\n(?=curl |docker |npm |cd |aws |MLFLOW)/)) {
      if (!/^curl .*localhost:8000/.test(command)) continue;
      const quoted: string[] = [];
      const bare = command.replace(/'[^']*'/g, (q) => `'${quoted.push(q.slice(1, -1)) - 1}'`);
      const arg = (i: string | undefined) => quoted[Number(i)] ?? '';
      const path = /localhost:8000(\/[^\s']*)?/.exec(bare)?.[1] ?? '/';
      const headers: Record<string, string> = {};
      for (const [, i] of bare.matchAll(/-H '(\d+)'/g)) {
        const [name, ...value] = arg(i).split(':');
        headers[(name as string).trim().toLowerCase()] = value.join(':').trim();
      }
      const data = /-d '(\d+)'/.exec(bare)?.[1];
      // The shown answer: a `# {…}` comment after the command (same line or the next), to its last }.
      const comment = /#\s*(\{.*\})/.exec(bare.replace(/'\d+'/g, ''))?.[1];
      found.push({ file, method: data === undefined ? 'GET' : 'POST', path, headers, body: data === undefined ? undefined : arg(data), shown: comment });
    }
  }
  return found;
}

/** `shown` as a pattern: literal text, `…` the rest of a number, `...` anything. */
function pattern(shown: string): RegExp {
  const escaped = shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\\\.\\\.\\\./g, '.*').replace(/…/g, '[0-9]*')}$`);
}

const all = DOCS.flatMap(examples);

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw.close();
});

describe('the curl examples in the README and the docs', () => {
  it('are found (the README has its GraphQL, REST and health examples)', () => {
    const readme = all.filter((e) => e.file === 'README.md');
    expect(readme.map((e) => `${e.method} ${e.path}`)).toEqual(['POST /graphql', 'POST /graphql', 'POST /predict', 'GET /']);
    expect(readme.filter((e) => e.shown !== undefined)).toHaveLength(3);
  });

  it.each(all.map((e) => [`${e.file}: ${e.method} ${e.path}${e.shown ? ` → ${e.shown.slice(0, 60)}…` : ''}`, e] as const))('%s', async (_name, example) => {
    const res = await fetch(`${gw.url}${example.path}`, { method: example.method, headers: example.headers, body: example.body });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(text).not.toMatch(/"errors"/);
    if (example.shown !== undefined) expect(text).toMatch(pattern(example.shown));
  });
});

describe("the README's error examples", () => {
  const readme = readFileSync(`${REPO_ROOT}README.md`, 'utf8').replace(/\s+/g, ' ');
  const customer = JSON.parse(all.find((e) => e.path === '/predict')?.body ?? '{}') as Record<string, unknown>;

  it('REST: a bad Contract in the second customer', async () => {
    const res = await postJson(gw.url, '/predict', [customer, { ...customer, Contract: 'Monthly' }]);
    expect(res.status).toBe(400);
    const error = (res.json as { errors: unknown[] }).errors[0];
    expect(readme.includes(`e.g. \`${JSON.stringify(error)}\`;`), `README quotes ${JSON.stringify(error)}`).toBe(true);
  });

  it('REST: checking stops at MAX_COUNTED_ISSUES on 10,000 empty customers', async () => {
    const body = `[${Array(10_000).fill('{}').join(',')}]`;
    expect(readme.includes(`a ${Math.round(body.length / 1000)} KB body`), `README calls it a ${Math.round(body.length / 1000)} KB body`).toBe(true);
    const res = await postJson(gw.url, '/predict', body);
    expect(res.status).toBe(400);
    const detail = (res.json as { detail: string }).detail;
    const stopped = /^at least \d+ invalid field\(s\) \(checking stopped there, after \d+ of \d+ customers\)/.exec(detail)?.[0];
    expect(stopped, detail).toBeDefined();
    expect(readme.includes(`says so: \`${stopped}\``), `README quotes "${stopped}"`).toBe(true);
  });

  it('reloadModel on the packaged bundle: changes nothing, with the message the README quotes', async () => {
    const token = 'docs-examples-admin-token';
    const bundleOnly = await startTestGateway({ ADMIN_TOKEN: token });
    try {
      const res = await gql<{ reloadModel: { changed: boolean; message: string } }, undefined>(
        bundleOnly.url,
        'mutation { reloadModel { changed message } }',
        undefined,
        { authorization: `Bearer ${token}` },
      );
      expect(res.status).toBe(200);
      const answer = res.body.data?.reloadModel;
      expect(answer?.changed).toBe(false);
      expect(readme.includes(`it changes nothing (\`changed: false\`, \`${answer?.message}\`)`), `README quotes "${answer?.message}"`).toBe(true);
    } finally {
      await bundleOnly.close();
    }
  });

  it('GraphQL: a refused enum value lists the allowed ones', async () => {
    const res = await gql(gw.url, 'mutation($c: CustomerInput!) { predict(customer: $c) { churnProbability } }', { c: { gender: 'Female' } });
    expect(res.status).toBe(400);
    const message = res.body.errors?.map((e) => e.message).find((m) => m.includes('"Gender" enum')) ?? '';
    const tail = /Value "Female" does not exist in "Gender" enum; allowed: [^"]*$/.exec(message)?.[0];
    expect(tail, message).toBeDefined();
    expect(readme.includes(`(\`${tail}\`)`), `README quotes "${tail}"`).toBe(true);
  });
});
