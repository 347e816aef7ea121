/**
 * The on-call runbook (infra/README.md "When an alarm fires") and the alarms that point to it stay
 * true to the stack: each alarm's description names an entry of its own, and the dashboard graphs
 * and saved queries it names; the runbook names only graphs and queries the template has, asks for
 * only fields `GET /` and `modelInfo` answer with, and its commands use only settings, scripts,
 * names and API calls that exist. (The log fields it asks for in a query's results are checked
 * against the real gateway's lines in saved-queries.test.ts.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';
import { setAlias } from '../../test/helpers/mlflow-server.js';
import { MLFLOW_TROUBLE_QUERY } from '../lib/alarms.js';
import { createGatewayApp, STACK_ID } from '../lib/app.js';
import { KINDS } from '../lib/context.js';
import { ECS_NAMES } from '../lib/gateway-service.js';
import { ALL_FEATURES, propsOfType, synth, type Props } from './helpers.js';
import { README, bashCommands, fieldsToRead, graphsNamed, headings, runbookSection, savedQueriesNamed } from './runbook.js';

const section = runbookSection();
const entries = headings(section);
const readmeAnchors = new Set(headings(README).map((h) => h.anchor));
/** CloudWatch's limit on an alarm's description (PutMetricAlarm AlarmDescription: 0–1024 characters). */
const MAX_ALARM_DESCRIPTION = 1024;

const { stack, template } = synth(ALL_FEATURES);
const queryNames = new Set(propsOfType(template, 'AWS::Logs::QueryDefinition').map((q) => String(q.Name)));
const graphTitles = new Set(dashboardWidgets(template.toJSON() as TemplateJson).flatMap((w) => (w.properties.title === undefined ? [] : [w.properties.title])));
const descriptions = propsOfType(template, 'AWS::CloudWatch::Alarm').map((a) => String(a.AlarmDescription));

interface TemplateJson {
  Resources: Record<string, { Type: string; Properties?: Props }>;
  Outputs: Record<string, unknown>;
}

/** The dashboard's widgets: its body with every intrinsic (the ALB's name, the region) as a placeholder. */
function dashboardWidgets(json: TemplateJson): { properties: { title?: string } }[] {
  const text = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
    return join ? join[1].map(text).join(join[0]) : '«intrinsic»';
  };
  const dashboard = Object.values(json.Resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  return (JSON.parse(text(dashboard?.Properties?.DashboardBody)) as { widgets: { properties: { title?: string } }[] }).widgets;
}

describe('the alarms point to the runbook', () => {
  it('there are as many alarms as the stack makes', () => {
    expect(descriptions).toHaveLength(stack.alarms.all.length);
  });

  it.each(descriptions.map((d) => [d.slice(0, 70), d] as const))('%s…', (_start, description) => {
    // Ends with its entry's anchor, an entry of "When an alarm fires".
    const target = /Runbook: infra\/README\.md#([\w-]+)$/.exec(description)?.[1];
    expect(target, 'the description ends with "Runbook: infra/README.md#<entry>"').toBeDefined();
    const entry = entries.find((e) => e.anchor === target);
    expect(entry, `#${target} is a heading of "When an alarm fires"`).toBeDefined();
    // Every quoted name is a saved query (as Logs Insights lists it) or a dashboard graph's title.
    const quoted = [...description.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(quoted.length).toBeGreaterThan(0);
    expect(quoted.filter((name) => !queryNames.has(name) && !graphTitles.has(name))).toEqual([]);
    // The saved queries it names are among those its entry names.
    expect(quoted.filter((name) => queryNames.has(name) && !savedQueriesNamed(entry?.body ?? '').includes(name))).toEqual([]);
  });

  it('an alarm whose entry has MLflow among its causes names the MLflow trouble query first-hand, as its entry does', () => {
    // The entries that send to "the bundle instead of the champion" (5xx: a reloadModel answered
    // 502; unhealthy hosts: new tasks late on a slow MLflow; tasks below desired: mlflowStrict with
    // MLflow down) are the alarms MLflow can be behind.
    const mlflowQuery = `${stack.stackName}/${MLFLOW_TROUBLE_QUERY}`;
    expect(queryNames.has(mlflowQuery), mlflowQuery).toBe(true);
    const bundleEntry = entries.find((e) => e.title.startsWith('The gateway serves the bundle'))?.anchor;
    expect(bundleEntry).toBeDefined();
    const mlflowAlarms = entries.filter((e) => e.title.startsWith('Alarm: ') && e.body.includes(`](#${bundleEntry})`)).map((e) => e.anchor);
    expect(mlflowAlarms.sort()).toEqual(['alarm-5xx-rate', 'alarm-tasks-below-desired', 'alarm-unhealthy-hosts']);
    for (const anchor of mlflowAlarms) {
      const description = descriptions.find((d) => d.endsWith(`#${anchor}`)) ?? '';
      expect(description, anchor).toContain(`"${mlflowQuery}"`);
      // And says when to look there: the MLflow cause it stands for, in words beside the query's name.
      expect(description.replaceAll(`"${mlflowQuery}"`, ''), anchor).toMatch(/\bMLflow\b/);
    }
    // And only there: an alarm MLflow cannot be behind does not send the operator to it.
    expect(descriptions.filter((d) => d.includes(mlflowQuery)).length).toBe(mlflowAlarms.length);
  });

  it('each alarm is named after its entry (`<stack>-5xx-rate` for #alarm-5xx-rate), as the Alarms section lists them', () => {
    const alarms = propsOfType(template, 'AWS::CloudWatch::Alarm');
    const names = alarms.map((a) => String(a.AlarmName));
    const wrong = alarms.filter((a) => String(a.AlarmName) !== `${stack.stackName}-${/#alarm-([\w-]+)$/.exec(String(a.AlarmDescription))?.[1]}`);
    expect(wrong.map((a) => `${String(a.AlarmName)}: ${String(a.AlarmDescription).slice(-50)}`)).toEqual([]);
    const alarmsSection = README.slice(README.indexOf('\n## Alarms\n'), README.indexOf('\n## Dashboard'));
    const listed = [...alarmsSection.matchAll(new RegExp(`\`(${stack.stackName}-[\\w-]+)\``, 'g'))].map((m) => m[1]);
    expect([...new Set(listed)].sort()).toEqual(names.sort());
  });

  it('each alarm has an entry of its own', () => {
    const targets = descriptions.map((d) => /#([\w-]+)$/.exec(d)?.[1]);
    expect(new Set(targets).size).toBe(descriptions.length);
  });

  it(`each description fits CloudWatch's ${MAX_ALARM_DESCRIPTION} characters, with the longest thresholds the stack takes`, () => {
    const longest = synth({ ...ALL_FEATURES, fiveXxRatePercent: 99.99, p99LatencySeconds: 59.99, singlePredictionP99Ms: 29999.99 });
    const lengths = propsOfType(longest.template, 'AWS::CloudWatch::Alarm').map((a) => String(a.AlarmDescription).length);
    expect(lengths).toHaveLength(descriptions.length);
    expect(lengths.filter((n) => n > MAX_ALARM_DESCRIPTION)).toEqual([]);
  });
});

/** Every key of every JSON Schema `properties` object in a schema (its oneOf branches included). */
function propertyNames(node: unknown): string[] {
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node as Record<string, unknown>).flatMap(([key, value]) => [
    ...(key === 'properties' && typeof value === 'object' && value !== null ? Object.keys(value) : []),
    ...propertyNames(value),
  ]);
}

describe('the runbook names what exists', () => {
  it('saved queries, as Logs Insights lists them', () => {
    const named = savedQueriesNamed(section);
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((name) => !queryNames.has(name))).toEqual([]);
  });

  it('dashboard graphs, by title', () => {
    const named = graphsNamed(section);
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((title) => !graphTitles.has(title))).toEqual([]);
  });

  it('an entry for every alarm and every link to a heading of the README', () => {
    expect(entries.filter((e) => e.title.startsWith('Alarm: '))).toHaveLength(stack.alarms.all.length);
    const links = [...section.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1] ?? '');
    expect(links.length).toBeGreaterThan(10);
    expect(links.filter((a) => !readmeAnchors.has(a))).toEqual([]);
  });

  it("fields of GET / (the OpenAPI description's health answers) and of modelInfo (the GraphQL schema)", () => {
    const openapi = JSON.parse(readFileSync(new URL('../../schema/openapi.json', import.meta.url), 'utf8')) as { components: { schemas: Record<string, unknown> } };
    const healthFields = new Set(propertyNames([openapi.components.schemas.Health, openapi.components.schemas.HealthUnavailable]));
    const modelInfo = Object.keys(fieldsOf(schema.getType('ModelInfo')));
    const asked = fieldsToRead(section).filter((r) => !r.source.startsWith('ChurnGateway/'));
    expect(asked.map((r) => r.source).sort()).toEqual(['GET /', 'modelInfo']);
    const unknown = asked.flatMap(({ source, fields }) => fields.filter((f) => !(source === 'GET /' ? healthFields.has(f) : modelInfo.includes(f))).map((f) => `${source}: ${f}`));
    expect({ healthFields: healthFields.has('notice'), unknown }).toEqual({ healthFields: true, unknown: [] });
  });
});

// ---- The commands ----------------------------------------------------------------------------

/**
 * The AWS CLI operations the runbook may use and the options each takes (checked against
 * `aws <service> <operation> help` of aws-cli 1.45; the CLI is not a dependency of this repository,
 * so a new operation or option is added here after checking it there).
 */
const AWS_CLI: Record<string, readonly string[]> = {
  'ecs describe-services': ['--cluster', '--services', '--query', '--output'],
  'ecs list-task-definitions': ['--family-prefix', '--sort', '--max-items'],
  'ecs describe-task-definition': ['--task-definition', '--query', '--output'],
  'ecs update-service': ['--cluster', '--service', '--task-definition'],
  'ecs list-tasks': ['--cluster', '--service-name'],
  'ecs stop-task': ['--cluster', '--task', '--reason'],
  'application-autoscaling register-scalable-target': ['--service-namespace', '--resource-id', '--scalable-dimension', '--min-capacity', '--max-capacity'],
  'secretsmanager get-secret-value': ['--secret-id', '--query', '--output'],
  'cloudformation describe-stacks': ['--stack-name', '--query', '--output'],
};

/** A placeholder (`<good sha>`, `<task id>`) as a value each setting and name takes. */
const withPlaceholders = (command: string) => command.replace(/<[^>]+>/g, '1');

/** Shell words: white space outside quotes splits, quotes are removed. */
function words(command: string): string[] {
  return [...command.matchAll(/(?:'[^']*'|"[^"]*"|[^\s'"])+/g)].map((m) => m[0].replace(/'([^']*)'|"([^"]*)"/g, '$1$2'));
}

/** `--option value` pairs of a command's words (an option given twice keeps both). */
function options(args: string[]): [string, string][] {
  return args.flatMap((word, i) => (word.startsWith('--') ? [[word, args[i + 1] ?? ''] as [string, string]] : []));
}

/** What is wrong with one command line of the runbook; [] when nothing is. */
async function problems(command: string): Promise<string[]> {
  const exported = /^export [A-Z_]+=(?:http:\/\/)?\$\((.*)\)$/.exec(command);
  if (exported) return problems(exported[1] ?? '');
  // The caller's https:// name, the operator's to fill in: nothing to check but that it is https.
  if (/^export GATEWAY=https:\/\/<[^>]+>$/.test(command)) return [];
  const w = words(withPlaceholders(command));
  if (w[0] === 'npm') return cdkProblems(w);
  if (w[0] === 'aws') return awsProblems(w);
  if (w[0] === 'curl') return curlProblems(w);
  const script = w.findIndex((word) => word === 'bash');
  if (script >= 0) return scriptProblems(w.slice(0, script), w[script + 1] ?? '');
  return [`not a command this test knows how to check: ${command}`];
}

/** `npm run cdk -- deploy ChurnGateway -c key=value…`: an npm script of infra/, settings the app reads, and a synth that passes. */
function cdkProblems(w: string[]): string[] {
  const scripts = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const [, run, script, dashes, verb, stackId, ...rest] = w;
  if (run !== 'run' || !script || !Object.hasOwn(scripts, script)) return [`npm run ${script}: no such script in infra/package.json`];
  if (script !== 'cdk' || dashes !== '--' || verb !== 'deploy' || stackId !== STACK_ID) return [`expected npm run cdk -- deploy ${STACK_ID}: ${w.join(' ')}`];
  const given: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 2) {
    const [key = '', value = ''] = (rest[i + 1] ?? '').split(/=(.*)/s);
    if (rest[i] !== '-c' || !Object.hasOwn(KINDS, key)) return [`not a setting of this app: ${rest[i]} ${rest[i + 1]}`];
    given[key] = value;
  }
  // Over every optional feature (as if kept in cdk.json): the command's values replace those, '' clears one.
  try {
    const { app, stack } = createGatewayApp({ context: { ...ALL_FEATURES, ...given } });
    app.synth();
    // The errors the CDK CLI stops a deploy for (an unset image): the app's synth itself passes them.
    const errors = Annotations.fromStack(stack).findError('*', Match.anyValue()).map((e) => JSON.stringify(e.entry.data));
    if (errors.length > 0) return [`${w.join(' ')} would stop at synth: ${errors.join('; ')}`];
  } catch (error) {
    return [`${w.join(' ')} does not synthesize: ${(error as Error).message}`];
  }
  return [];
}

/** `aws <service> <operation> --option value…`: an operation and options of the table, and this stack's names. */
function awsProblems(w: string[]): string[] {
  const operation = `${w[1]} ${w[2]}`;
  const allowed = AWS_CLI[operation];
  if (!allowed) return [`aws ${operation}: not in this test's table of AWS CLI operations`];
  const found: string[] = [];
  const family = `${ECS_NAMES.taskFamily}:`;
  const expected: Record<string, (value: string) => boolean> = {
    '--cluster': (v) => v === ECS_NAMES.cluster,
    '--service': (v) => v === ECS_NAMES.service,
    '--services': (v) => v === ECS_NAMES.service,
    '--service-name': (v) => v === ECS_NAMES.service,
    '--family-prefix': (v) => v === ECS_NAMES.taskFamily,
    '--task-definition': (v) => v.startsWith(family) && /^\d+$/.test(v.slice(family.length)),
    '--resource-id': (v) => v === `service/${ECS_NAMES.cluster}/${ECS_NAMES.service}`,
    '--stack-name': (v) => v === STACK_ID,
  };
  for (const [option, value] of options(w.slice(3))) {
    if (!allowed.includes(option)) found.push(`aws ${operation}: no option ${option} in this test's table`);
    if (expected[option] && !expected[option](value)) found.push(`aws ${operation} ${option} ${value}: not this stack's`);
    // A container or output named in a --query is one of this stack's.
    for (const [, container] of option === '--query' ? value.matchAll(/name==`([^`]+)`/g) : []) {
      if (container !== ECS_NAMES.container) found.push(`aws ${operation}: no container ${container}`);
    }
    for (const [, output] of option === '--query' ? value.matchAll(/OutputKey=='([^']+)'/g) : []) {
      if (!Object.hasOwn((template.toJSON() as TemplateJson).Outputs, output ?? '')) found.push(`aws ${operation}: no stack output ${output}`);
    }
  }
  return found;
}

/** `VAR=value… bash <script>`: a script that exists, given every variable it requires and only ones it reads, with this stack's names. */
function scriptProblems(assignments: string[], script: string): string[] {
  const file = new URL(`../${script}`, import.meta.url);
  if (!existsSync(file)) return [`${script}: no such file (commands run from infra/)`];
  const source = readFileSync(file, 'utf8');
  // The script lists what it requires in `required=(A B …)` and refuses to run without any of them.
  const required = (/^required=\(([\w ]+)\)$/m.exec(source)?.[1] ?? '').split(' ').filter(Boolean);
  const read = new Set([...source.matchAll(/\$\{?(\w+)/g)].map((m) => m[1] ?? ''));
  const given = Object.fromEntries(assignments.map((a) => a.split(/=(.*)/s) as [string, string]));
  const names: Record<string, string> = { ECS_CLUSTER: ECS_NAMES.cluster, ECS_SERVICE: ECS_NAMES.service, ECS_TASK_FAMILY: ECS_NAMES.taskFamily, ECS_CONTAINER_NAME: ECS_NAMES.container };
  return [
    ...required.filter((v) => given[v] === undefined).map((v) => `${script} requires ${v}`),
    ...Object.keys(given).filter((v) => !read.has(v)).map((v) => `${script} does not read ${v}`),
    ...Object.entries(names).filter(([v, name]) => given[v] !== undefined && given[v] !== name).map(([v]) => `${v}=${given[v]}: not this stack's ${names[v]}`),
    ...(required.length === 0 ? [`${script}: no required variables found (the check reads \`required=(NAME …)\`)`] : []),
  ];
}

/** `curl $GATEWAY/…` (GET /, or a GraphQL document the schema validates) or `curl … http://mlflow:5000/…` (the alias call the MLflow tests make). */
async function curlProblems(w: string[]): Promise<string[]> {
  const url = w.find((word) => /^(\$GATEWAY|https?:)/.test(word)) ?? '';
  const data = w[w.indexOf('-d') + 1];
  if (url === '$GATEWAY/') return [];
  if (url === '$GATEWAY/graphql') {
    const { query } = JSON.parse(data ?? '{}') as { query?: string };
    return query === undefined ? ['a GraphQL request without a query'] : graphqlProblems(query);
  }
  if (url.startsWith('http://mlflow:5000/')) {
    const sent = await aliasRequest();
    const method = w[w.indexOf('-X') + 1];
    const found: string[] = [];
    if (`${method} ${new URL(url).pathname}` !== `${sent.method} ${sent.path}`) found.push(`${method} ${url}: the MLflow tests move an alias with ${sent.method} ${sent.path}`);
    const body = JSON.parse(data ?? '{}') as Record<string, string>;
    if (Object.keys(body).sort().join() !== Object.keys(sent.body).sort().join()) found.push(`the alias call sends ${Object.keys(body).join(', ')}, the MLflow tests ${Object.keys(sent.body).join(', ')}`);
    // The registered model and alias the packaged bundle names (training registers under them).
    const { registeredModel } = JSON.parse(readFileSync(new URL('../../model/bundle/manifest.json', import.meta.url), 'utf8')) as { registeredModel: { name: string; alias: string } };
    if (body.name !== registeredModel.name || body.alias !== registeredModel.alias) found.push(`the alias call names ${body.name}@${body.alias}, training registers ${registeredModel.name}@${registeredModel.alias}`);
    return found;
  }
  return [`curl to ${url}: not a URL this test knows how to check`];
}

/** The request test/helpers/mlflow-server.ts's setAlias sends (the tests run it against a real `mlflow server`). */
async function aliasRequest(): Promise<{ method: string; path: string; body: Record<string, unknown> }> {
  let seen: { method: string; path: string; body: Record<string, unknown> } | undefined;
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      seen = { method: req.method ?? '', path: req.url ?? '', body: JSON.parse(text) as Record<string, unknown> };
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    await setAlias(`http://127.0.0.1:${(server.address() as { port: number }).port}`, 'm', 'a', '1');
  } finally {
    server.close();
  }
  if (!seen) throw new Error('setAlias sent nothing');
  return seen;
}

/** A type of the gateway's schema, as far as this check needs it (a field's type, wrapped or not). */
interface SchemaType {
  readonly ofType?: SchemaType;
  getFields?(): Record<string, { type: SchemaType }>;
}

function fieldsOf(type: unknown): Record<string, { type: SchemaType }> {
  const named = type as SchemaType | null | undefined;
  return named?.getFields?.() ?? {};
}

/** A document of selections only (`mutation { a { b c } }`, `{ a { b } }`) against the gateway's schema: every field exists and leaves are scalars. */
function graphqlProblems(query: string): string[] {
  const tokens = query.match(/[{}]|\w+/g) ?? [];
  const mutation = tokens[0] === 'mutation';
  let at = mutation ? 1 : 0;
  const root = mutation ? schema.getMutationType() : schema.getQueryType();
  const found: string[] = [];
  const selections = (type: SchemaType, path: string): void => {
    if (tokens[at++] !== '{') throw new Error(`expected { at ${path} in ${query}`);
    while (tokens[at] !== '}' && at < tokens.length) {
      const name = tokens[at++] ?? '';
      const field = fieldsOf(type)[name];
      if (!field) {
        found.push(`${path}.${name}: no such field`);
        if (tokens[at] === '{') selections({}, `${path}.${name}`);
        continue;
      }
      let inner = field.type;
      while (inner.ofType) inner = inner.ofType;
      const composite = inner.getFields !== undefined;
      if (tokens[at] === '{') selections(inner, `${path}.${name}`);
      else if (composite) found.push(`${path}.${name}: an object, selected without fields`);
    }
    at++;
  };
  selections(root as unknown as SchemaType, mutation ? 'Mutation' : 'Query');
  return found;
}

describe("the runbook's commands", () => {
  const commands = bashCommands(section);

  it('are there: image rollback, script, deploys, scaling, the alias, reloadModel', () => {
    expect(commands.length).toBeGreaterThan(10);
  });

  it.each(commands)('%s', async (command) => {
    expect(await problems(command)).toEqual([]);
  });

  it('the checks see a wrong setting, option, name, script variable and field', async () => {
    const wrong = [
      `npm run cdk -- deploy ${STACK_ID} -c desiredcount=4`,
      `npm run cdk -- deploy ${STACK_ID} -c mlflowTrackingUri=`,
      `aws ecs update-service --cluster ${ECS_NAMES.cluster} --services ${ECS_NAMES.service}`,
      `aws ecs stop-task --cluster churn --task 1`,
      `ECS_CLUSTER=${ECS_NAMES.cluster} IMAGE=x bash ../scripts/ecs-deploy.sh`,
      `curl -s $GATEWAY/graphql -d '{"query":"{ modelInfo { version notes } }"}'`,
      `curl -X POST http://mlflow:5000/api/2.0/mlflow/registered-models/aliases -d '{"name": "telco-churn", "alias": "champion", "version": "5"}'`,
      // Each one thing wrong in a command of the runbook's kind: the stack, a task family, a
      // container or stack output in --query, a script's ECS name, the alias.
      `npm run cdk -- deploy ChurnGatway -c desiredCount=4`,
      `aws ecs update-service --cluster ${ECS_NAMES.cluster} --service ${ECS_NAMES.service} --task-definition churn:41`,
      `aws ecs describe-task-definition --task-definition ${ECS_NAMES.taskFamily}:41 --query 'taskDefinition.containerDefinitions[?name==\`web\`].image' --output text`,
      `aws cloudformation describe-stacks --stack-name ${STACK_ID} --query "Stacks[0].Outputs[?OutputKey=='LoadBalancerDns'].OutputValue" --output text`,
      `ECS_CLUSTER=churn ECS_SERVICE=${ECS_NAMES.service} ECS_TASK_FAMILY=${ECS_NAMES.taskFamily} ECS_CONTAINER_NAME=${ECS_NAMES.container} IMAGE=x bash ../scripts/ecs-deploy.sh`,
      `curl -X POST http://mlflow:5000/api/2.0/mlflow/registered-models/alias -d '{"name": "telco-churn", "alias": "champ", "version": "5"}'`,
    ];
    const found = await Promise.all(wrong.map(async (command) => [command, await problems(command)] as const));
    expect(found.filter(([, p]) => p.length === 0).map(([command]) => command)).toEqual([]);
    // And a "(read …)" that follows no query, `GET /` or modelInfo is not skipped.
    expect(() => fieldsToRead('`ChurnGateway/x` (read `a`); then (read `b`)')).toThrow('1 "(read …)" in the runbook follow no saved query');
  });
});
