import { Duration } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { GATEWAY_PORT, OPS_PORT } from './network.js';
import { ACM_CERTIFICATE_ARN, assertNoProblems, isIntegerIn } from './validation.js';

/**
 * The ALB idle timeout. The gateway's KEEP_ALIVE_TIMEOUT_MS (its default, src/config.ts: the task does
 * not set it) must stay above it so the ALB closes idle connections first; test/gateway-config.test.ts checks.
 */
export const ALB_IDLE_TIMEOUT_SECONDS = 60;

/**
 * The gateway's REQUEST_TIMEOUT_MS, written to the task environment: the longest a request the
 * gateway accepted runs before it answers 503 REQUEST_TIMEOUT. Below the ALB idle timeout, so the
 * gateway, not the ALB (504), answers a request that runs out of time; the ALB's deregistration
 * delay is derived from it, so a request accepted before a task is deregistered can finish.
 */
export const GATEWAY_REQUEST_TIMEOUT_MS = 30_000;

/**
 * How much longer than GATEWAY_REQUEST_TIMEOUT_MS the ALB lets a deregistering task's requests run.
 * The gateway's clock starts when Node has parsed a request, after the ALB sent it (later still
 * when a busy event loop reads it late, and its timer fires late the same way), and its answer
 * still has to reach the ALB: with the delay equal to the timeout, an answer written in the
 * timeout's last moment arrived after the drain ended, and the ALB cut it (502). 5 s is far more
 * than that hop and a loaded task's event-loop lag, and adds 5 s to a task's stop.
 */
export const DEREGISTRATION_DELAY_MARGIN_SECONDS = 5;

/**
 * Proxies in front of the gateway that append the address they saw to X-Forwarded-For: the ALB
 * alone (its processing pinned to `append`, without the client's port). The task sets the gateway's
 * TRUSTED_PROXY_HOPS to it, so the `client` its log lines name is the address the ALB saw, not an
 * entry a caller wrote into its own X-Forwarded-For (the gateway believes only the right-most one).
 */
export const PROXY_HOPS_IN_FRONT = 1;

/**
 * How long the ALB keeps a browser on the task that served it (lb_cookie stickiness, on the UI's
 * target group only): a page and the assets and workers it loads after it, GraphiQL's included,
 * come from one build. An hour: a session's pages, not a day's, so scaling out still spreads
 * browsers within the hour.
 */
export const STICKINESS_SECONDS = 3600;

/**
 * The paths whose answers must come from one build, forwarded to the sticky UI target group: the
 * pages that name their build's content-hashed files (/ui, /ui/batch, /ui/graphiql and /docs,
 * Swagger UI) and those files (/ui/assets/…, /docs's included). Everything else those pages call
 * is the same on any build (/graphql, /openapi.json, POST /predict from /docs' "Try it out") and
 * stays on the API's target group, balanced per request. `/docs/*` is a 404 on every build; it is
 * listed so that /docs/ (the page, with a slash) is sticky too.
 */
export const UI_PATHS = ['/ui', '/ui/*', '/docs', '/docs/*'] as const;

export interface LoadBalancerProps {
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  /** ACM certificate ARN; when set, HTTPS:443 serves traffic and HTTP:80 redirects to it. */
  readonly certificateArn?: string;
  /**
   * How long the ALB lets in-flight requests finish on a deregistering task, before ECS sends it
   * SIGTERM: must cover the longest request (GATEWAY_REQUEST_TIMEOUT_MS) with a margin
   * (DEREGISTRATION_DELAY_MARGIN_SECONDS).
   */
  readonly deregistrationDelaySeconds: number;
}

/**
 * Internet-facing ALB in the public subnets with two IP target groups for the gateway's port 8000,
 * the same tasks in both: the API's (the listener's default), balanced per request, and the UI's
 * (UI_PATHS), sticky. Both send their health checks to the operations port (OPS_PORT).
 */
export class LoadBalancer extends Construct {
  public readonly alb: elbv2.ApplicationLoadBalancer;
  /** Every path but UI_PATHS and /metrics: not sticky, so a client that keeps cookies is still balanced per request. */
  public readonly apiTargetGroup: elbv2.ApplicationTargetGroup;
  /** UI_PATHS, sticky for STICKINESS_SECONDS (the ALB's AWSALB cookie). */
  public readonly uiTargetGroup: elbv2.ApplicationTargetGroup;
  /** The listener that serves traffic (HTTPS when a certificate is given, HTTP otherwise). */
  public readonly servingListener: elbv2.ApplicationListener;
  public readonly protocol: 'http' | 'https';

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    validateLoadBalancerProps(props);

    // Public entry point; idle timeout pinned below the gateway's keep-alive timeout to avoid 502s on reused connections.
    this.alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup: props.securityGroup,
      idleTimeout: Duration.seconds(ALB_IDLE_TIMEOUT_SECONDS),
      dropInvalidHeaderFields: true,
      // PROXY_HOPS_IN_FRONT: the caller's address appended, as the gateway reads it.
      xffHeaderProcessingMode: elbv2.XffHeaderProcessingMode.APPEND,
    });
    // An address without the caller's port (the default, written so it stays so: CDK writes only `true`).
    this.alb.setAttribute('routing.http.xff_client_port.enabled', 'false');

    // The two target groups differ only in stickiness: the same tasks, health check and drain.
    // IP targets (awsvpc tasks) on 8000; health check GET / must return 200, which the gateway only does when ready,
    // sent to OPS_PORT: on 8000 it would wait behind every connection queued there (network.ts, OPS_PORT).
    const gatewayTargets = {
      vpc: props.vpc,
      targetType: elbv2.TargetType.IP,
      protocol: elbv2.ApplicationProtocol.HTTP,
      port: GATEWAY_PORT,
      deregistrationDelay: Duration.seconds(props.deregistrationDelaySeconds),
      healthCheck: {
        port: String(OPS_PORT),
        path: '/',
        healthyHttpCodes: '200',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    } satisfies elbv2.ApplicationTargetGroupProps;
    // The API (POST /predict, /graphql, GET /, /openapi.json): balanced per request, cookies or not.
    // Sticky, a client that keeps cookies (a requests.Session, a Java cookie manager) stored AWSALB
    // and sent all its requests to one task, however many tasks scaling added. The construct id
    // is the one the single, formerly sticky target group had, so a deploy updates it in place.
    this.apiTargetGroup = new elbv2.ApplicationTargetGroup(this, 'GatewayTargets', gatewayTargets);
    // The UI (UI_PATHS): a browser sticks to one task (the ALB's AWSALB cookie). A page names its
    // build's hashed assets (app.<hash>.js), and a rolling deploy runs old and new tasks side by
    // side, so without it a page from an old task had its assets asked of a new one, which has
    // only its own (404: the form never rendered).
    this.uiTargetGroup = new elbv2.ApplicationTargetGroup(this, 'UiTargets', {
      ...gatewayTargets,
      stickinessCookieDuration: Duration.seconds(STICKINESS_SECONDS),
    });

    if (props.certificateArn) {
      this.protocol = 'https';
      // HTTPS listener terminating TLS with the given ACM certificate and a current TLS policy.
      this.servingListener = this.alb.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        open: false,
        defaultAction: elbv2.ListenerAction.forward([this.apiTargetGroup]),
      });
      // HTTP listener that only redirects to HTTPS, so no plaintext request reaches the gateway.
      this.alb.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      });
    } else {
      this.protocol = 'http';
      // HTTP listener forwarding to the gateway (no certificate given).
      this.servingListener = this.alb.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultAction: elbv2.ListenerAction.forward([this.apiTargetGroup]),
      });
    }
    // The gateway's Prometheus endpoint (Node version, heap, the run id, the operation names
    // clients send) is for a scraper inside the VPC, not for the internet.
    this.servingListener.addAction('NoMetrics', {
      priority: METRICS_RULE_PRIORITY,
      conditions: [elbv2.ListenerCondition.pathPatterns(['/metrics', '/metrics/*'])],
      action: elbv2.ListenerAction.fixedResponse(404, {
        contentType: 'application/problem+json',
        messageBody: '{"type":"about:blank","title":"Not Found","status":404,"detail":"/metrics is not served through the load balancer"}',
      }),
    });
    // The UI's pages and files go to the sticky target group; everything else to the API's (the default).
    this.servingListener.addAction('Ui', {
      priority: UI_RULE_PRIORITY,
      conditions: [elbv2.ListenerCondition.pathPatterns([...UI_PATHS])],
      action: elbv2.ListenerAction.forward([this.uiTargetGroup]),
    });
  }
}

/** Priority of the listener rule that keeps /metrics off the load balancer. */
export const METRICS_RULE_PRIORITY = 10;
/** Priority of the listener rule that sends UI_PATHS to the sticky UI target group (after /metrics; the two never overlap). */
export const UI_RULE_PRIORITY = 20;

function validateLoadBalancerProps(props: LoadBalancerProps): void {
  const problems: string[] = [];
  if (props.certificateArn !== undefined && !ACM_CERTIFICATE_ARN.test(props.certificateArn)) {
    problems.push(
      `certificateArn must be an ACM certificate ARN like arn:aws:acm:eu-west-1:123456789012:certificate/<uuid>, got "${props.certificateArn}"`,
    );
  }
  if (!isIntegerIn(props.deregistrationDelaySeconds, 0, 3600)) {
    problems.push(`deregistrationDelaySeconds must be an integer 0–3600, got ${props.deregistrationDelaySeconds}`);
  }
  assertNoProblems('LoadBalancer', problems);
}
