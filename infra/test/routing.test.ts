import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ALB_IDLE_TIMEOUT_SECONDS, GATEWAY_REQUEST_TIMEOUT_MS, METRICS_RULE_PRIORITY, STICKINESS_SECONDS } from '../lib/load-balancer.js';
import { CERTIFICATE_ARN, containerOf, ref, synth } from './helpers.js';

/** The serving listener answers /metrics itself (404), never forwarding it to the gateway. */
function keepsMetricsOff(template: ReturnType<typeof synth>['template'], listener: object): void {
  expect(template).toHaveResourceCount('AWS::ElasticLoadBalancingV2::ListenerRule', 1);
  expect(template).toHaveResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
    ListenerArn: listener,
    Priority: METRICS_RULE_PRIORITY,
    Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/metrics', '/metrics/*'] } }],
    Actions: [{ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404', ContentType: 'application/problem+json' }) }],
  });
}

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
      ]),
    });
  });

  it('has exactly one listener: HTTP:80 forwarding to the gateway target group', () => {
    expect(template).toHaveResourceCount('AWS::ElasticLoadBalancingV2::Listener', 1);
    expect(template).toHaveResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: ref(stack, stack.loadBalancer.targetGroup) }],
    });
  });

  it('targets task IPs on port 8000 with a GET / health check expecting 200', () => {
    expect(template).toHaveResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8000,
      Protocol: 'HTTP',
      TargetType: 'ip',
      HealthCheckPath: '/',
      Matcher: { HttpCode: '200' },
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
    });
  });

  it("keeps a browser on one task for an hour (lb_cookie), so a page's hashed assets come from the build that named them during a rolling deploy", () => {
    expect(template).toHaveResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'stickiness.enabled', Value: 'true' },
        { Key: 'stickiness.type', Value: 'lb_cookie' },
        { Key: 'stickiness.lb_cookie.duration_seconds', Value: String(STICKINESS_SECONDS) },
      ]),
    });
  });

  it("keeps deregistering targets draining for the gateway's request timeout (30 s), which the task environment sets", () => {
    expect(template).toHaveResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]),
    });
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
    expect(shortTemplate).toHaveResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]),
    });
    expect(containerOf(shortTemplate, short, short.gateway.taskDefinition).StopTimeout).toBe(15);
  });

  it('registers container port 8000 of the gateway container with the target group', () => {
    expect(template).toHaveResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Name: 'gateway', PortMappings: [Match.objectLike({ ContainerPort: 8000, Protocol: 'tcp' })] })],
    });
    expect(template).toHaveResourceProperties('AWS::ECS::Service', {
      LoadBalancers: [{ ContainerName: 'gateway', ContainerPort: 8000, TargetGroupArn: ref(stack, stack.loadBalancer.targetGroup) }],
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
      DefaultActions: [{ Type: 'forward', TargetGroupArn: ref(stack, stack.loadBalancer.targetGroup) }],
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

  it('outputs an https:// /ui URL', () => {
    const outputs = template.findOutputs('UiUrl');
    expect(JSON.stringify(outputs)).toContain('"https://"');
  });
});
