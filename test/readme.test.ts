/**
 * The README stays true: its configuration table lists every variable config.ts reads, with
 * config.ts's defaults and ranges; the limits it quotes are the code's constants; its metrics
 * table shows the committed bundle's numbers, its split-study table the committed study's (in
 * model/README.md too, whose prose quotes them and whose pinned versions are model/requirements.txt's); its benchmark
 * table's latest run is bench/results/latest.md, and the set summaries it and docs/performance.md
 * give (each session's runs: median round, range, rounds at 0.5) are computed from the run files
 * they link; its relative links (and the docs') resolve; and CI runs its test command.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { maxHeaderSize } from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORS_EXPOSED_HEADERS } from '../src/app.js';
import { CONFIG_VARIABLES, ConfigError, loadConfig, type Config } from '../src/config.js';
import { CHUNK_ROWS } from '../src/chunked.js';
import { CUSTOMER_FIELDS, CUSTOMER_ID_MAX_LENGTH, MAX_CHARGE, MAX_LISTED_ISSUES, MAX_TENURE_MONTHS } from '../src/contract.js';
import { ACCESS_LOG_FLUSH_MS, EXIT_LOG_WAIT_MS } from '../src/logger.js';
import { COMPRESSED_FROM_BYTES } from '../src/compression.js';
import { DATASET_CUSTOMER_BYTES, DRAINED_BODY_BYTES, SMALL_BODY_BYTES, bodyLimitAdvice } from '../src/http.js';
import { MAX_OPERATION_LABELS } from '../src/metrics.js';
import { REJECTED_RETRY_POLLS } from '../src/model/model-admin.js';
import { RUN_DEADLINE_BASE_MS, RUN_DEADLINE_PER_ROW_MS } from '../src/model/onnx-host.js';
import { reloadDeadlineMs } from '../src/model/startup.js';
import { MAX_COUNTED_ISSUES } from '../src/rest/predict.js';
import { CHARS_PER_CONTAINER, CONTAINERS_COUNTED_FROM, EXTRA_CONTAINERS, MAX_OBJECT_MEMBERS } from '../src/json-body.js';
import { MAX_MESSAGE_CHARS } from '../src/schema/error-codes.js';
import { MAX_DIRECTIVES, MAX_DOCUMENT_CHARS, VARIABLE_LIMITS } from '../src/schema/limits.js';
import { MAX_OPERATION_LABEL_CHARS } from '../src/schema/prepared-operations.js';
import { BUNDLE_DIR, DOC_PAGES, REPO_ROOT } from './helpers/index.js';

const readme = await readFile(`${REPO_ROOT}README.md`, 'utf8');
/** The README with every run of white space one space, for phrases that wrap. */
const flat = readme.replace(/\s+/g, ' ');
const modelReadme = await readFile(`${REPO_ROOT}model/README.md`, 'utf8');
const manifest = JSON.parse(await readFile(`${BUNDLE_DIR}/manifest.json`, 'utf8')) as {
  threshold: number;
  metrics: Record<string, number>;
  params: Record<string, string>;
  parity: { count: number; tolerance: number };
};
/** 10000 → "10,000", as the README writes numbers in prose. */
const grouped = (n: number) => n.toLocaleString('en-US');

/** The problems loadConfig reports for `env`, or [] when it accepts it. */
function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
}

/** The numbers in a table cell or phrase ("0.49 (0.38–0.52)" → [0.49, 0.38, 0.52]), with how many decimals each was written with. */
function numbers(text: string): { value: number; decimals: number }[] {
  return [...text.matchAll(/\d[\d,]*(?:\.\d+)?/g)].map((m) => ({ value: Number(m[0].replace(/,/g, '')), decimals: m[0].split('.')[1]?.length ?? 0 }));
}

interface Spread {
  median: number;
  q05: number;
  q95: number;
}
/** model/results/split-study.json (model/churn_model/split_study.py), the fields the README shows. */
interface SplitStudy {
  summary: {
    splits: number;
    test_roc_auc: Spread;
    test_f1: Spread;
    splits_meeting: { test_roc_auc: number; test_f1: number };
    committed_split: { seed: number; test_roc_auc: number; test_f1: number; splits_with_lower_roc_auc: number };
  };
}

describe('README', () => {
  it('documents every configuration variable', () => {
    const documented = new Set([...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
    expect(CONFIG_VARIABLES.filter((v) => !documented.has(v))).toEqual([]);
    expect([...documented].filter((v) => !CONFIG_VARIABLES.includes(v as string))).toEqual([]);
  });

  // Each row: | `NAME` | default | allowed | meaning |
  const configRows = [...readme.matchAll(/^\| `([A-Z_]+)` \| ([^|]*) \| ([^|]*) \| [^\n]*\|$/gm)].map((m) => ({ name: m[1] as keyof Config, defaultCell: m[2] as string, allowed: m[3] as string }));

  it("gives config.ts's default for every variable", () => {
    expect(configRows.map((r) => r.name).sort()).toEqual([...CONFIG_VARIABLES].sort());
    const defaults = loadConfig({});
    for (const { name, defaultCell } of configRows) {
      const actual: unknown = defaults[name];
      const shown = /^`([^`]*)`/.exec(defaultCell)?.[1];
      if (defaultCell === 'unset') expect(actual, name).toBeUndefined();
      else if (defaultCell.startsWith('empty')) expect(actual, name).toEqual([]);
      else if (name === 'MODEL_DIR' || name === 'UI_DIR') expect(actual, name).toBe(path.resolve(shown ?? ''));
      else expect(String(actual), name).toBe(shown);
      // "`10000`, or `REQUEST_TIMEOUT_MS` if lower"
      const lower = /or `([A-Z_]+)` if lower/.exec(defaultCell)?.[1];
      if (lower) expect(loadConfig({ [lower]: '5000' })[name], name).toBe(5000);
    }
  });

  it("agrees with docs/mlflow.md's table on the defaults of the variables both list", () => {
    const mlflowDoc = readFileSync(`${REPO_ROOT}docs/mlflow.md`, 'utf8');
    const rows = [...mlflowDoc.matchAll(/^\| ((?:`[A-Z_]+`(?:, )?)+) \| ([^|]*) \|/gm)];
    expect(rows.length).toBeGreaterThan(5);
    const differ = rows.flatMap(([, names, cell]) =>
      [...(names as string).matchAll(/`([A-Z_]+)`/g)].map((m) => [m[1], cell, configRows.find((r) => r.name === m[1])?.defaultCell]).filter(([, doc, main]) => doc !== main),
    );
    expect(differ).toEqual([]);
  });

  /** Rows whose allowed values are prose (an address, a folder, a URL, any text): no rule above reads them. */
  const FREE_FORM = ['HOST', 'MODEL_DIR', 'UI_DIR', 'CORS_ORIGINS', 'MLFLOW_TRACKING_URI', 'MODEL_URI', 'MLFLOW_TRACKING_USERNAME', 'MLFLOW_TRACKING_PASSWORD', 'MLFLOW_TRACKING_TOKEN', 'GATEWAY_REVISION'];
  it("gives config.ts's allowed values for every variable", () => {
    for (const { name, allowed } of configRows) {
      const range = /^integer ([\d,]+)–([\d,]+)/.exec(allowed);
      if (range) {
        const [low, high] = [range[1], range[2]].map((v) => (v as string).replace(/,/g, ''));
        expect(configProblems({ [name]: 'x' }), name).toContain(`${name}: must be an integer from ${low} to ${high}; got "x"`);
      } else if (allowed === 'switch') {
        // MLFLOW_STRICT=true is refused unless there is an MLflow to be strict about.
        const context = name === 'MLFLOW_STRICT' ? { MLFLOW_TRACKING_URI: 'http://mlflow:5000', MODEL_URI: 'models:/telco-churn@champion' } : {};
        for (const [value, meaning] of [['true', true], ['1', true], ['yes', true], ['false', false], ['0', false], ['no', false]] as const) {
          expect(loadConfig({ ...context, [name]: value })[name], `${name}=${value}`).toBe(meaning);
        }
        expect(configProblems({ [name]: 'TRUE' }), name).toEqual([`${name}: must be true or false; got "TRUE"`]);
      } else if (/^`[a-z]+`(, `[a-z]+`)+$/.test(allowed)) {
        const listed = [...allowed.matchAll(/`([a-z]+)`/g)].map((m) => m[1]);
        const problem = configProblems({ [name]: 'not-a-value' }).join('; ');
        expect([...problem.matchAll(/"([a-z]+)"/g)].map((m) => m[1]), name).toEqual(listed);
      } else if (/^≥ \d+ characters\b/.test(allowed)) {
        const min = Number(/^≥ (\d+) characters/.exec(allowed)?.[1]);
        expect(configProblems({ [name]: 'x'.repeat(min) }), name).toEqual([]);
        expect(configProblems({ [name]: 'x'.repeat(min - 1) }), name).toEqual([`${name}: must be at least ${min} characters`]);
      } else {
        // A row no branch above reads is checked by nothing here: only the free-form ones may be.
        expect(FREE_FORM, `${name}: "${allowed}" is read by no check of this test`).toContain(name);
      }
    }
    // The switches' spelling is stated once, above the table.
    expect(flat.includes('Switches are `true` or `false` (`1`/`0` and `yes`/`no` are read too; `TRUE` is refused)')).toBe(true);
  });

  it("quotes the code's limits", () => {
    const d = loadConfig({});
    const quoted = [
      `documents of at most ${grouped(MAX_DOCUMENT_CHARS)} characters (\`MAX_DOCUMENT_CHARS\``,
      `objects of at most ${VARIABLE_LIMITS.maxObjectKeys} keys, strings and field names of at most ${grouped(VARIABLE_LIMITS.maxStringChars)} characters and ${VARIABLE_LIMITS.maxDepth} levels of nesting (\`VARIABLE_LIMITS\``,
      `Error messages are cut at ${grouped(MAX_MESSAGE_CHARS)} characters`,
      `once it has found ${grouped(MAX_COUNTED_ISSUES)} (\`MAX_COUNTED_ISSUES\`)`,
      `At most ${MAX_LISTED_ISSUES} problems are listed`,
      `the first ${MAX_LISTED_ISSUES} problems, with the total`,
      `every ${ACCESS_LOG_FLUSH_MS} ms (\`ACCESS_LOG_FLUSH_MS\``,
      `the first ${MAX_OPERATION_LABELS} operation names`,
      `operation names cut to ${MAX_OPERATION_LABEL_CHARS} characters`,
      `\`customerId\` / \`customerID\` is at most ${CUSTOMER_ID_MAX_LENGTH} characters`,
      `tenure an integer 0–${MAX_TENURE_MONTHS}`,
      `at most ${MAX_CHARGE.toExponential().replace('+', '')} (float32)`,
      `batches of more than ${CHUNK_ROWS} customers are checked ${CHUNK_ROWS} at a time`,
      `up to \`MAX_BATCH\` customers (default ${grouped(d.MAX_BATCH)},`,
      `| a request body | ${d.BODY_LIMIT_BYTES / 2 ** 20} MB (\`BODY_LIMIT_BYTES\`, ${grouped(d.BODY_LIMIT_BYTES)} bytes) | 413`,
      `${d.MAX_BODY_BYTES_IN_FLIGHT / 2 ** 20} MiB of bodies (\`MAX_BODY_BYTES_IN_FLIGHT\`)`,
      `A request's first ${SMALL_BODY_BYTES / 1024} KiB (\`SMALL_BODY_BYTES\`) are counted but never refused`,
      `stay under \`MAX_BODY_BYTES_IN_FLIGHT\` + ${SMALL_BODY_BYTES / 1024} KiB per open connection`,
      `when the body is chunked or declared over ${DRAINED_BODY_BYTES / 1024} KiB (\`DRAINED_BODY_BYTES\``,
      `An answer of ${COMPRESSED_FROM_BYTES / 1024} KiB or more (\`COMPRESSED_FROM_BYTES\``,
      `Polls load that version again at every ${REJECTED_RETRY_POLLS}th poll (\`REJECTED_RETRY_POLLS\`)`,
      `within ${REJECTED_RETRY_POLLS} poll intervals without moving the alias`,
      `GraphQL depth ${d.GRAPHQL_MAX_DEPTH}, ${d.GRAPHQL_MAX_ALIASES} aliases, ${MAX_DIRECTIVES} directives, ${grouped(d.GRAPHQL_MAX_TOKENS)} tokens, cost ${grouped(d.GRAPHQL_MAX_COST)}`,
      `keep-alive ${d.KEEP_ALIVE_TIMEOUT_MS / 1000} s`,
      `| request headers | \`HEADERS_TIMEOUT_MS\` (${d.HEADERS_TIMEOUT_MS / 1000} s) |`,
      `| request line and headers | ${maxHeaderSize / 1024} KB (Node's \`--max-http-header-size\`, ${grouped(maxHeaderSize)} bytes) | 431`,
      `| time per request | \`REQUEST_TIMEOUT_MS\` (${d.REQUEST_TIMEOUT_MS / 1000} s) |`,
      `the time a \`reloadModel\` gets (${reloadDeadlineMs(d.REQUEST_TIMEOUT_MS) / 1000} s by default)`,
      `unanswered for ${RUN_DEADLINE_BASE_MS / 1000} s + ${RUN_DEADLINE_PER_ROW_MS} ms per row`,
      `at most ${EXIT_LOG_WAIT_MS / 1000} s more, when the log reader is behind`,
      `a body over ${grouped(CONTAINERS_COUNTED_FROM)} characters may hold at most \`MAX_BATCH\` + ${EXTRA_CONTAINERS} JSON objects and arrays, or one per ${CHARS_PER_CONTAINER} characters`,
      `\`BODY_LIMIT_BYTES\` (${grouped(d.BODY_LIMIT_BYTES)} bytes) holds \`MAX_BATCH\` (${grouped(d.MAX_BATCH)}) customers only at up to ${Math.floor(d.BODY_LIMIT_BYTES / d.MAX_BATCH)} bytes each`,
      `rows take ${DATASET_CUSTOMER_BYTES.jsonDumps} bytes on average as Python's \`json.dumps\` writes them (with their 10-character \`customerID\`), ${DATASET_CUSTOMER_BYTES.uuid4Id} with a uuid4 \`customerID\` and ${DATASET_CUSTOMER_BYTES.indented} indented`,
      `(\`${bodyLimitAdvice(d.BODY_LIMIT_BYTES, d.MAX_BATCH)}\`)`,
      `no object of more than ${MAX_OBJECT_MEMBERS} members (\`MAX_OBJECT_MEMBERS\`, the GraphQL variables' bound; a customer has ${CUSTOMER_FIELDS.length + 1}:`,
      `${grouped(manifest.parity.count)} parity vectors`,
      `come back within ${manifest.parity.tolerance.toExponential().replace('+', '')}`,
    ];
    expect(quoted.filter((phrase) => !flat.includes(phrase))).toEqual([]);
  });

  it('names the headers an allowed origin\'s scripts may read as the gateway exposes them', () => {
    const names = CORS_EXPOSED_HEADERS.split(/, */);
    const listed = `may read ${names.slice(0, -1).map((n) => `\`${n}\``).join(', ')} and \`${names.at(-1) ?? ''}\``;
    expect(flat.toLowerCase().includes(listed.toLowerCase()), `README lacks: ${listed}`).toBe(true);
  });

  it("shows the committed bundle's metrics and threshold", () => {
    const block = /<!-- metrics:start -->([\s\S]*?)<!-- metrics:end -->/.exec(readme)?.[1] ?? '';
    const m = manifest.metrics;
    const f = (v: number | undefined) => (v ?? NaN).toFixed(4);
    expect(block).toContain(`| ROC AUC | ${f(m['test_roc_auc'])} |`);
    expect(block).toContain(`| F1 at threshold ${manifest.threshold} | ${f(m['test_f1'])} |`);
    expect(block).toContain(`| ROC AUC 95% interval (DeLong) | ${f(m['test_roc_auc_ci95_low'])} – ${f(m['test_roc_auc_ci95_high'])} |`);
    expect(block).toContain(`| PR AUC (average precision) | ${f(m['test_pr_auc'])} |`);
    expect(block).toContain(`| Precision / recall | ${f(m['test_precision'])} / ${f(m['test_recall'])} |`);
    expect(block).toContain(`| Accuracy | ${f(m['test_accuracy'])} |`);
    const folds = manifest.params['cv_folds'];
    expect(block).toContain(`| ${folds}-fold CV ROC AUC (training part), ± std over the ${folds} folds (population std, ddof=0) | ${f(m['cv_roc_auc_mean'])} ± ${f(m['cv_roc_auc_std'])} |`);
    expect(block).toContain(`| Mean probability / churn rate | ${f(m['test_mean_probability'])} / ${f(m['test_positive_rate'])} |`);
    expect(block).toContain(`| Log loss / Brier score | ${f(m['test_log_loss'])} / ${f(m['test_brier'])} |`);
    // The prose around it.
    const testRows = ['test_tn', 'test_fp', 'test_fn', 'test_tp'].reduce((n, k) => n + (m[k] ?? NaN), 0);
    const ci = (v: number | undefined) => (v ?? NaN).toFixed(3);
    const prose = [
      `held-out test split (${grouped(testRows)} customers)`,
      `\`scale_pos_weight\` (negatives / positives, ${Number(manifest.params['scale_pos_weight']).toFixed(2)})`,
      `standard error (${(m['test_roc_auc_se'] ?? NaN).toFixed(3)}) and 95% interval (${ci(m['test_roc_auc_ci95_low'])}–${ci(m['test_roc_auc_ci95_high'])})`,
    ];
    expect(prose.filter((phrase) => !flat.includes(phrase))).toEqual([]);
  });

  it("shows the committed split study's numbers", async () => {
    const study = JSON.parse(await readFile(`${REPO_ROOT}model/results/split-study.json`, 'utf8')) as SplitStudy;
    const block = /<!-- split-study:start -->([\s\S]*?)<!-- split-study:end -->/.exec(readme)?.[1] ?? '';
    const { summary: s } = study;
    const f = (v: number) => v.toFixed(4);
    const n = s.splits;
    expect(block).toContain(`| over ${n} splits | test ROC AUC | test F1 |`);
    expect(block).toContain(`| median | ${f(s.test_roc_auc.median)} | ${f(s.test_f1.median)} |`);
    expect(block).toContain(`| 5 % – 95 % | ${f(s.test_roc_auc.q05)} – ${f(s.test_roc_auc.q95)} | ${f(s.test_f1.q05)} – ${f(s.test_f1.q95)} |`);
    expect(block).toContain(`| splits meeting the target | ${s.splits_meeting.test_roc_auc} of ${n} | ${s.splits_meeting.test_f1} of ${n} |`);
    const c = s.committed_split;
    expect(block).toContain(`| the committed split (seed ${c.seed}) | ${f(c.test_roc_auc)}, above ${c.splits_with_lower_roc_auc} of ${n} | ${f(c.test_f1)} |`);
  });

  it("quotes docs/performance.md's event-loop time per REST request where it links there for the scaling estimate", () => {
    const performance = readFileSync(`${REPO_ROOT}docs/performance.md`, 'utf8').replace(/\s+/g, ' ');
    const found = /In the fifth session's runs the event loop's own CPU time per request was (\d+–\d+) µs .*? In the thirtieth session's it was (\d+\.\d)–(\d+\.\d) µs/.exec(performance);
    expect(found, "docs/performance.md states the event loop's CPU time per request, the fifth session's and the thirtieth's").not.toBeNull();
    const [, fifth, low, high] = found ?? [];
    // Dated, as docs/performance.md has them; the thirtieth session's rounded to whole µs.
    const phrase = `([docs/performance.md](docs/performance.md#where-the-cpu-goes): event loop ${fifth} µs per REST request in the fifth session's runs, ${Math.round(Number(low))}–${Math.round(Number(high))} in the thirtieth's`;
    expect(flat.includes(phrase), `README says "${phrase}"`).toBe(true);
  });

  it('gives the two quick-start commands, and CI runs the test one', async () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
    expect(await readFile(`${REPO_ROOT}.ci/run`, 'utf8')).toMatch(/^npm test$/m);
  });

  it('names every package whose install script `npm ci` lists as not covered by allowScripts (the lockfile\'s)', () => {
    const lock = JSON.parse(readFileSync(`${REPO_ROOT}package-lock.json`, 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    const withScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript === true)
      .map(([key]) => key.replace(/^.*node_modules\//, ''))
      .sort();
    expect(withScripts.length).toBeGreaterThan(0);
    const listed = /`npm ci` also lists (.+?) as install scripts not covered by `allowScripts`/.exec(flat)?.[1];
    expect(listed, 'README quick start names the install scripts npm ci lists').toBeDefined();
    expect((listed ?? '').split(/, | and /).map((name) => name.replace(/`/g, '')).sort()).toEqual(withScripts);
  });

  it('says how to serve on another port when 8000 is taken, and the example port is one PORT takes', () => {
    const port = /`PORT=(\d+) npm start` serves on another port/.exec(flat)?.[1];
    expect(port, 'README quick start names PORT=<port> npm start').toBeDefined();
    expect(loadConfig({ PORT: port ?? '' }).PORT).toBe(Number(port));
    const phrases = [`the examples below then call \`localhost:${port}\``, `\`cannot start: PORT ${loadConfig({}).PORT}: listen EADDRINUSE: address already in use ${loadConfig({}).HOST}:${loadConfig({}).PORT}\``];
    expect(phrases.filter((phrase) => !flat.includes(phrase))).toEqual([]);
  });
});

describe("README's benchmark table", () => {
  const latest = readFileSync(`${REPO_ROOT}bench/results/latest.md`, 'utf8');
  /** The second cell of latest.md's row whose first cell is `label`. */
  const latestCell = (label: string): string => {
    const row = latest.split('\n').find((line) => line.startsWith(`| ${label} |`));
    expect(row, `bench/results/latest.md has no row "${label}"`).toBeDefined();
    return (row as string).split(' | ')[1] as string;
  };
  const first = (text: string) => numbers(text).slice(0, 1);
  const latestPhrase = (re: RegExp) => {
    const m = re.exec(latest);
    expect(m, `bench/results/latest.md has no ${re}`).not.toBeNull();
    return numbers((m as RegExpExecArray)[0]);
  };

  it('links bench/results/latest.md as the latest table, and its last run by the run\'s own file, which latest.md still is', () => {
    expect(readme).toContain('Latest table: [bench/results/latest.md](bench/results/latest.md)');
    // latest.md moves with every `npm run bench`; the table's run 3 links the file that stays, and the
    // figures checked below against latest.md are that run's only while the two are the same.
    const run3 = /\[run 3\]\((bench\/results\/[^)]+\.md)\)/.exec(readme)?.[1];
    expect(run3, 'README links its run 3').toBeDefined();
    expect(run3).not.toBe('bench/results/latest.md');
    expect(readFileSync(`${REPO_ROOT}${run3 ?? ''}`, 'utf8'), `${run3} is not bench/results/latest.md: rerun the README's table from the latest runs`).toBe(latest);
    const date = /^# Benchmark (\d{4}-\d{2}-\d{2})$/m.exec(latest)?.[1];
    expect(flat.includes(`The latest three runs of \`npm run bench\` (${date},`), `README names the date of bench/results/latest.md, ${date}`).toBe(true);
  });

  it("shows latest.md's figures in its run 3 column", () => {
    const header = '| at 50 connections unless stated | run 1 | run 2 | run 3 | target |';
    const table = readme.slice(readme.indexOf(header)).split('\n\n')[0] as string;
    expect(table.startsWith(header)).toBe(true);
    /** The run 3 cell of the README's row that starts with `label`. */
    const run3 = (label: string) => {
      const row = table.split('\n').find((line) => line.startsWith(`| ${label}`));
      expect(row, `README benchmark table has no row "${label}"`).toBeDefined();
      return numbers((row as string).split(' | ')[3] as string);
    };
    const rawRps = [...latest.matchAll(/^\| raw node:http \| \d+ \| 50 \| (\d+) \|/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
    // | REST, valid | its request, ms | slowest GET / during it, median (max) ms | × idle |
    const stall = (kind: string) => first(((latest.split('\n').find((l) => l.startsWith(`| ${kind} |`)) ?? '').split(' | ')[2] ?? ''));
    const expected: [string, { value: number }[]][] = [
      ['raw `node:http`, req/s (median round)', [{ value: rawRps[Math.floor(rawRps.length / 2)] ?? NaN }]],
      ['REST checks only × raw / REST `/predict` × REST checks only', latestPhrase(/It read [\d.]+ \([\d.]+–[\d.]+\)× raw, and REST \/predict [\d.]+ \([\d.]+–[\d.]+\)× it/)],
      ['REST `/predict` × raw', numbers(latestCell('REST /predict ≥ 0.5× raw node:http'))],
      ['REST event-loop CPU per request', latestPhrase(/raw's over REST's [\d.]+ \([\d.]+–[\d.]+\)/)],
      ['GraphQL `predict` × raw', numbers(latestCell('GraphQL predict ≥ 0.25× raw node:http'))],
      ['`predictBatch` 1,000 rows × raw', first(latestCell('predictBatch 1,000 ≤ 3× session.run (medians)'))],
      [
        'p99 REST / GraphQL',
        [...first(latestCell('p99 single prediction ≤ 10 ms at 50 connections (REST)')), ...first(latestCell('p99 single prediction ≤ 10 ms at 50 connections (GraphQL)'))],
      ],
      ['peak RSS at 50 connections', numbers(latestCell("RSS under load ≤ 250 MB (peak during the gateway's 50-connection loads)"))],
      ['peak RSS over all loads', first(latestPhrase(/\d+ MB over all its loads/).map((n) => `${n.value}`).join(' '))],
      ['ready after start', numbers(latestCell('ready ≤ 1.5 s after start'))],
      ['GET / behind one 10,000-row body', [...stall('REST, valid'), ...stall('REST, every row empty'), ...stall('GraphQL predictBatch, valid')]],
    ];
    for (const [label, want] of expected) {
      const shown = run3(label);
      expect(shown.length, label).toBe(want.length);
      // Each figure as latest.md has it, rounded to the digits the README shows.
      shown.forEach((s, i) => expect(Math.abs(s.value - (want[i]?.value ?? NaN)), `${label}: ${s.value} against ${want[i]?.value}`).toBeLessThanOrEqual(0.5 * 10 ** -s.decimals + 1e-9));
    }
  });
});

describe("the benchmark sets' summaries, from the run files they link", () => {
  const perf = readFileSync(`${REPO_ROOT}docs/performance.md`, 'utf8');
  /** A run file's paired rounds: REST's and raw's req/s in each. */
  const roundsOf = (stem: string): { rest: number; raw: number }[] => {
    const run = JSON.parse(readFileSync(`${REPO_ROOT}bench/results/${stem}.json`, 'utf8')) as { loads: { name: string; round?: number; requestsPerSec: number }[] };
    const byRound = new Map<number, Record<string, number>>();
    for (const l of run.loads) if (l.round !== undefined) byRound.set(l.round, { ...byRound.get(l.round), [l.name]: l.requestsPerSec });
    return [...byRound.values()].map((r) => ({ rest: r['REST /predict'] ?? NaN, raw: r['raw node:http'] ?? NaN }));
  };
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const mid = s.length >> 1;
    return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  };
  /** What a set's rows and sentences state, computed from its runs' files. */
  const summary = (stems: string[]) => {
    const runs = stems.map(roundsOf);
    const ratios = runs.flat().map((r) => r.rest / r.raw);
    return {
      rawMedianRoundsK: [Math.min(...runs.map((rs) => median(rs.map((r) => r.raw)))) / 1000, Math.max(...runs.map((rs) => median(rs.map((r) => r.raw)))) / 1000],
      runMedians: runs.map((rs) => median(rs.map((r) => r.rest / r.raw))),
      medianRound: [median(ratios), Math.min(...ratios), Math.max(...ratios)],
      atOrAbove: [ratios.filter((x) => x >= 0.5).length, ratios.length],
    };
  };
  /** `shown` (numbers as written) is `computed`, rounded to the decimals each shows. */
  const expectShown = (what: string, shown: { value: number; decimals: number }[], computed: number[]) => {
    expect(shown.length, `${what}: ${JSON.stringify(shown)} against ${computed.join(', ')}`).toBe(computed.length);
    shown.forEach((s, i) => expect(Math.abs(s.value - (computed[i] ?? NaN)), `${what}: ${s.value} against ${computed[i]}`).toBeLessThanOrEqual(0.5 * 10 ** -s.decimals + 1e-9));
  };
  /** Only the numbers with a decimal point (ratios): "pass3 0.49" → [0.49]. */
  const ratiosIn = (text: string) => numbers(text).filter((n) => n.decimals > 0);

  // | Session: set | Code | Raw req/s, median rounds | REST × raw, runs 1 / 2 / 3 | Median round (range) | Rounds ≥ 0.5 | Event loop … | Run files |
  const table = (/^### Each session's runs\n([\s\S]*?)\nNotes on the sets/m.exec(perf)?.[1] ?? '').split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| Session'));
  const rows = table
    .map((line) => line.slice(1, -1).split('|').map((cell) => cell.trim()))
    .map((cells) => ({ cells, stems: [...(cells[7] ?? '').matchAll(/\(\.\.\/bench\/results\/([^)]+)\.md\)/g)].map((m) => m[1] as string) }))
    .filter((row) => row.stems.length > 0);

  it('covers the sets of the table whose run files are kept, the latest among them', () => {
    expect(rows.length).toBeGreaterThan(20);
    expect(rows[0]?.stems).toEqual([...readme.matchAll(/\[run \d\]\(bench\/results\/([^)]+)\.md\)/g)].map((m) => m[1]));
  });

  it.each(rows.map((row) => [row.cells[0] as string, row] as const))("%s: raw's median rounds, each run's median round, the set's median round and range, and rounds at or above 0.5 are its run files'", (_, { cells, stems }) => {
    const s = summary(stems);
    expectShown('raw median rounds (k)', numbers(cells[2] ?? ''), s.rawMedianRoundsK);
    expectShown('each run', ratiosIn(cells[3] ?? ''), s.runMedians);
    expectShown('median round (range)', ratiosIn(cells[4] ?? ''), s.medianRound);
    expect(/^(\d+) of (\d+)/.exec(cells[5] ?? '')?.slice(1).map(Number)).toEqual(s.atOrAbove);
  });

  it("states the latest set's median round and range in the README and docs/performance.md as its run files have them", () => {
    const latest = summary(rows[0]?.stems ?? []);
    const flatPerf = perf.replace(/\s+/g, ' ');
    expectShown('README', ratiosIn(/median round [\d.]+ over these 9 rounds \([\d.]+–[\d.]+\)/.exec(flat)?.[0] ?? ''), latest.medianRound);
    expectShown('docs/performance.md', ratiosIn(/read a median of [\d.]+ over their 9 paired rounds \([\d.]+–[\d.]+\)/.exec(flatPerf)?.[0] ?? ''), latest.medianRound);
  });

  it('counts the rounds at or above 0.5 over the sets from the ninth session on as the table has them', () => {
    const fromNinth = rows.filter((row) => Number.parseInt(row.cells[0] ?? '', 10) >= 9).map((row) => summary(row.stems).atOrAbove);
    const total = [fromNinth.reduce((n, [met]) => n + (met ?? NaN), 0), fromNinth.reduce((n, [, all]) => n + (all ?? NaN), 0)];
    const stated = (text: string, re: RegExp) => re.exec(text.replace(/\s+/g, ' '))?.slice(1).map(Number);
    expect(stated(readme, /sessions (\d+) of (\d+) rounds met it/)).toEqual(total);
    expect(stated(perf, /sessions' sets, (\d+) of (\d+) rounds met the target/)).toEqual(total);
  });
});

describe("model/README.md's tables", () => {
  it("show the committed bundle's metrics", () => {
    const m = manifest.metrics;
    const f = (k: string) => (m[k] ?? NaN).toFixed(4);
    const folds = manifest.params['cv_folds'];
    const rows = [
      `Test split: ${grouped(['test_tn', 'test_fp', 'test_fn', 'test_tp'].reduce((n, k) => n + (m[k] ?? NaN), 0))} rows (20 %, stratified). Threshold ${manifest.threshold} `,
      `| test ROC AUC | **${f('test_roc_auc')}** |`,
      `| test ROC AUC: DeLong standard error, 95% interval | ${f('test_roc_auc_se')}, ${f('test_roc_auc_ci95_low')} – ${f('test_roc_auc_ci95_high')} |`,
      `| test F1 | **${f('test_f1')}** |`,
      `| test PR AUC (average precision) | ${f('test_pr_auc')} |`,
      `| test precision | ${f('test_precision')} |`,
      `| test recall | ${f('test_recall')} |`,
      `| test accuracy | ${f('test_accuracy')} |`,
      `| test log loss | ${f('test_log_loss')} |`,
      `| test Brier score | ${f('test_brier')} |`,
      `| test mean probability / churn rate | ${f('test_mean_probability')} / ${f('test_positive_rate')} |`,
      `| confusion (tn, fp, fn, tp) | ${['test_tn', 'test_fp', 'test_fn', 'test_tp'].map((k) => m[k]).join(', ')} |`,
      `| CV ROC AUC (${folds}-fold, training part), ± std over the ${folds} folds (population std, ddof=0) | ${f('cv_roc_auc_mean')} ± ${f('cv_roc_auc_std')} |`,
      `| validation F1 / ROC AUC (early-stopped model) | ${f('validation_f1')} / ${f('validation_roc_auc')} |`,
      `| ONNX vs xgboost max \\|Δp\\| | ${(m['parity_max_abs_diff'] ?? NaN).toExponential(2).replace(/e-(\d)$/, 'e-0$1')} `,
      `Result: **${manifest.threshold}**`,
      `count (${manifest.params['n_rounds']})`,
    ];
    const flatModel = modelReadme.replace(/[ \t]*\n[ \t]*/g, '\n');
    expect(rows.filter((row) => !flatModel.includes(row) && !modelReadme.replace(/\s+/g, ' ').includes(row))).toEqual([]);
  });

  it("show the committed split study's numbers", async () => {
    const study = JSON.parse(await readFile(`${REPO_ROOT}model/results/split-study.json`, 'utf8')) as SplitStudy & {
      summary: { splits_meeting: { both: number }; test_roc_auc: { mean: number; std: number; min: number; max: number }; test_f1: { mean: number; std: number; min: number; max: number } };
    };
    const { summary: s } = study;
    const f = (v: number) => v.toFixed(4);
    const n = s.splits;
    const rows = [
      `| over ${n} splits | test ROC AUC | test F1 |`,
      `| median | ${f(s.test_roc_auc.median)} | ${f(s.test_f1.median)} |`,
      `| mean ± std (sample std, ddof=1) | ${f(s.test_roc_auc.mean)} ± ${f(s.test_roc_auc.std)} | ${f(s.test_f1.mean)} ± ${f(s.test_f1.std)} |`,
      `| 5 % – 95 % | ${f(s.test_roc_auc.q05)} – ${f(s.test_roc_auc.q95)} | ${f(s.test_f1.q05)} – ${f(s.test_f1.q95)} |`,
      `| min – max | ${f(s.test_roc_auc.min)} – ${f(s.test_roc_auc.max)} | ${f(s.test_f1.min)} – ${f(s.test_f1.max)} |`,
      `| splits meeting the target | ${s.splits_meeting.test_roc_auc} of ${n} (≥ 0.85) | ${s.splits_meeting.test_f1} of ${n} (≥ 0.62) |`,
      `| the committed split (seed ${s.committed_split.seed}) | ${f(s.committed_split.test_roc_auc)}, above ${s.committed_split.splits_with_lower_roc_auc} of ${n} | ${f(s.committed_split.test_f1)} |`,
      `Both targets met: ${s.splits_meeting.both} of ${n} splits.`,
    ];
    expect(rows.filter((row) => !modelReadme.includes(row))).toEqual([]);
  });
});

describe("model/README.md's prose", () => {
  const flatModel = modelReadme.replace(/\s+/g, ' ');
  /** A negative figure as the README prints it, with a minus sign: −1.0183. */
  const signed = (v: number, digits: number) => v.toFixed(digits).replace(/^-/, '−');
  /** 36 → "36th", 41 → "41st". */
  const ordinal = (k: number) => `${k}${k % 100 >= 11 && k % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][k % 10] ?? 'th')}`;

  it("quotes the committed bundle's class weight and prior correction", () => {
    const weight = Number(manifest.params['scale_pos_weight']);
    const shift = Number(manifest.params['prior_correction_logit_shift']);
    // The prose says the shift is −log w (train.prior_correct).
    expect(shift).toBeCloseTo(-Math.log(weight), 12);
    const phrases = [
      `\`scale_pos_weight = negatives / positives\` of the rows being fit (${weight.toFixed(2)} on the whole training part)`,
      `moves the booster's base score by −log w (${signed(shift, 4)} here)`,
    ];
    expect(phrases.filter((phrase) => !flatModel.includes(phrase))).toEqual([]);
  });

  it("quotes the committed split study and the manifest it is read against", async () => {
    const study = JSON.parse(await readFile(`${REPO_ROOT}model/results/split-study.json`, 'utf8')) as SplitStudy & {
      summary: { test_roc_auc: { mean: number; std: number } };
      splits: { seed: number; test_roc_auc: number }[];
    };
    const { summary: s } = study;
    const m = manifest.metrics;
    const f = (v: number | undefined) => (v ?? NaN).toFixed(4);
    const n = s.splits;
    const c = s.committed_split;
    // The example of a seed one would pick: the committed seed's neighbour.
    const next = study.splits.find((split) => split.seed === c.seed + 1);
    const missedF1 = n - s.splits_meeting.test_f1;
    // "a quarter of the splits"
    expect(Math.round((4 * missedF1) / n)).toBe(1);
    const phrases = [
      `a coin toss (${s.splits_meeting.test_roc_auc} of ${n}), and the committed split is an ordinary one (the ${ordinal(Math.round((100 * c.splits_with_lower_roc_auc) / n))} percentile)`,
      `The spread over splits (std ${f(s.test_roc_auc.std)}) is what DeLong's standard error on seed ${c.seed} predicted (${f(m['test_roc_auc_se'])}), ` +
        `and the mean (${f(s.test_roc_auc.mean)}) agrees with the CV estimate on the training part (${f(m['cv_roc_auc_mean'])})`,
      `Seed ${next?.seed} alone scores ${f(next?.test_roc_auc)};`,
      `is missed on a quarter of the splits (${missedF1} of ${n})`,
    ];
    expect(phrases.filter((phrase) => !flatModel.includes(phrase))).toEqual([]);
  });
});

describe("model/README.md's pinned versions", () => {
  it('are the pins of model/requirements.txt', () => {
    const pins = [...readFileSync(`${REPO_ROOT}model/requirements.txt`, 'utf8').matchAll(/^([A-Za-z0-9._-]+)==(\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(pins.length).toBeGreaterThan(10);
    const section = (/^## Pinned versions\n([\s\S]*?)\n## /m.exec(modelReadme)?.[1] ?? '').replace(/\s+/g, ' ');
    // Every pin as it is, and no version the file does not pin (a dropped or replaced package).
    const named = [...section.matchAll(/([a-z][a-z0-9-]*) (\d+\.\d+\.\d+(?:\.\d+)?)\b/g)].map((m) => `${m[1]} ${m[2]}`);
    expect({ missing: pins.filter((pin) => !named.includes(pin)), notPinned: named.filter((pin) => !pins.includes(pin)) }).toEqual({ missing: [], notPinned: [] });
  });
});

describe("shell variables in the docs' commands", () => {
  const files = ['README.md', 'model/README.md', 'infra/README.md', ...DOC_PAGES];

  // A `$NAME` that a bash block reads must be exported by an earlier block of the same doc: a
  // token set only in one command's environment (`ADMIN_TOKEN=$(openssl rand -hex 24) npm start`)
  // is gone for the `curl -H "authorization: Bearer $ADMIN_TOKEN"` that follows.
  it.each(files)('%s: every $VARIABLE a command reads was exported before it', (file) => {
    const text = readFileSync(`${REPO_ROOT}${file}`, 'utf8');
    const exported = new Set<string>();
    const unset: string[] = [];
    for (const [, block] of text.matchAll(/```bash\n([\s\S]*?)```/g)) {
      for (const [, name] of (block as string).matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)) {
        if (!exported.has(name as string)) unset.push(name as string);
      }
      for (const [, name] of (block as string).matchAll(/^\s*export ([A-Z][A-Z0-9_]*)=/gm)) exported.add(name as string);
    }
    expect(unset).toEqual([]);
  });
});

describe('relative links in the README and the docs', () => {
  const files = ['README.md', 'model/README.md', 'infra/README.md', ...DOC_PAGES];
  /** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
  const anchor = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-');

  it.each(files)('%s: every relative link names a file (and heading) that exists', (file) => {
    const text = readFileSync(`${REPO_ROOT}${file}`, 'utf8');
    const broken: string[] = [];
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!target || /^[a-z]+:/i.test(target)) continue;
      const [pathPart, hash] = target.split('#') as [string, string | undefined];
      const resolved = pathPart ? path.join(path.dirname(`${REPO_ROOT}${file}`), pathPart) : `${REPO_ROOT}${file}`;
      if (!existsSync(resolved)) {
        broken.push(target);
        continue;
      }
      if (hash !== undefined) {
        const headings = [...readFileSync(resolved, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => anchor(m[1] as string));
        if (!headings.includes(hash)) broken.push(target);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe("the README's commands for the model's tools", () => {
  it('run as written from the repository root (churn_model is importable only with PYTHONPATH=model or from model/)', () => {
    const flat = readme.replace(/\s+/g, ' ');
    const uses = [...flat.matchAll(/python3? -m churn_model\.(\w+)/g)];
    expect(uses.length).toBeGreaterThan(0);
    for (const use of uses) {
      const command = flat.slice(Math.max(0, (use.index ?? 0) - 40), (use.index ?? 0) + use[0].length);
      expect(command, `README: ${command}`).toMatch(/PYTHONPATH=model model\/\.venv\/bin\/python -m churn_model\.\w+$/);
      expect(existsSync(`${REPO_ROOT}model/churn_model/${use[1] ?? ''}.py`), `README: ${use[0]}: no model/churn_model/${use[1] ?? ''}.py`).toBe(true);
    }
  });
});
