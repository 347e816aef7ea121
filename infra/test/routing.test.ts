import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { UiManifest } from '../../src/ui/manifest.js';
import { BATCH_PATH, renderAppPage, renderBatchPage, renderDocsPage, renderGraphiqlPage } from '../../src/ui/pages.js';
import {
  ALB_IDLE_TIMEOUT_SECONDS,
  DEREGISTRATION_DELAY_MARGIN_SECONDS,
  GATEWAY_REQUEST_TIMEOUT_MS,
  METRICS_RULE_PRIORITY,
  STICKINESS_SECONDS,
  UI_PATHS,
  UI_RULE_PRIORITY,
} from '../lib/load-balancer.js';
import { GATEWAY_PORT, OPS_PORT } from '../lib/network.js';
import { CERTIFICATE_ARN, containerOf, propsOf, propsOfType, ref, synth } from './helpers.js';

/** The serving listener answers /metrics itself (404), never forwarding it to the gateway. */
function keepsMetricsOff(template: ReturnType<typeof synth>['template'], listener: object): void {
  expect(template).toHaveResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
    ListenerArn: listener,
    Priority: METRICS_RULE_PRIORITY,
    Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/metrics', '/metrics/*'] } }],
    Actions: [{ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404', ContentType: 'application/problem+json' }) }],
  });
}

/** The serving listener sends UI_PATHS to the sticky UI target group; its only other rule is /metrics'. */
function sendsTheUiToItsTargetGroup(synthesized: ReturnType<typeof synth>): void {
  const { stack, template } = synthesized;
  expect(template).toHaveResourceCount('AWS::ElasticLoadBalancingV2::ListenerRule', 2);
  expect(template).toHaveResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
    ListenerArn: ref(stack, stack.loadBalancer.servingListener),
    Priority: UI_RULE_PRIORITY,
    Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: [...UI_PATHS] } }],
    Actions: [{ Type: 'forward', TargetGroupArn: ref(stack, stack.loadBalancer.uiTargetGroup) }],
  });
}

/** Whether an ALB path pattern matches a path: `*` any characters (none, or `/` included), `?` one; case-sensitive. */
function pathPatternMatches(pattern: string, path: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(path);
}
const sticky = (path: string) => UI_PATHS.some((pattern) => pathPatternMatches(pattern, path));

/** A manifest of made-up hashed names: the pages link whatever names the build gave. */
const FAKE_MANIFEST = {
  version: 1,
  assets: new Proxy({}, { get: (_, name) => ({ file: `${String(name).replace(/\.(\w+)$/, '.0123ABCD.$1')}`, contentType: 'x/y', encodings: [], graphiql: false }) }),
} as unknown as UiManifest;

describe('load balancer routing over HTTP (no certificate)', () => {
  const { stack, template } = synth();

  it('is internet-facing in the public subnets with a 60 s idle timeout', () => {
    expect(template).toHaveResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      Subnets: stack.network.vpc.publicSubnets.map((s) => ref(stack, s)),
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'idle_timeout.timeout_seconds', Value: '60' },
        // Requests with header names the ALB finds invalid are not passed on to the gateway.
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        // The caller's address appended to X-Forwarded-For, without its port: what the gateway names as `client`.
        { Key: 'routing.http.xff_header_processing.mode', Value: 'append' },
        { Key: 'routing.http.xff_client_port.enabled', Value: 'false' },
      ]),
    });
  });

  it('has exactly one listener: HTTP:80 forwarding to the gateway target group', () => {
    expect(template).toHaveResourceCount('AWS::ElasticLoadBalancingV2::Listener', 1);
    expect(template).toHaveResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: ref(stack, stack.loadBalancer.apiTargetGroup) }],
    });
  });

  it('targets task IPs on port 8000 with a GET / health check expecting 200, sent to the operations port (OPS_PORT)', () => {
    expect(template).toHaveResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8000,
      Protocol: 'HTTP',
      TargetType: 'ip',
      HealthCheckPath: '/',
      HealthCheckPort: String(OPS_PORT),
      Matcher: { HttpCode: '200' },
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
    });
  });

  it("keeps a browser on one task for an hour (lb_cookie) on the UI's target group, so a page's hashed assets come from the build that named them during a rolling deploy", () => {
    expect(propsOf(template, stack, stack.loadBalancer.uiTargetGroup).TargetGroupAttributes).toEqual(
      expect.arrayContaining([
        { Key: 'stickiness.enabled', Value: 'true' },
        { Key: 'stickiness.type', Value: 'lb_cookie' },
        { Key: 'stickiness.lb_cookie.duration_seconds', Value: String(STICKINESS_SECONDS) },
      ]),
    );
  });

  it("balances the API per request: its target group (the listener's default) is not sticky, so a client that keeps cookies reaches every task", () => {
    const attributes = propsOf(template, stack, stack.loadBalancer.apiTargetGroup).TargetGroupAttributes as { Key: string; Value: string }[];
    expect(attributes).toContainEqual({ Key: 'stickiness.enabled', Value: 'false' });
    expect(attributes.filter((a) => a.Key.startsWith('stickiness.') && a.Key !== 'stickiness.enabled')).toEqual([]);
  });

  it('has two target groups that differ only in stickiness: the same port, health check and deregistration delay', () => {
    const groups = propsOfType(template, 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(groups).toHaveLength(2);
    const withoutStickiness = groups.map(({ TargetGroupAttributes, ...rest }) => ({
      ...rest,
      TargetGroupAttributes: (TargetGroupAttributes as { Key: string }[]).filter((a) => !a.Key.startsWith('stickiness.')),
    }));
    expect(withoutStickiness[0]).toEqual(withoutStickiness[1]);
  });

  it("sends both target groups' health checks to the operations port, and their traffic to PORT", () => {
    // On PORT a check waits behind every connection queued there: 6-7 s under a flood of large
    // batches on half a vCPU, past the 5 s timeout (docs/performance.md).
    for (const targetGroup of [stack.loadBalancer.apiTargetGroup, stack.loadBalancer.uiTargetGroup]) {
      expect(propsOf(template, stack, targetGroup)).toMatchObject({ Port: GATEWAY_PORT, HealthCheckPort: String(OPS_PORT) });
    }
    expect(OPS_PORT).not.toBe(GATEWAY_PORT);
  });

  it('sends /ui and /docs, their pages and their hashed files, to the sticky target group; everything else to the API target group', () => {
    sendsTheUiToItsTargetGroup({ stack, template });
    expect(['/ui', '/ui/', BATCH_PATH, `${BATCH_PATH}/`, '/ui/graphiql', '/ui/graphiql/', '/ui/assets/app.0123ABCD.js', '/docs', '/docs/'].filter((p) => !sticky(p))).toEqual([]);
    // Version-independent: any task answers them as well as any other, and API clients call them.
    expect(['/', '/predict', '/graphql', '/openapi.json', '/redoc', '/uix', '/api/ui'].filter(sticky)).toEqual([]);
  });

  it("sends every file a page of the gateway's loads to the sticky target group, as the page itself", () => {
    const options = { graphiqlEnabled: true, docsEnabled: true, requestTimeoutMs: 30_000, maxBatch: 10_000, bodyLimitBytes: 1_048_576 };
    const pages = {
      '/ui': renderAppPage(FAKE_MANIFEST, options),
      [BATCH_PATH]: renderBatchPage(FAKE_MANIFEST, options),
      '/ui/graphiql': renderGraphiqlPage(FAKE_MANIFEST, options),
      '/docs': renderDocsPage(FAKE_MANIFEST, { openapiUrl: '/openapi.json', graphiqlEnabled: true }),
    };
    for (const [path, html] of Object.entries(pages)) {
      expect(sticky(path), path).toBe(true);
      // <script src>, <link href> (stylesheets, the icon): what the browser loads with the page. Links to other pages are navigations.
      const loaded = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
      expect(loaded.length, path).toBeGreaterThan(1);
      expect(loaded.filter((url) => !sticky(url)), path).toEqual([]);
    }
  });

  it("keeps deregistering targets draining for the gateway's request timeout (30 s), which the task environment sets, and 5 s more", () => {
    expect(DEREGISTRATION_DELAY_MARGIN_SECONDS).toBe(5);
    for (const targetGroup of [stack.loadBalancer.apiTargetGroup, stack.loadBalancer.uiTargetGroup]) {
      expect(propsOf(template, stack, targetGroup).TargetGroupAttributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '35' });
    }
    expect(template).toHaveResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Environment: Match.arrayWith([{ Name: 'REQUEST_TIMEOUT_MS', Value: String(GATEWAY_REQUEST_TIMEOUT_MS) }]) })],
    });
    expect(GATEWAY_REQUEST_TIMEOUT_MS).toBe(30_000);
    // Below the ALB idle timeout: the gateway answers a request that runs out of time (503), not the ALB (504).
    expect(GATEWAY_REQUEST_TIMEOUT_MS).toBeLessThan(ALB_IDLE_TIMEOUT_SECONDS * 1000);
  });

  it('a shorter shutdown timeout shortens ECS stopTimeout, not the draining of requests the gateway accepted', () => {
    // ECS deregisters a task, waits the deregistration delay, then sends SIGTERM: the gateway's
    // drain comes after it. Deriving the delay from the shutdown timeout (5 s + 10) let the ALB cut
    // requests at 15 s that the gateway runs for up to 30.
    const { stack: short, template: shortTemplate } = synth({ shutdownTimeoutMs: 5000 });
    for (const group of propsOfType(shortTemplate, 'AWS::ElasticLoadBalancingV2::TargetGroup')) {
      expect(group.TargetGroupAttributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '35' });
    }
    expect(containerOf(shortTemplate, short, short.gateway.taskDefinition).StopTimeout).toBe(15);
  });

  it('registers container port 8000 of the gateway container with the target group; the operations port is mapped beside it', () => {
    expect(template).toHaveResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'gateway',
          PortMappings: [
            { ContainerPort: 8000, Protocol: 'tcp', Name: 'http' },
            { ContainerPort: OPS_PORT, Protocol: 'tcp', Name: 'ops' },
          ],
        }),
      ],
    });
    expect(template).toHaveResourceProperties('AWS::ECS::Service', {
      LoadBalancers: [
        { ContainerName: 'gateway', ContainerPort: 8000, TargetGroupArn: ref(stack, stack.loadBalancer.apiTargetGroup) },
        { ContainerName: 'gateway', ContainerPort: 8000, TargetGroupArn: ref(stack, stack.loadBalancer.uiTargetGroup) },
      ],
    });
  });

  it('keeps /metrics off the load balancer (fixed 404), forwarding everything else', () => {
    keepsMetricsOff(template, ref(stack, stack.loadBalancer.servingListener));
  });

  it('outputs the ALB DNS name and the http:// /ui URL', () => {
    expect(template).toHaveOutput('LoadBalancerDnsName', { Value: { 'Fn::GetAtt': [Match.anyValue(), 'DNSName'] } });
    expect(template).toHaveOutput('UiUrl', {
      Value: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [Match.anyValue(), 'DNSName'] }, '/ui']] },
    });
  });
});

describe('load balancer routing with a certificate', () => {
  const { stack, template } = synth({ certificateArn: CERTIFICATE_ARN });

  it('serves HTTPS:443 with the certificate and forwards to the gateway', () => {
    expect(template).toHaveResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CERTIFICATE_ARN }],
      SslPolicy: Match.stringLikeRegexp('TLS13'),
      DefaultActions: [{ Type: 'forward', TargetGroupArn: ref(stack, stack.loadBalancer.apiTargetGroup) }],
    });
  });

  it('redirects HTTP:80 to HTTPS:443 permanently', () => {
    expect(template).toHaveResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
    });
    expect(template).toHaveResourceCount('AWS::ElasticLoadBalancingV2::Listener', 2);
  });

  it('keeps /metrics off the HTTPS listener', () => {
    keepsMetricsOff(template, ref(stack, stack.loadBalancer.servingListener));
  });

  it("sends the UI's paths to the sticky target group on the HTTPS listener (80 only redirects)", () => {
    sendsTheUiToItsTargetGroup({ stack, template });
  });

  it('outputs an https:// /ui URL', () => {
    const outputs = template.findOutputs('UiUrl');
    expect(JSON.stringify(outputs)).toContain('"https://"');
  });
});
