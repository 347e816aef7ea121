/**
 * infra/README.md stays true: its parameter table lists every context key the app reads, with
 * DEFAULT_SETTINGS' defaults, and the fixed values it quotes (ports, timeouts, health check, names)
 * are the synthesized stack's and, for the ones the task leaves to the gateway, the gateway's own
 * defaults (src/config.ts). So are the deployment facts the root README.md quotes (this app's
 * tests synthesize the stack; the root's cannot).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { Writable } from 'node:stream';
import { ACCESS_LOG_FLUSH_MS, EXIT_LOG_WAIT_MS, accessLog, createLogger, type AccessLogEntry } from '../../src/logger.js';
import { PAST_SHUTDOWN_TIMEOUT_MS } from '../../src/server.js';
import { createGatewayApp } from '../lib/app.js';
import { KINDS, settingsFromContext } from '../lib/context.js';
import { FARGATE_MEMORY_BY_CPU } from '../lib/fargate-sizes.js';
import { ECS_NAMES, LOG_LEVELS } from '../lib/gateway-service.js';
import { DEREGISTRATION_DELAY_MARGIN_SECONDS } from '../lib/load-balancer.js';
import { DEFAULT_SETTINGS, LEVELS_WITH_ACCESS_LINES, type GatewaySettings } from '../lib/gateway-stack.js';
import { REQUEST_ID_PLACEHOLDER, SAVED_QUERIES } from '../lib/saved-queries.js';
import { buildStack, containerOf, logicalId, propsOf, propsOfType, synth } from './helpers.js';
import { headings } from './runbook.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const rootReadme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
/** The README with every run of white space one space, for phrases that wrap. */
const flat = readme.replace(/\s+/g, ' ');

// Each row: | `key` | default | validation / meaning |
const rows = [...readme.matchAll(/^\| `(\w+)` \| ([^|]*) \| ([^\n]*) \|$/gm)].map((m) => ({ key: m[1] as keyof GatewaySettings, defaultCell: m[2], meaning: m[3] }));
const row = (key: keyof GatewaySettings) => rows.find((r) => r.key === key);

/** The text of the first fenced block after `marker` in the README. */
function blockAfter(marker: string): string {
  const at = readme.indexOf(marker);
  expect(at, `infra/README.md no longer says "${marker}"`).toBeGreaterThanOrEqual(0);
  const block = /```[^\n]*\n([\s\S]*?)\n```/.exec(readme.slice(at));
  if (!block?.[1]) throw new Error(`no code block after "${marker}" in infra/README.md`);
  return block[1];
}

/** The message a synth refuses these settings with. */
function refusal(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the settings to be refused');
}

describe("infra/README.md's parameter table", () => {
  it('lists every context key the app reads, once', () => {
    expect(rows.map((r) => r.key).sort()).toEqual(Object.keys(KINDS).sort());
  });

  it("gives DEFAULT_SETTINGS' default for every key (no backticked value: none)", () => {
    const wrong = rows.flatMap(({ key, defaultCell }) => {
      const shown = /^`([^`]*)`$/.exec(defaultCell)?.[1];
      const actual = DEFAULT_SETTINGS[key];
      return (shown === undefined ? actual === undefined : String(actual) === shown) ? [] : [`${key}: README ${defaultCell}, DEFAULT_SETTINGS ${String(actual)}`];
    });
    expect(wrong).toEqual([]);
  });

  it('lists the log levels and Fargate CPU sizes the synth accepts', () => {
    expect(row('logLevel')?.meaning).toContain(`\`LOG_LEVEL\`: ${LEVELS_WITH_ACCESS_LINES.join(', ')} (${LOG_LEVELS.filter((l) => !LEVELS_WITH_ACCESS_LINES.includes(l)).join(', ')} are refused`);
    expect(row('cpu')?.meaning).toContain(`Fargate CPU units: ${Object.keys(FARGATE_MEMORY_BY_CPU).join(', ')}`);
  });

  it("gives the range of shutdownTimeoutMs the synth accepts, and the refusal above it", () => {
    const [min, max] = [1000, 110_000];
    const range = `an integer ${min.toLocaleString('en-US')}–${max.toLocaleString('en-US')}`;
    expect(row('shutdownTimeoutMs')?.meaning).toContain(`\`SHUTDOWN_TIMEOUT_MS\`: how long the gateway drains after SIGTERM, ${range}.`);
    expect(() => buildStack({ shutdownTimeoutMs: min })).not.toThrow();
    expect(() => buildStack({ shutdownTimeoutMs: max })).not.toThrow();
    expect(refusal(() => buildStack({ shutdownTimeoutMs: min - 1 }))).toContain(`shutdownTimeoutMs must be ${range},`);
    expect(refusal(() => buildStack({ shutdownTimeoutMs: max + 1 }))).toContain(`shutdownTimeoutMs must be ${range}, got ${max + 1}`);
    expect(row('shutdownTimeoutMs')?.meaning).toContain('so a larger value fails synth');
  });

  it('shows the refusal of a key it does not list, as the app words it', () => {
    const example = /A key this table does not list is refused[^`]*`-c (\w+)=(\w+)`/.exec(flat);
    expect(example, 'the sentence on keys the table does not list, with its -c example').not.toBeNull();
    const [, key = '', value = ''] = example ?? [];
    expect(Object.keys(KINDS)).not.toContain(key);
    expect(blockAfter('A key this table does not list is refused')).toBe(refusal(() => settingsFromContext(new App({ context: { [key]: value } }).node)));
  });
});

describe("infra/README.md's commands", () => {
  // A command continued over lines (`\` at a line's end) as one line.
  const commands = [...readme.replace(/\\\n\s*/g, ' ').matchAll(/^npm run cdk -- (\w+) ChurnGateway(.*)$/gm)].map((m) => ({
    verb: m[1],
    keys: [...(m[2] ?? '').matchAll(/-c (\w+)=/g)].map((k) => k[1]),
  }));

  it('give only settings the app reads (a misspelled one is refused)', () => {
    const given = [...flat.matchAll(/-c (\w+)=/g)].map((m) => m[1] ?? '');
    expect(given.length).toBeGreaterThan(5);
    expect(given.filter((key) => !Object.hasOwn(KINDS, key) && !['key', 'desiredcount'].includes(key))).toEqual([]);
  });

  it('diff with the -c settings the deploy gives (the rest in cdk.json for both): one left out is shown as going back to its default', () => {
    const deploy = commands.find((c) => c.verb === 'deploy');
    const diff = commands.find((c) => c.verb === 'diff');
    expect(deploy?.keys).toContain('image');
    expect(diff?.keys.sort()).toEqual(deploy?.keys.sort());
  });
});

describe("infra/README.md's cdk.json", () => {
  /** The Deploy section's cdk.json: the settings it keeps under "context", the image from the command line. */
  const example = JSON.parse(blockAfter('Keep every setting except the image in `infra/cdk.json`')) as { context: Record<string, unknown> };
  const image = 'docker.io/acme/churn-gateway:0123456789abcdef0123456789abcdef01234567';
  const deployed = (context: Record<string, unknown>) => {
    const { stack } = createGatewayApp({ context });
    const template = Template.fromStack(stack);
    const container = containerOf(template, stack, stack.gateway.taskDefinition);
    return {
      listeners: propsOfType(template, 'AWS::ElasticLoadBalancingV2::Listener').map((l) => Number(l.Port)).sort(),
      secrets: ((container.Secrets ?? []) as { Name: string }[]).map((secret) => secret.Name),
      alarmActions: propsOfType(template, 'AWS::CloudWatch::Alarm').map((a) => a.AlarmActions ?? []),
      image: container.Image,
    };
  };

  /** The repository's cdk.json: an operator commits it with their settings under "context", as the README says. */
  const repository = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as { context?: Record<string, unknown> };

  it("is the repository's cdk.json with the settings added under \"context\" (every one the runbook's deploys rely on)", () => {
    // The repository's context (none, or an operator's own settings) in place of the example's: the rest is the same.
    expect({ ...example, context: repository.context }).toEqual(repository);
    expect(Object.keys(example.context).sort()).toEqual(['adminTokenSecretArn', 'alarmTopicArn', 'certificateArn', 'desiredCount', 'maxCount']);
    expect(flat).toContain('Commit `cdk.json` with its `"context"`');
  });

  it("has, in the repository, a context the app accepts (a committed setting with a typo fails here, not at a deploy)", () => {
    expect(() => createGatewayApp({ context: { ...repository.context, image } })).not.toThrow();
  });

  it('is accepted by the app with the image added: HTTPS, ADMIN_TOKEN and the alarm topic, which a deploy of the image alone removes', () => {
    const withSettings = deployed({ ...example.context, image });
    expect(withSettings.image).toBe(image);
    expect(withSettings.listeners).toEqual([443, 80]);
    expect(withSettings.secrets).toEqual(['ADMIN_TOKEN']);
    expect(withSettings.alarmActions.every((actions) => JSON.stringify(actions) === JSON.stringify([example.context.alarmTopicArn]))).toBe(true);
    // What the bold sentence that opens "When an alarm fires" warns of.
    const imageAlone = deployed({ image });
    expect(imageAlone).toEqual({ listeners: [80], secrets: [], alarmActions: imageAlone.alarmActions.map(() => []), image });
    expect(flat).toMatch(/## When an alarm fires \*\*Every `cdk deploy` below [^*]*`cdk\.json`[^*]*without `certificateArn` removes HTTPS: run `cdk diff`[^*]*\*\*/);
  });

  it("the MLflow settings it says to add are accepted beside the others", () => {
    const fragment = blockAfter('Then add the MLflow settings to `cdk.json`');
    const mlflow = JSON.parse(`{${fragment}}`) as Record<string, unknown>;
    expect(Object.keys(mlflow).sort()).toEqual(['mlflowCredentialsSecretArn', 'mlflowTrackingUri', 'modelUri']);
    expect(deployed({ ...example.context, ...mlflow, image }).secrets.sort()).toEqual(['ADMIN_TOKEN', 'MLFLOW_TRACKING_PASSWORD', 'MLFLOW_TRACKING_USERNAME']);
  });
});

describe("infra/README.md's example of a refused synth", () => {
  const lead = /The CLI prints the message after `([^`]+)`[^`]*`Subprocess exited with error 1`\); e\.g\. `((?:-c \w+=\w+ ?)+)` gives:/.exec(flat);

  it('is the message the app gives for the settings it names', () => {
    expect(lead, 'the sentence that introduces the example, with its -c settings').not.toBeNull();
    const context = Object.fromEntries([...(lead?.[2] ?? '').matchAll(/-c (\w+)=(\w+)/g)].map((m) => [m[1], m[2]]));
    expect(Object.keys(context).length).toBeGreaterThan(1);
    expect(blockAfter('desiredCount=1` gives:')).toBe(refusal(() => createGatewayApp({ context })));
  });

  it('is printed after the prefix bin/app.ts writes', () => {
    expect(readFileSync(new URL('../bin/app.ts', import.meta.url), 'utf8')).toContain(`process.stderr.write(\`${lead?.[1] ?? '?'}\${err.message}\\n\`)`);
  });

  it('stops at the first check that fails, as the README says: settings refused by two checks show only the first', () => {
    const message = refusal(() => createGatewayApp({ context: { logLevel: 'warn', desiredCount: '1' } }));
    expect(message).toContain('logLevel');
    expect(message).not.toContain('desiredCount');
    expect(flat).toContain('Each check reports all the problems it finds, but synth stops at the first check that fails');
  });
});

describe("infra/README.md's layout", () => {
  const layout = blockAfter('## Layout');
  const named = layout.split('\n').map((line) => line.split(/\s+/)[0] ?? '');

  it('names every file of bin/, lib/ and scripts/', () => {
    const files = ['bin', 'lib', 'scripts'].flatMap((dir) => readdirSync(new URL(`../${dir}/`, import.meta.url)).map((f) => `${dir}/${f}`));
    expect(files.filter((f) => !named.includes(f))).toEqual([]);
  });

  it('names only files that exist', () => {
    expect(named.filter((f) => !f.includes('*') && !existsSync(new URL(`../${f}`, import.meta.url)))).toEqual([]);
  });
});

describe("infra/README.md's fixed values", () => {
  const { stack, template } = synth();
  const container = containerOf(template, stack, stack.gateway.taskDefinition);
  const env = Object.fromEntries(((container.Environment ?? []) as { Name: string; Value: string }[]).map((e) => [e.Name, e.Value]));
  const gateway = loadConfig(env);
  const [alb] = propsOfType(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
  const [targets] = propsOfType(template, 'AWS::ElasticLoadBalancingV2::TargetGroup');
  const attribute = (attributes: unknown, key: string) => Number((attributes as { Key: string; Value: string }[]).find((a) => a.Key === key)?.Value);
  const idle = attribute(alb?.LoadBalancerAttributes, 'idle_timeout.timeout_seconds');
  const drain = attribute(targets?.TargetGroupAttributes, 'deregistration_delay.timeout_seconds');
  const stop = Number(container.StopTimeout);
  const port = (container.PortMappings as { ContainerPort: number }[])[0]?.ContainerPort;
  const opsPort = (container.PortMappings as { ContainerPort: number; Name?: string }[]).find((m) => m.Name === 'ops')?.ContainerPort;
  const check = `\`GET ${String(targets?.HealthCheckPath)}\` on the operations port ${String(targets?.HealthCheckPort)}`;
  const s = (ms: number) => ms / 1000;
  const albSubnets = (alb?.Subnets as unknown[]).length;
  const publicIps = propsOfType(template, 'AWS::EC2::EIP').length + albSubnets;
  const taskDefinition = (template.toJSON().Resources as Record<string, { UpdateReplacePolicy?: string; DeletionPolicy?: string }>)[logicalId(stack, stack.gateway.taskDefinition)];

  it('are the synthesized stack’s, and the gateway defaults the task relies on', () => {
    expect([ECS_NAMES.service, ECS_NAMES.taskFamily]).toEqual([ECS_NAMES.cluster, ECS_NAMES.cluster]);
    const phrases = [
      `ALB (idle timeout ${idle} s)`,
      `IP target group on ${String(targets?.Port)} with health check ${check} → ${String((targets?.Matcher as { HttpCode: string }).HttpCode)}`,
      `any target failing ${check},`,
      `At least one target failed its health check (${check} → ${String((targets?.Matcher as { HttpCode: string }).HttpCode)}, every ${String(targets?.HealthCheckIntervalSeconds)} s, ${String(targets?.HealthCheckTimeoutSeconds)} s timeout)`,
      `(cluster, service and family named \`${ECS_NAMES.cluster}\`;`,
      `⌈ms/1000⌉ + ${stop - Math.ceil(DEFAULT_SETTINGS.shutdownTimeoutMs / 1000)} s (${stop} s by default, max 120 s:`,
      `container port ${port} (\`PORT=${env.PORT}\`) and operations port ${String(opsPort)} (\`OPS_PORT=${String(env.OPS_PORT)}\`: \`GET /\` and \`GET /metrics\` only, where the ALB's health checks go), ALB idle timeout ${idle} s (the gateway's keep-alive is ${s(gateway.KEEP_ALIVE_TIMEOUT_MS)} s,`,
      `request timeout ${s(gateway.REQUEST_TIMEOUT_MS)} s (\`REQUEST_TIMEOUT_MS=${env.REQUEST_TIMEOUT_MS}\` in the task environment`,
      `the ALB deregistration delay derived from it (${drain} s: the timeout plus \`DEREGISTRATION_DELAY_MARGIN_SECONDS\`, ${DEREGISTRATION_DELAY_MARGIN_SECONDS} s,`,
      `The ALB's deregistration delay does not depend on it: it runs before SIGTERM and is the gateway's ${s(gateway.REQUEST_TIMEOUT_MS)} s request timeout plus ${DEREGISTRATION_DELAY_MARGIN_SECONDS} s`,
      `health check every ${String(targets?.HealthCheckIntervalSeconds)} s with ${String(targets?.HealthCheckTimeoutSeconds)} s timeout, healthy after ${String(targets?.HealthyThresholdCount)} and unhealthy after ${String(targets?.UnhealthyThresholdCount)} checks`,
      `for up to the deregistration delay (${drain} s)`,
      `stops draining after \`SHUTDOWN_TIMEOUT_MS\` (${s(gateway.SHUTDOWN_TIMEOUT_MS)} s) at the latest, then exits once its last log lines are written (at most ${s(EXIT_LOG_WAIT_MS)} s more, when the log reader is behind: \`EXIT_LOG_WAIT_MS\` in \`src/logger.ts\`); ECS waits up to stopTimeout (${stop} s)`,
      `\`SHUTDOWN_TIMEOUT_MS\` takes up to ${s(PAST_SHUTDOWN_TIMEOUT_MS)} s more before those lines`,
      `after ${String(targets?.UnhealthyThresholdCount)} failed checks (≈ ${Number(targets?.UnhealthyThresholdCount) * Number(targets?.HealthCheckIntervalSeconds)} s)`,
      `within \`MLFLOW_POLL_INTERVAL_MS\` (${s(gateway.MLFLOW_POLL_INTERVAL_MS)} s)`,
      `the stack keeps those its deploys replace (the task definition's \`UpdateReplacePolicy\` and \`DeletionPolicy\` are \`${String(taskDefinition?.UpdateReplacePolicy)}\`;`,
      `the task definition's revisions, are ${taskDefinition?.DeletionPolicy === 'Retain' ? 'retained' : 'deleted'})`,
      // Costs: public IPv4 at $0.005 per address-hour, 730 hours a month.
      `with the defaults ${publicIps} (the NAT gateway's Elastic IP and one per ALB node, in each of the ${albSubnets} AZs; \`natGateways=2\` adds one, and the ALB adds nodes as it scales) ≈ $${Math.round(publicIps * 0.005 * 730)}`,
    ];
    expect(phrases.filter((phrase) => !flat.includes(phrase))).toEqual([]);
  });

  it("are the ones the root README.md quotes", () => {
    const phrases = [
      `| \`KEEP_ALIVE_TIMEOUT_MS\` | \`${gateway.KEEP_ALIVE_TIMEOUT_MS}\` | integer 1,000–600,000 | above the ALB's ${idle} s idle timeout,`,
      `keep-alive ${s(gateway.KEEP_ALIVE_TIMEOUT_MS)} s (\`KEEP_ALIVE_TIMEOUT_MS\`, above the ALB's ${idle} s idle timeout)`,
      `(below ECS's ${stop} s \`stopTimeout\`)`,
      `forwarding to port ${port},`,
      `the health check is \`GET ${String(targets?.HealthCheckPath)}\` on the operations port, ${String(targets?.HealthCheckPort)} (\`OPS_PORT\`:`,
      `ALB → tasks on ${port} and ${String(targets?.HealthCheckPort)};`,
      `family are all named \`${ECS_NAMES.cluster}\``,
      `\`stopTimeout\` is \`SHUTDOWN_TIMEOUT_MS\` + ${stop - Math.ceil(DEFAULT_SETTINGS.shutdownTimeoutMs / 1000)} s (${stop} s)`,
      `plus ${DEREGISTRATION_DELAY_MARGIN_SECONDS} s for the answer's way back to the ALB (\`REQUEST_TIMEOUT_MS=${env.REQUEST_TIMEOUT_MS}\`, ${drain} s)`,
    ];
    expect(phrases.filter((phrase) => !rootReadme.includes(phrase))).toEqual([]);
  });
});

describe("the runbook's failed health checks under load", () => {
  const performance = readFileSync(new URL('../../docs/performance.md', import.meta.url), 'utf8');
  const section = headings(performance).find((h) => h.title === 'Health checks under a flood of large batches');
  const link = `../docs/performance.md#${section?.anchor ?? ''}`;
  /** A row of that section's table, by its first cell. */
  const measured = (first: string) => new RegExp(`^\\| ${first.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\| ([^|]*) \\|`, 'm').exec(section?.body ?? '')?.[1] ?? '';
  const onPort = /–(\d+(?:\.\d+)?) s, three in a row/.exec(measured('nothing (`PORT`, 32 MiB budget)'))?.[1];
  const onOpsPort = /at most (\d+(?:\.\d+)?) s/.exec(measured('**`GET /` on `OPS_PORT`**'))?.[1];
  const row = /^\| tasks stopped for failed ELB health checks.*$/m.exec(readme)?.[0] ?? '';

  it("quote docs/performance.md's measurement, on PORT and on OPS_PORT, and link to it", () => {
    expect([section?.anchor, onPort, onOpsPort]).toEqual(['health-checks-under-a-flood-of-large-batches', expect.any(String), expect.any(String)]);
    expect([`up to ${String(onPort)} s`, `at most ${String(onOpsPort)} s`, `(${link})`].filter((phrase) => !row.includes(phrase))).toEqual([]);
  });

  it('the README links the section wherever it says why the health checks go to the operations port', () => {
    expect(flat.split(link).length - 1).toBeGreaterThanOrEqual(3);
  });
});

describe("infra/README.md's costs", () => {
  it("price the gateway's access lines from the size the CloudWatch Logs row gives, per million requests and for a task at the requestsPerTarget default", () => {
    const row = /^\| CloudWatch Logs \|.*$/m.exec(readme)?.[0] ?? '';
    expect(row).toContain('`logRetentionDays` does not bound it: retention cuts storage only');
    const size = /an access line per request \((\d+)–(\d+) bytes, plus the (\d+) bytes per event CloudWatch counts\)/.exec(row);
    expect(size, 'the access line size in the CloudWatch Logs row').not.toBeNull();
    const [, shortest = '', longest = '', perEvent = ''] = size ?? [];
    // Ingestion at $0.50 per GB; a month is 730 hours, as for the public IPv4 row.
    const dollars = (lineBytes: string, requests: number) => ((Number(lineBytes) + Number(perEvent)) * requests * 0.5) / 1e9;
    const perMillion = (lineBytes: string) => dollars(lineBytes, 1e6).toFixed(2);
    const atTarget = (lineBytes: string) => Math.round(dollars(lineBytes, DEFAULT_SETTINGS.requestsPerTarget * 60 * 730) / 10) * 10;
    expect(row).toContain(`≈ $${perMillion(shortest)}–${perMillion(longest)} per million requests`);
    expect(row).toContain(`the \`requestsPerTarget\` default (${DEFAULT_SETTINGS.requestsPerTarget.toLocaleString('en-US')} per minute) ≈ $${atTarget(shortest)}–${atTarget(longest)} a month`);
  });

  it("give the sizes of the access lines the gateway writes: a REST prediction from curl to a GraphQL one from a browser, each with the caller's address", async () => {
    const row = /^\| CloudWatch Logs \|.*$/m.exec(readme)?.[0] ?? '';
    const [, shortest = '', longest = ''] = /an access line per request \((\d+)–(\d+) bytes/.exec(row) ?? [];
    // Lines as the gateway's own access log writes them (the ALB's health checks write none).
    let text = '';
    const stream = new Writable({
      decodeStrings: false,
      write(chunk: string | Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    const write = accessLog(createLogger('info', stream));
    const line: Omit<AccessLogEntry, 'route' | 'operation' | 'client' | 'userAgent'> = { reqId: '6f1c2d9e-4b7a-4f3e-9a51-0c8d2e7b4a10', method: 'POST', status: 200, latencyMs: 12.71, modelVersion: '2', modelRunId: '5b2ac2847dc844a0be722b59c1a44b36', rows: 1 };
    write({ ...line, route: 'rest_predict', operation: null, client: '203.0.113.7', userAgent: 'curl/7.88.1' });
    write({
      ...line,
      route: 'graphql',
      operation: 'Predict',
      client: '2001:db8::1234:5678',
      userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    });
    await new Promise((resolve) => setTimeout(resolve, ACCESS_LOG_FLUSH_MS + 5));
    const sizes = text.split('\n').filter(Boolean).map((l) => Buffer.byteLength(l));
    expect(sizes).toHaveLength(2);
    // Rounded to 5 bytes in the README; a line that grows or shrinks by more must change its figures.
    expect(Math.abs((sizes[0] ?? 0) - Number(shortest)), `REST line ${sizes[0]} bytes against the row's ${shortest}`).toBeLessThanOrEqual(5);
    expect(Math.abs((sizes[1] ?? 0) - Number(longest)), `GraphQL line ${sizes[1]} bytes against the row's ${longest}`).toBeLessThanOrEqual(5);
  });
});

describe("infra/README.md's saved queries", () => {
  it('lists every saved query once, on its log group, and the placeholder the request query looks for', () => {
    const section = readme.slice(readme.indexOf('**Saved queries**'), readme.indexOf('## How traffic'));
    const listed = [...section.matchAll(/^\| `([^`]+)` \| (gateway|ECS events) \|/gm)].map((m) => `${m[1]} (${m[2]})`);
    expect(listed).toEqual(SAVED_QUERIES.map((q) => `${q.name} (${q.logGroup === 'gateway' ? 'gateway' : 'ECS events'})`));
    expect(section).toContain(`\`${REQUEST_ID_PLACEHOLDER}\``);
  });
});

describe("docs/delivery.md's iam:PassRole resource for the release's deploy role", () => {
  const delivery = readFileSync(new URL('../../docs/delivery.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
  const { stack, template } = synth();

  it("covers the task definition's two roles and no other role of the stack", () => {
    const prefix = /`arn:aws:iam::<account>:role\/([\w-]+)\*` covers both/.exec(delivery)?.[1] ?? '';
    expect(prefix).toMatch(new RegExp(`^${stack.stackName}-`));
    const taskDefinition = propsOf(template, stack, stack.gateway.taskDefinition);
    const passed = [taskDefinition.TaskRoleArn, taskDefinition.ExecutionRoleArn].map((arn) => (arn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
    // A role without RoleName gets a name CloudFormation makes of the stack's name and its logical id.
    expect(propsOfType(template, 'AWS::IAM::Role').filter((role) => role.RoleName !== undefined)).toEqual([]);
    const covered = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => `${stack.stackName}-${id}`.startsWith(prefix));
    expect(covered.sort()).toEqual(passed.sort());
    // The logical ids the doc names are those roles'.
    const named = [...delivery.matchAll(/`(GatewayTaskDefinition\w+)…`/g)].map((m) => m[1] ?? '');
    expect(named).toHaveLength(2);
    expect(passed.map((id) => named.some((start) => id.startsWith(start)))).toEqual([true, true]);
  });
});
