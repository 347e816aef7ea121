import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { GatewayAlarms } from './alarms.js';
import { GatewayDashboard } from './dashboard.js';
import { EcsEventLog } from './ecs-event-log.js';
import { ECS_NAMES, GatewayService, LOG_LEVELS, type LogLevel } from './gateway-service.js';
import { DEREGISTRATION_DELAY_MARGIN_SECONDS, GATEWAY_REQUEST_TIMEOUT_MS, LoadBalancer } from './load-balancer.js';
import { IPV4, IPV4_CIDR, Network, ipv4InCidr } from './network.js';
import { GatewayQueries } from './saved-queries.js';
import { assertNoProblems, isIntegerIn } from './validation.js';

/** Everything an operator may choose; bin/app.ts fills it from cdk.json context / `-c key=value`. */
export interface GatewaySettings {
  /** No default (GatewayService, IMAGE_NOT_SET): the image is the one setting every deploy gives. */
  readonly image?: string;
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly desiredCount: number;
  readonly maxCount: number;
  readonly natGateways: number;
  readonly logRetentionDays: number;
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
  readonly graphiqlEnabled: boolean;
  /** DOCS_ENABLED: /docs (Swagger UI, whose "Try it out" sends real requests) and /redoc; GET /openapi.json is served either way. */
  readonly docsEnabled: boolean;
  /** CORS_ORIGINS: the browser origins allowed to call the gateway, comma-separated; unset, CORS is closed. */
  readonly corsOrigins?: string;
  /** MLFLOW_STRICT: a task that cannot load the MLflow model exits instead of serving the packaged one. */
  readonly mlflowStrict: boolean;
  readonly cpuTargetPercent: number;
  readonly requestsPerTarget: number;
  readonly fiveXxRatePercent: number;
  /** All requests' p99 at the ALB, in seconds: the stall backstop (GatewayAlarms). */
  readonly p99LatencySeconds: number;
  /** Single predictions' p99 by the gateway's access lines, in milliseconds (GatewayAlarms). */
  readonly singlePredictionP99Ms: number;
  readonly certificateArn?: string;
  readonly adminTokenSecretArn?: string;
  /** Secret with JSON {"username", "password"}: MLFLOW_TRACKING_USERNAME/PASSWORD. */
  readonly mlflowCredentialsSecretArn?: string;
  /** Secret whose value is MLFLOW_TRACKING_TOKEN. */
  readonly mlflowTokenSecretArn?: string;
  /** The customer-managed KMS key the secrets above are encrypted with, when not Secrets Manager's default key. */
  readonly secretsKmsKeyArn?: string;
  readonly modelDir?: string;
  readonly modelUri?: string;
  readonly mlflowTrackingUri?: string;
  readonly mlflowPort?: number;
  readonly mlflowCidr?: string;
  readonly alarmTopicArn?: string;
  /** A security group allowed to reach the tasks on 8000 and OPS_PORT, for a Prometheus scraper's GET /metrics (Network). */
  readonly metricsScraperSecurityGroupId?: string;
}

export const DEFAULT_SETTINGS: GatewaySettings = Object.freeze({
  cpu: 512,
  memoryMiB: 1024,
  desiredCount: 2,
  maxCount: 6,
  natGateways: 1,
  logRetentionDays: 30,
  logLevel: 'info',
  shutdownTimeoutMs: 20000,
  graphiqlEnabled: false,
  // The gateway's own default: the prototype's REST callers kept /docs bookmarked, and it sends
  // nothing POST /predict does not take from anyone; `-c docsEnabled=false` turns it off.
  docsEnabled: true,
  // The gateway's own default. Strict makes every task start (deploy, scale-out, replacement)
  // depend on MLflow answering; lenient serves the packaged model, says so in GET / and
  // modelInfo.notice, and the poller swaps the MLflow model in once it answers.
  mlflowStrict: false,
  cpuTargetPercent: 60,
  // ALB requests per task per minute: 60,000/min = 1,000 req/s per 0.5-vCPU task. An estimate, not
  // measured on Fargate. The bench figures (docs/performance.md, "Where the CPU goes": event loop 30–39 µs per REST
  // request plus the inference worker's share) come to ≈ 40–50 µs of CPU per /predict on that
  // machine, ≈ 6k req/s per 0.5 vCPU at the 60% CPU target. 1,000 req/s is deliberately below that
  // (≈ 6× margin for a slower Fargate vCPU, less coalescing at low concurrency, costlier GraphQL,
  // larger requests): if tasks are as fast as the bench it scales out before CPU does, erring toward
  // more tasks; if they are ≈ 6× slower the two policies agree. The former 1,000/min (≈ 17 req/s per
  // task) drove the service to maxCount at ≈ 100 req/s in total, with the CPU nearly idle.
  // Scale it with `cpu` and replace it with a load-test figure (see infra/README.md, Scaling).
  requestsPerTarget: 60_000,
  fiveXxRatePercent: 5,
  // Every request's p99 at the ALB, batches included: a stall backstop. A 10,000-row batch (MAX_BATCH)
  // takes tens to hundreds of ms on the bench's machine (docs/performance.md) and more on a 0.5-vCPU task,
  // so the former 1 s could be a few batches' time in a quiet minute; 5 s is a stall.
  p99LatencySeconds: 5,
  // The product's promise (README, Performance: p99 ≤ 10 ms for single predictions).
  singlePredictionP99Ms: 10,
});

/**
 * Levels at which the gateway writes its access lines (at info): the single-prediction latency
 * alarm reads them, and at warn, error or fatal it would never see one.
 */
export const LEVELS_WITH_ACCESS_LINES: readonly LogLevel[] = ['info', 'debug', 'trace'];

/**
 * The refusal of a logLevel the stack does not run: the levels it does, and why. One message for
 * a gateway level that drops the access lines (warn, silent) and for one the gateway does not know.
 */
function logLevelProblem(level: string): string {
  const head = `logLevel must be one of ${LEVELS_WITH_ACCESS_LINES.join(', ')}, got "${level}": `;
  return (LOG_LEVELS as readonly string[]).includes(level)
    ? `${head}at ${level} the gateway drops its access lines (written at info), which the single-prediction latency alarm and the request telemetry read, so that alarm would never fire (lower logRetentionDays to cut log cost)`
    : `${head}the gateway writes its access lines at info, and the single-prediction latency alarm and the request telemetry read them`;
}

/** Seconds between the gateway's drain deadline and ECS's SIGKILL. */
const DRAIN_HEADROOM_SECONDS = 10;
/** The longest stopTimeout Fargate allows, in seconds. */
const FARGATE_MAX_STOP_TIMEOUT_SECONDS = 120;
/** shutdownTimeoutMs' range: at least 1 s to drain, and at most what leaves the headroom within Fargate's stopTimeout. */
const SHUTDOWN_TIMEOUT_MS_RANGE = [1000, (FARGATE_MAX_STOP_TIMEOUT_SECONDS - DRAIN_HEADROOM_SECONDS) * 1000] as const;

export interface GatewayStackProps extends StackProps {
  readonly settings: GatewaySettings;
}

/** The churn prediction gateway on ECS Fargate behind an internet-facing ALB. */
export class GatewayStack extends Stack {
  public readonly network: Network;
  public readonly loadBalancer: LoadBalancer;
  public readonly gateway: GatewayService;
  public readonly alarms: GatewayAlarms;
  public readonly ecsEvents: EcsEventLog;
  public readonly queries: GatewayQueries;
  public readonly dashboard: GatewayDashboard;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props);
    const s = props.settings;
    // The ALB is internet-facing: without a certificate it serves plain HTTP, and the admin token
    // (Authorization: Bearer on every reloadModel call) would be readable on every hop to it.
    assertNoProblems(
      'GatewayStack',
      s.adminTokenSecretArn !== undefined && s.certificateArn === undefined
        ? ['adminTokenSecretArn needs certificateArn: without it the internet-facing ALB serves plain HTTP, and every reloadModel call would send ADMIN_TOKEN in clear text']
        : [],
    );
    assertNoProblems('GatewayStack', LEVELS_WITH_ACCESS_LINES.includes(s.logLevel) ? [] : [logLevelProblem(s.logLevel)]);
    const [minShutdownMs, maxShutdownMs] = SHUTDOWN_TIMEOUT_MS_RANGE;
    // Named as the operator sets it: the stopTimeout it is derived into is no setting.
    assertNoProblems(
      'GatewayStack',
      isIntegerIn(s.shutdownTimeoutMs, minShutdownMs, maxShutdownMs)
        ? []
        : [
            `shutdownTimeoutMs must be an integer ${minShutdownMs.toLocaleString('en-US')}–${maxShutdownMs.toLocaleString('en-US')}, got ${s.shutdownTimeoutMs}: ` +
              `ECS waits ⌈ms/1000⌉ + ${DRAIN_HEADROOM_SECONDS} s after SIGTERM before killing the gateway, and Fargate allows at most ${FARGATE_MAX_STOP_TIMEOUT_SECONDS} s`,
          ],
    );
    const retention = retentionDays(s.logRetentionDays);
    // Stopping a task: ECS deregisters it, the ALB lets its in-flight requests finish for the
    // deregistration delay (each runs at most the gateway's request timeout, and reaches the ALB
    // within the margin after it), then ECS sends SIGTERM and waits stopTimeout (the gateway's
    // drain plus headroom) before SIGKILL.
    const deregistrationDelaySeconds = Math.ceil(GATEWAY_REQUEST_TIMEOUT_MS / 1000) + DEREGISTRATION_DELAY_MARGIN_SECONDS;
    const stopTimeoutSeconds = Math.ceil(s.shutdownTimeoutMs / 1000) + DRAIN_HEADROOM_SECONDS;

    this.network = new Network(this, 'Network', {
      natGateways: s.natGateways,
      httpsEnabled: s.certificateArn !== undefined,
      flowLogRetention: retention,
      mlflowEgress: mlflowEgress(s),
      metricsScraperSecurityGroupId: s.metricsScraperSecurityGroupId,
    });
    this.loadBalancer = new LoadBalancer(this, 'LoadBalancer', {
      vpc: this.network.vpc,
      securityGroup: this.network.albSecurityGroup,
      certificateArn: s.certificateArn,
      deregistrationDelaySeconds,
    });
    this.gateway = new GatewayService(this, 'Gateway', {
      vpc: this.network.vpc,
      securityGroup: this.network.taskSecurityGroup,
      apiTargetGroup: this.loadBalancer.apiTargetGroup,
      uiTargetGroup: this.loadBalancer.uiTargetGroup,
      image: s.image,
      cpu: s.cpu,
      memoryMiB: s.memoryMiB,
      desiredCount: s.desiredCount,
      maxCount: s.maxCount,
      cpuTargetPercent: s.cpuTargetPercent,
      requestsPerTarget: s.requestsPerTarget,
      logRetention: retention,
      logLevel: s.logLevel,
      shutdownTimeoutMs: s.shutdownTimeoutMs,
      stopTimeoutSeconds,
      graphiqlEnabled: s.graphiqlEnabled,
      docsEnabled: s.docsEnabled,
      corsOrigins: s.corsOrigins,
      modelDir: s.modelDir,
      modelUri: s.modelUri,
      mlflowTrackingUri: s.mlflowTrackingUri,
      mlflowStrict: s.mlflowStrict,
      adminTokenSecretArn: s.adminTokenSecretArn,
      mlflowCredentialsSecretArn: s.mlflowCredentialsSecretArn,
      mlflowTokenSecretArn: s.mlflowTokenSecretArn,
      secretsKmsKeyArn: s.secretsKmsKeyArn,
    });
    this.alarms = new GatewayAlarms(this, 'Alarms', {
      loadBalancer: this.loadBalancer.alb,
      targetGroup: this.loadBalancer.apiTargetGroup,
      fiveXxRatePercent: s.fiveXxRatePercent,
      p99LatencySeconds: s.p99LatencySeconds,
      gatewayLogGroup: this.gateway.logGroup,
      singlePredictionP99Ms: s.singlePredictionP99Ms,
      alarmTopicArn: s.alarmTopicArn,
      cluster: this.gateway.cluster,
      service: this.gateway.service,
    });
    this.ecsEvents = new EcsEventLog(this, 'EcsEvents', {
      cluster: this.gateway.cluster,
      service: this.gateway.service,
      retention,
    });
    this.queries = new GatewayQueries(this, 'Queries', {
      gatewayLogGroup: this.gateway.logGroup,
      ecsEventsLogGroup: this.ecsEvents.logGroup,
    });
    this.dashboard = new GatewayDashboard(this, 'Dashboard', {
      alarms: this.alarms,
      targetGroup: this.loadBalancer.apiTargetGroup,
      service: this.gateway.service,
      desiredCount: s.desiredCount,
      maxCount: s.maxCount,
      cpuTargetPercent: s.cpuTargetPercent,
      savedQueryNames: this.queries.names,
    });

    new CfnOutput(this, 'LoadBalancerDnsName', {
      description: 'DNS name of the ALB (point your domain CNAME/alias here)',
      value: this.loadBalancer.alb.loadBalancerDnsName,
    });
    // Where a Prometheus scraper of GET /metrics runs (metricsScraperSecurityGroupId): the tasks have no other way in.
    new CfnOutput(this, 'VpcId', { description: "The stack's VPC: a Prometheus scraper for the tasks' /metrics runs here (metricsScraperSecurityGroupId)", value: this.network.vpc.vpcId });
    new CfnOutput(this, 'DashboardUrl', {
      description: 'The CloudWatch dashboard: alarms, traffic, latency against the alarm thresholds, targets, tasks, CPU and memory',
      value: this.dashboard.url,
    });
    new CfnOutput(this, 'UiUrl', {
      description: 'The gateway UI',
      value: `${this.loadBalancer.protocol}://${this.loadBalancer.alb.loadBalancerDnsName}/ui`,
    });
    // The fixed names the release workflow's ECS deploy uses (ECS_NAMES; .github/workflows/release.yml).
    new CfnOutput(this, 'ClusterName', { description: 'ECS cluster (release.yml ECS_CLUSTER)', value: this.gateway.cluster.clusterName });
    new CfnOutput(this, 'ServiceName', { description: 'ECS service (release.yml ECS_SERVICE)', value: this.gateway.service.serviceName });
    new CfnOutput(this, 'TaskDefinitionFamily', {
      description: 'Task definition family (release.yml ECS_TASK_FAMILY)',
      value: this.gateway.taskDefinition.family,
    });
    new CfnOutput(this, 'ContainerName', { description: 'Gateway container (release.yml ECS_CONTAINER_NAME)', value: ECS_NAMES.container });

    acknowledgeNagFindings(this);
  }
}

function retentionDays(days: number): logs.RetentionDays {
  // A numeric enum's Object.values are its member names (strings) and its values (numbers, all > 0).
  const valid: number[] = Object.values(logs.RetentionDays).filter((v) => typeof v === 'number');
  assertNoProblems(
    'GatewayStack',
    valid.includes(days) ? [] : [`logRetentionDays must be one of CloudWatch's retention periods (${valid.join(', ')}), got ${days}`],
  );
  return days; // one of the enum's values, checked above (a number is assignable to a numeric enum)
}

/**
 * Egress the tasks need to reach MLflow: the port of mlflowTrackingUri unless mlflowPort says it,
 * in mlflowCidr (default: the VPC). Without it the task security group allows only 443, and a
 * gateway that cannot reach MLflow does not fail: it retries, then serves its packaged bundle
 * with a warning (src/model/startup.ts), i.e. the wrong model. So the rule follows the URI, and
 * an mlflowPort the URI does not use is refused rather than opened; so are mlflowPort and
 * mlflowCidr without a URI, which would open a port nothing uses, or change nothing.
 */
function mlflowEgress(s: GatewaySettings): { port: number; cidr?: string } | undefined {
  const uriPort = s.mlflowTrackingUri === undefined ? undefined : portOfHttpUrl(s.mlflowTrackingUri);
  const problems: string[] = [];
  if (uriPort !== undefined && s.mlflowTrackingUri !== undefined) problems.push(...mlflowHostProblems(s.mlflowTrackingUri, s.mlflowCidr));
  if (uriPort !== undefined && s.mlflowPort !== undefined && s.mlflowPort !== uriPort) {
    problems.push(
      `mlflowPort ${s.mlflowPort} disagrees with mlflowTrackingUri "${s.mlflowTrackingUri}", which connects to port ${uriPort}: ` +
        'the tasks could not reach MLflow and would serve the packaged model; leave mlflowPort out (it follows the URI) or make them agree',
    );
  }
  if (s.mlflowTrackingUri === undefined) {
    if (s.mlflowPort !== undefined) {
      problems.push(`mlflowPort needs mlflowTrackingUri: it opens the tasks' egress to the MLflow server that URI names, and without one it would open port ${s.mlflowPort} for nothing`);
    }
    if (s.mlflowCidr !== undefined) {
      problems.push('mlflowCidr needs mlflowTrackingUri: it says where the tasks may reach the MLflow server that URI names, and without one it would change nothing');
    }
  }
  assertNoProblems('GatewayStack', problems);
  const port = s.mlflowPort ?? uriPort;
  return port === undefined ? undefined : { port, cidr: s.mlflowCidr };
}

/**
 * What synth can tell about the tracking URI's host without resolving a name: a loopback host is
 * the task itself (docs/mlflow.md's local http://127.0.0.1:5000, copied), and an IPv4 address
 * outside mlflowCidr (else the VPC's range) or any IPv6 address is one the egress rule does not open. Either way the
 * tasks cannot reach MLflow and serve the packaged model, which no deploy step reports.
 */
function mlflowHostProblems(uri: string, mlflowCidr: string | undefined): string[] {
  const host = new URL(uri).hostname;
  const unreachable = 'the tasks could not reach MLflow and would serve the packaged model';
  if (host === 'localhost' || host.endsWith('.localhost') || host === '[::1]' || host === '0.0.0.0' || (IPV4.test(host) && ipv4InCidr(host, '127.0.0.0/8'))) {
    return [`mlflowTrackingUri "${uri}" names the task itself (${host} is its loopback), where no MLflow server runs: ${unreachable}; give an address of the MLflow server the tasks can reach`];
  }
  // WHATWG URL writes an IPv6 host in brackets. The VPC has no IPv6 range and the egress rule to
  // MLflow is an IPv4 one, so no IPv6 address is reachable (an IPv4-mapped [::ffff:…] included).
  if (host.startsWith('[')) {
    return [`mlflowTrackingUri "${uri}" connects to ${host}, an IPv6 address, but the VPC and the egress rule to MLflow are IPv4 only: ${unreachable}; give an IPv4 address or a host name`];
  }
  const cidr = mlflowCidr ?? ec2.Vpc.DEFAULT_CIDR_RANGE;
  // A malformed mlflowCidr is Network's to report.
  if (!IPV4.test(host) || !IPV4_CIDR.test(cidr) || ipv4InCidr(host, cidr)) return [];
  const range = mlflowCidr === undefined ? `the VPC's ${cidr} (mlflowCidr unset)` : `mlflowCidr ${cidr}`;
  return [`mlflowTrackingUri "${uri}" connects to ${host}, outside ${range}, the only range the tasks may reach MLflow in: ${unreachable}; set mlflowCidr to a range that holds it, e.g. ${host}/32`];
}

/**
 * The TCP port an http(s) URL connects to: its own, else the scheme's (80, 443). undefined when
 * it is not an http(s) URL; GatewayService reports that.
 */
export function portOfHttpUrl(uri: string): number | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  // WHATWG URL drops a port equal to the scheme's default ("http://x:80" has port "").
  return url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
}

/** cdk-nag AwsSolutions findings that are accepted by design, each with its reason. */
function acknowledgeNagFindings(stack: GatewayStack): void {
  Validations.of(stack.network.albSecurityGroup).acknowledge({
    id: 'AwsSolutions-EC23',
    reason: "Internet-facing ALB of a public API: 0.0.0.0/0 is allowed only on 80/443; tasks accept traffic only from this group (and the operator's metrics scraper group, when metricsScraperSecurityGroupId is set).",
  });
  Validations.of(stack.loadBalancer.alb).acknowledge({
    id: 'AwsSolutions-ELB2',
    reason:
      'Who called and what they got comes from the gateway: the access line of every request it routes, health checks and scrapes aside, ' +
      'names the caller (the address the ALB appends to X-Forwarded-For, read with TRUSTED_PROXY_HOPS=1) and its user agent with the route, status and latency; ' +
      'a request refused before its headers were read is logged with the ALB node it came through, and Prometheus /metrics counts them. ' +
      'The ALB CloudWatch metrics count what the ALB answers itself (its own 4xx and 5xx), without their callers; ' +
      'S3 access logs, which would name those callers too, add a bucket and cost and can be enabled when compliance requires them.',
  });
  Validations.of(stack.gateway.taskDefinition).acknowledge({
    id: 'AwsSolutions-ECS2',
    reason: 'The plain environment variables are non-secret settings (port, log level, model URIs); ADMIN_TOKEN and the MLflow credentials come from Secrets Manager.',
  });
}
