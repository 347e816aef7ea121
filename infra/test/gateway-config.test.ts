/**
 * The task definition's environment is one the gateway starts with. The synth-time checks in
 * lib/gateway-service.ts repeat rules of the gateway's src/config.ts (this app is its own package
 * and does not import it at synth); here the gateway's own parser reads the environment each
 * accepted setting produces, so a rule the two disagree on fails this test instead of every task
 * start (the tasks exit 1 until the circuit breaker rolls the deploy back). The infra part of
 * scripts/test.sh runs with the root's node_modules installed, which src/config.ts needs (zod).
 */
import { describe, expect, it } from 'vitest';
import { Template } from 'aws-cdk-lib/assertions';
import { clientAddress } from '../../src/client-address.js';
import { ConfigError, LOG_LEVELS as GATEWAY_LOG_LEVELS, loadConfig } from '../../src/config.js';
import { EXIT_LOG_WAIT_MS } from '../../src/logger.js';
import { PAST_SHUTDOWN_TIMEOUT_MS } from '../../src/server.js';
import { startTestGateway } from '../../test/helpers/gateway.js';
import { LOG_LEVELS, MIN_MEMORY_MIB } from '../lib/gateway-service.js';
import { DEREGISTRATION_DELAY_MARGIN_SECONDS } from '../lib/load-balancer.js';
import type { GatewaySettings } from '../lib/gateway-stack.js';
import { PropsValidationError } from '../lib/validation.js';
import { ADMIN_SECRET_ARN, CERTIFICATE_ARN, MLFLOW_CREDENTIALS_SECRET_ARN, MLFLOW_TOKEN_SECRET_ARN, buildStack, containerOf, propsOfType, type Props } from './helpers.js';

/** A value ECS would read from Secrets Manager at task start: any the gateway accepts. */
const SECRET_VALUE = 'a-secret-value-of-32-characters!';

/** The container's environment as ECS gives it to the gateway, or the synth's refusal. */
function taskEnvironment(settings: Partial<GatewaySettings>): Record<string, string> | PropsValidationError {
  let stack;
  try {
    stack = buildStack(settings);
  } catch (error) {
    if (error instanceof PropsValidationError) return error;
    throw error;
  }
  return environmentOf(containerOf(Template.fromStack(stack), stack, stack.gateway.taskDefinition));
}

/** A synthesized container's environment, each secret given SECRET_VALUE. */
function environmentOf(container: Props): Record<string, string> {
  const env = (container.Environment ?? []) as { Name: string; Value: string }[];
  const secrets = (container.Secrets ?? []) as { Name: string }[];
  return Object.fromEntries([...env.map((e): [string, string] => [e.Name, e.Value]), ...secrets.map((s): [string, string] => [s.Name, SECRET_VALUE])]);
}

/** The gateway's verdict on an environment: undefined when it starts, else its problems. */
function gatewayRefusal(env: Record<string, string>): string | undefined {
  try {
    loadConfig(env);
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
}

const modelUri = 'models:/telco-churn@champion';
const mlflow = (mlflowTrackingUri: string): Partial<GatewaySettings> => ({ mlflowTrackingUri, modelUri });

/** Settings near the edges of the rules the synth repeats; each is either refused at synth or started by the gateway. */
const EDGES: Record<string, Partial<GatewaySettings>> = {
  defaults: {},
  'tracking URI with a path prefix': mlflow('http://mlflow.internal:5000/mlflow/'),
  'tracking URI with an IPv6 host': mlflow('http://[fd00::1]:5000'),
  'tracking URI in upper case': mlflow('HTTPS://MLFLOW.INTERNAL'),
  'tracking URI with a query': mlflow('http://mlflow.internal:5000/?workspace=a'),
  'tracking URI with an empty query': mlflow('http://mlflow.internal:5000?'),
  'tracking URI with a fragment': mlflow('http://mlflow.internal:5000#top'),
  'tracking URI with a fragment after a path': mlflow('https://mlflow.internal/mlflow#x'),
  'tracking URI with credentials': mlflow('http://alice:secret@mlflow.internal:5000'),
  'tracking URI with a port out of range': mlflow('http://mlflow.internal:65536'),
  'tracking URI without a scheme': mlflow('mlflow.internal:5000'),
  'tracking URI of a file store': mlflow('file:///mlruns'),
  'model URI of a version': { ...mlflow('http://mlflow.internal:5000'), modelUri: 'models:/telco-churn/3' },
  'model URI of a run': { ...mlflow('http://mlflow.internal:5000'), modelUri: 'runs:/0123abcd/bundle' },
  'model URI without a version or alias': { ...mlflow('http://mlflow.internal:5000'), modelUri: 'models:/telco-churn' },
  // Well-formed to a pattern, but names no model MLflow can hold or an alias it never sets.
  'model URI with an alias that reads as a version': { ...mlflow('http://mlflow.internal:5000'), modelUri: 'models:/telco-churn@v3' },
  'model URI with a colon in the name': { ...mlflow('http://mlflow.internal:5000'), modelUri: 'models:/team:churn@champion' },
  'model URI with a name beginning with ..': { ...mlflow('http://mlflow.internal:5000'), modelUri: 'models:/..churn/3' },
  'model URI without a tracking URI': { modelUri },
  'strict MLflow': { ...mlflow('http://mlflow.internal:5000'), mlflowStrict: true },
  'MLflow credentials': { ...mlflow('http://mlflow.internal:5000'), mlflowCredentialsSecretArn: MLFLOW_CREDENTIALS_SECRET_ARN },
  'MLflow token': { ...mlflow('http://mlflow.internal:5000'), mlflowTokenSecretArn: MLFLOW_TOKEN_SECRET_ARN },
  'MLflow credentials and token': { ...mlflow('http://mlflow.internal:5000'), mlflowCredentialsSecretArn: MLFLOW_CREDENTIALS_SECRET_ARN, mlflowTokenSecretArn: MLFLOW_TOKEN_SECRET_ARN },
  'MLflow token without MLflow': { mlflowTokenSecretArn: MLFLOW_TOKEN_SECRET_ARN },
  // With the certificate the synth requires for it (else ADMIN_TOKEN would cross the internet in clear text).
  'admin token': { adminTokenSecretArn: ADMIN_SECRET_ARN, certificateArn: CERTIFICATE_ARN },
  ...Object.fromEntries(LOG_LEVELS.map((logLevel) => [`log level ${logLevel}`, { logLevel }])),
  'log level the gateway does not know': { logLevel: 'verbose' as GatewaySettings['logLevel'] },
  'shortest shutdown timeout': { shutdownTimeoutMs: 1000 },
  'longest shutdown timeout': { shutdownTimeoutMs: 110_000 },
  'GraphiQL on': { graphiqlEnabled: true },
  '/docs off': { docsEnabled: false },
  'CORS origins': { corsOrigins: 'https://app.example, http://localhost:5173' },
  'CORS origin with a path': { corsOrigins: 'https://app.example/' },
  'model folder': { modelDir: '/app/model/other' },
};

describe('every environment the synth accepts is one the gateway starts with', () => {
  it("the log levels the synth knows are the gateway's (it refuses the ones that drop the access lines as such, the rest as unknown)", () => {
    expect([...LOG_LEVELS]).toEqual([...GATEWAY_LOG_LEVELS]);
  });

  /**
   * The edges the synth refuses, each for a reason of its own (test/validation.test.ts words them);
   * every other edge must synthesize and start the gateway. Listed, so an edge the synth starts
   * refusing for another reason (a setting it now needs alongside) fails here instead of leaving
   * the gateway's verdict on it unchecked.
   */
  const REFUSED_AT_SYNTH = [
    'tracking URI with an IPv6 host', 'tracking URI with a query', 'tracking URI with an empty query', 'tracking URI with a fragment',
    'tracking URI with a fragment after a path', 'tracking URI with credentials', 'tracking URI with a port out of range', 'tracking URI without a scheme',
    'tracking URI of a file store', 'model URI without a version or alias', 'model URI with an alias that reads as a version',
    'model URI with a colon in the name', 'model URI with a name beginning with ..', 'model URI without a tracking URI', 'MLflow credentials and token',
    'MLflow token without MLflow', 'log level fatal', 'log level error', 'log level warn', 'log level silent', 'log level the gateway does not know',
    'CORS origin with a path',
  ];

  it('names only edges there are', () => {
    expect(REFUSED_AT_SYNTH.filter((name) => !(name in EDGES))).toEqual([]);
  });

  it.each(Object.entries(EDGES))('%s', (name, settings) => {
    const env = taskEnvironment(settings);
    if (REFUSED_AT_SYNTH.includes(name)) {
      expect(env, name).toBeInstanceOf(PropsValidationError);
      return;
    }
    if (env instanceof PropsValidationError) throw new Error(`${name}: refused at synth, which REFUSED_AT_SYNTH does not expect: ${env.message}`);
    expect(gatewayRefusal(env), JSON.stringify(env)).toBeUndefined();
  });

  it('the edges include settings the gateway refuses, and the synth refuses each of them', () => {
    const refusedByGateway = [
      'tracking URI with a query', 'tracking URI with a fragment', 'tracking URI with credentials', 'MLflow credentials and token', 'CORS origin with a path',
      'model URI with an alias that reads as a version', 'model URI with a colon in the name', 'model URI with a name beginning with ..',
    ];
    for (const name of refusedByGateway) expect(taskEnvironment(EDGES[name] ?? {}), name).toBeInstanceOf(PropsValidationError);
  });
});

/**
 * modelUri becomes the task's MODEL_URI. The synth checks it with the gateway's own reading
 * (src/model/model-uri.ts, which src/config.ts checks MODEL_URI with): its own pattern let through
 * names MLflow cannot hold and aliases it never sets, which every task then refused at start.
 */
describe('modelUri: refused at synth, in the gateway\'s words, exactly when the gateway would refuse MODEL_URI', () => {
  const tracking = 'http://mlflow.internal:5000';
  /** The gateway's refusal of MODEL_URI=value, as the synth words it, or undefined. */
  const gatewayProblem = (value: string) => {
    try {
      loadConfig({ MLFLOW_TRACKING_URI: tracking, MODEL_URI: value });
      return undefined;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.details.map((d) => `${d.variable === 'MODEL_URI' ? 'modelUri' : d.variable} ${d.problem}, got "${value}"`);
    }
  };

  it.each(['models:/telco-churn@v3', 'models:/telco-churn@V03', 'models:/team:churn@champion', 'models:/..churn/3', 'models:/./3', 'models:/ @champion', 'models:/telco-churn', 'telco-churn@champion'])(
    '%s is refused as the gateway refuses it',
    (modelUri) => {
      const refused = taskEnvironment({ mlflowTrackingUri: tracking, modelUri });
      expect(refused).toBeInstanceOf(PropsValidationError);
      const expected = gatewayProblem(modelUri);
      expect(expected).toBeDefined();
      expect((refused as PropsValidationError).problems).toEqual(expected);
    },
  );

  it.each(['models:/telco-churn@champion', 'models:/telco-churn/03', 'runs:/0123abcd', 'runs:/0123abcd/bundle', 'models:/Télé churn@latest'])('%s is written to MODEL_URI, and the gateway starts with it', (modelUri) => {
    const env = taskEnvironment({ mlflowTrackingUri: tracking, modelUri });
    if (env instanceof PropsValidationError) throw env;
    expect(env.MODEL_URI).toBe(modelUri);
    expect(gatewayRefusal(env)).toBeUndefined();
  });
});

/**
 * corsOrigins becomes the task's CORS_ORIGINS. The synth checks it with the gateway's own rules
 * (src/cors-origins.ts, which src/config.ts parses CORS_ORIGINS with), so an origin the gateway
 * would refuse fails synth with the gateway's words, instead of every task exiting at start.
 */
describe('corsOrigins: refused at synth exactly when the gateway would refuse CORS_ORIGINS', () => {
  /** The gateway's refusals of CORS_ORIGINS=value, each as the synth words it (the setting's name for the variable's). */
  const gatewayProblems = (value: string) => {
    try {
      loadConfig({ CORS_ORIGINS: value });
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.details.map((d) => `${d.variable === 'CORS_ORIGINS' ? 'corsOrigins' : d.variable} ${d.problem}`);
    }
  };

  it.each(['https://app.example/', '*', 'HTTPS://APP.EXAMPLE', 'a;b', 'https://a.example;https://b.example', 'app.example', 'https://app.example, ftp://files.example', 'https://app.example:443'])(
    '%s is refused, naming corsOrigins and what is allowed, as the gateway refuses it',
    (corsOrigins) => {
      const refused = taskEnvironment({ corsOrigins });
      expect(refused).toBeInstanceOf(PropsValidationError);
      const expected = gatewayProblems(corsOrigins);
      expect(expected.length).toBeGreaterThan(0);
      expect((refused as PropsValidationError).problems).toEqual(expected);
      for (const problem of expected) expect(problem).toMatch(/^corsOrigins entry "[^"]*"(:| must be) .*scheme:\/\/host\[:port\], no path/);
    },
  );

  it.each([
    ['https://app.example', ['https://app.example']],
    [' https://app.example , http://localhost:5173,', ['https://app.example', 'http://localhost:5173']],
    ['http://[::1]:8080', ['http://[::1]:8080']],
  ])('%s is written to CORS_ORIGINS, and the gateway allows those origins', (corsOrigins, origins) => {
    const env = taskEnvironment({ corsOrigins });
    if (env instanceof PropsValidationError) throw env;
    expect(env.CORS_ORIGINS).toBe(origins.join(','));
    expect(loadConfig(env).CORS_ORIGINS).toEqual(origins);
  });

  it.each([undefined, '', ' , '])('%j leaves CORS_ORIGINS out: closed, as before', (corsOrigins) => {
    const env = taskEnvironment({ corsOrigins });
    if (env instanceof PropsValidationError) throw env;
    expect(env).not.toHaveProperty('CORS_ORIGINS');
    expect(loadConfig(env).CORS_ORIGINS).toEqual([]);
  });
});

/**
 * The numbers the stack sets around the gateway against the gateway's own values, as its parser
 * reads the task environment: the ones the task does not set are the gateway's defaults
 * (src/config.ts), which the stack relies on without writing them (KEEP_ALIVE_TIMEOUT_MS).
 */
function timingProblems(settings: Partial<GatewaySettings>): string[] {
  const stack = buildStack(settings);
  const template = Template.fromStack(stack);
  const container = containerOf(template, stack, stack.gateway.taskDefinition);
  const gateway = loadConfig(environmentOf(container));
  const [alb] = propsOfType(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
  const targetGroups = propsOfType(template, 'AWS::ElasticLoadBalancingV2::TargetGroup');
  const [service] = propsOfType(template, 'AWS::ECS::Service');
  const attribute = (resource: Props | undefined, key: string) =>
    Number(((resource?.LoadBalancerAttributes ?? resource?.TargetGroupAttributes ?? []) as { Key: string; Value: string }[]).find((a) => a.Key === key)?.Value);
  const idleMs = attribute(alb, 'idle_timeout.timeout_seconds') * 1000;
  // The API's and the UI's target groups (load-balancer.ts): a task drains from both.
  const drainsMs = targetGroups.map((group) => attribute(group, 'deregistration_delay.timeout_seconds') * 1000);
  const stopMs = Number(container.StopTimeout) * 1000;
  const ports = {
    'container port': (container.PortMappings as { ContainerPort: number }[])[0]?.ContainerPort,
    ...Object.fromEntries(targetGroups.map((group, i) => [`target group ${i + 1}'s port`, group.Port])),
    ...Object.fromEntries(((service?.LoadBalancers ?? []) as { ContainerPort: number }[]).map((lb, i) => [`service's load balancer ${i + 1}'s port`, lb.ContainerPort])),
  };
  const problems = Object.entries(ports)
    .filter(([, port]) => port !== gateway.PORT)
    .map(([what, port]) => `the gateway listens on PORT ${gateway.PORT}, the ${what} is ${String(port)}`);
  // The ALB's health checks go to the operations port (OPS_PORT), which the task must open and map:
  // on PORT a check waits behind every connection queued there (docs/performance.md).
  if (gateway.OPS_PORT === undefined) problems.push('the task sets no OPS_PORT, so the health checks have no operations port to go to');
  const mapped = (container.PortMappings as { ContainerPort: number }[]).map((mapping) => mapping.ContainerPort);
  if (!mapped.includes(gateway.OPS_PORT ?? Number.NaN)) problems.push(`the container maps ${mapped.join(', ')}, not OPS_PORT ${String(gateway.OPS_PORT)}`);
  targetGroups.forEach((group, i) => {
    const checked = typeof group.HealthCheckPort === 'string' ? `port ${group.HealthCheckPort}` : 'the traffic port';
    if (group.HealthCheckPort !== String(gateway.OPS_PORT)) {
      problems.push(`the gateway answers health checks on OPS_PORT ${String(gateway.OPS_PORT)}, target group ${i + 1}'s go to ${checked}`);
    }
  });
  // The ALB closes idle connections first: a gateway closing one the ALB is about to reuse is a 502.
  if (!(gateway.KEEP_ALIVE_TIMEOUT_MS > idleMs)) problems.push(`KEEP_ALIVE_TIMEOUT_MS ${gateway.KEEP_ALIVE_TIMEOUT_MS} must be above the ALB idle timeout (${idleMs} ms)`);
  // The gateway answers a request out of time (503 REQUEST_TIMEOUT), not the ALB (504).
  if (!(gateway.REQUEST_TIMEOUT_MS < idleMs)) problems.push(`REQUEST_TIMEOUT_MS ${gateway.REQUEST_TIMEOUT_MS} must be below the ALB idle timeout (${idleMs} ms)`);
  // A request accepted before deregistration is answered, and its answer reaches the ALB, before
  // the ALB stops waiting for it: the gateway's clock starts after the ALB sent the request, so
  // the delay must exceed the timeout by a margin (DEREGISTRATION_DELAY_MARGIN_SECONDS), not equal it.
  if (drainsMs.length === 0) problems.push('the template has no target group');
  for (const drainMs of drainsMs) {
    if (!(drainMs - gateway.REQUEST_TIMEOUT_MS >= DEREGISTRATION_DELAY_MARGIN_SECONDS * 1000)) {
      problems.push(`the deregistration delay (${drainMs} ms) must exceed REQUEST_TIMEOUT_MS ${gateway.REQUEST_TIMEOUT_MS} by ${DEREGISTRATION_DELAY_MARGIN_SECONDS} s at least`);
    }
  }
  // The gateway drains, answers what is left and releases the model, waits for its last log lines to
  // reach the log driver, and exits before ECS sends SIGKILL.
  if (!(gateway.SHUTDOWN_TIMEOUT_MS + PAST_SHUTDOWN_TIMEOUT_MS + EXIT_LOG_WAIT_MS < stopMs)) {
    problems.push(
      `SHUTDOWN_TIMEOUT_MS ${gateway.SHUTDOWN_TIMEOUT_MS} + its last steps (${PAST_SHUTDOWN_TIMEOUT_MS} ms) + the exit's wait for the log (${EXIT_LOG_WAIT_MS} ms) must be below the container's stopTimeout (${stopMs} ms)`,
    );
  }
  return problems;
}

describe("the task's memory floor (MIN_MEMORY_MIB) was measured at the gateway's body limits, which the task leaves at their defaults", () => {
  it('the task sets neither BODY_LIMIT_BYTES nor MAX_BODY_BYTES_IN_FLIGHT, and the defaults are the 5 MB and 32 MiB src/config.ts measured 749 MB of RSS with', () => {
    const env = taskEnvironment({});
    if (env instanceof PropsValidationError) throw env;
    expect(Object.keys(env).filter((name) => name.startsWith('BODY_') || name.startsWith('MAX_BODY'))).toEqual([]);
    const gateway = loadConfig(env);
    // A larger default budget needs MIN_MEMORY_MIB measured again (src/config.ts, MAX_BODY_BYTES_IN_FLIGHT's comment).
    expect([gateway.BODY_LIMIT_BYTES, gateway.MAX_BODY_BYTES_IN_FLIGHT]).toEqual([5 * 1024 * 1024, 32 * 1024 * 1024]);
    expect(MIN_MEMORY_MIB * 1024 * 1024).toBeGreaterThan(749e6);
  });
});

describe("the stack's ports and timeouts fit the gateway's, as it reads the task environment", () => {

  it.each(Object.entries({ defaults: {}, 'shortest shutdown timeout': { shutdownTimeoutMs: 1000 }, 'longest shutdown timeout': { shutdownTimeoutMs: 110_000 } }))('%s', (_, settings) => {
    expect(timingProblems(settings)).toEqual([]);
  });
});

describe("the ALB's health check, as the target groups send it", () => {
  it("is answered with the matcher's code by the gateway started with the task environment, on its operations port", async () => {
    const stack = buildStack({});
    const template = Template.fromStack(stack);
    const env = environmentOf(containerOf(template, stack, stack.gateway.taskDefinition));
    const checks = propsOfType(template, 'AWS::ElasticLoadBalancingV2::TargetGroup').map((group) => ({
      port: group.HealthCheckPort,
      path: group.HealthCheckPath,
      code: (group.Matcher as { HttpCode: string }).HttpCode,
    }));
    expect(checks).toHaveLength(2);
    // Both groups check the port the task environment names OPS_PORT (gateway-service.ts writes it).
    expect(env.OPS_PORT).toMatch(/^[1-9]\d*$/);
    for (const check of checks) expect(check.port).toBe(env.OPS_PORT);
    // The task's ports are fixed; here the gateway listens on any free ones (OPS_PORT only if the
    // task sets it), the rest of its environment as the task's.
    const gw = await startTestGateway({ ...env, PORT: '0', ...(env.OPS_PORT === undefined ? {} : { OPS_PORT: '0' }) });
    try {
      if (gw.opsUrl === null) throw new Error('the task environment starts no operations port');
      for (const check of checks) expect((await fetch(`${gw.opsUrl}${String(check.path)}`)).status).toBe(Number(check.code));
    } finally {
      await gw.close();
    }
  });
});

describe("the caller the gateway's log lines name, behind the stack's ALB", () => {
  it('is the address the ALB appends to X-Forwarded-For, not an entry the caller wrote before it', () => {
    const stack = buildStack({});
    const template = Template.fromStack(stack);
    const [alb] = propsOfType(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    const attributes = Object.fromEntries(((alb?.LoadBalancerAttributes ?? []) as { Key: string; Value: string }[]).map((a) => [a.Key, a.Value]));
    // The ALB appends the address it saw, without the port.
    expect([attributes['routing.http.xff_header_processing.mode'], attributes['routing.http.xff_client_port.enabled']]).toEqual(['append', 'false']);
    const gateway = loadConfig(environmentOf(containerOf(template, stack, stack.gateway.taskDefinition)));
    // The socket's peer is an ALB node in the VPC; the caller at 203.0.113.7 sent its own X-Forwarded-For, or none.
    const albNode = '10.0.1.23';
    expect(clientAddress('10.0.0.1, 198.51.100.9, 203.0.113.7', albNode, gateway.TRUSTED_PROXY_HOPS)).toBe('203.0.113.7');
    expect(clientAddress('203.0.113.7', albNode, gateway.TRUSTED_PROXY_HOPS)).toBe('203.0.113.7');
  });
});
