import { Annotations, Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { corsOriginEntries, originProblem } from '../../src/cors-origins.js';
import { modelUriProblem } from '../../src/model/model-uri.js';
import { fargateSizeProblem } from './fargate-sizes.js';
import { imageReferenceProblem } from './image-reference.js';
import { GATEWAY_REQUEST_TIMEOUT_MS, PROXY_HOPS_IN_FRONT } from './load-balancer.js';
import { GATEWAY_PORT, OPS_PORT } from './network.js';
import { KMS_KEY_ARN, SECRETS_MANAGER_ARN, assertNoProblems, isIntegerIn } from './validation.js';

/** The gateway's LOG_LEVEL values (pino's levels; src/config.ts, which test/gateway-config.test.ts compares). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Fixed physical names of what the release workflow redeploys (.github/workflows/release.yml sets the
 * same names; test/delivery.test.ts checks they agree), also exported as stack outputs. The stack id
 * is fixed (bin/app.ts), so there is one such stack per account/region and the names cannot clash.
 */
export const ECS_NAMES = Object.freeze({
  cluster: 'churn-gateway',
  service: 'churn-gateway',
  taskFamily: 'churn-gateway',
  container: 'gateway',
});
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The least task memory (MiB) the gateway's defaults fit in. Request bodies set it, not the model
 * (ordinary load peaks at 170–250 MB of RSS: docs/performance.md): the task leaves
 * BODY_LIMIT_BYTES and MAX_BODY_BYTES_IN_FLIGHT (32 MiB of request bodies, counted as they
 * arrive) at the gateway's defaults, and src/config.ts measured 80 concurrent 4.4 MB batches
 * within that budget at 749 MB of RSS (a body is far larger parsed than sent). Bodies still
 * arriving add at most 64 KiB per connection beyond the budget (SMALL_BODY_BYTES, src/http.ts), of at
 * most MAX_CONNECTIONS (2,048: ~145 MB of RSS stalled, src/config.ts). Fargate's 512 MiB (537 MB) is below that; 1024 MiB, its next size, is
 * above it. Node also sizes V8's heap limit from the container's memory, so a smaller task gets a
 * smaller heap too. test/gateway-config.test.ts checks the defaults are still the ones measured.
 */
export const MIN_MEMORY_MIB = 1024;

/**
 * The error a synth without `image` records. Not a default image: one that an operator who forgot
 * `-c image=` (or passed an empty `$VARIABLE`) would deploy is someone else's (the upstream
 * project's `:latest`), or an older one of theirs.
 */
export const IMAGE_NOT_SET =
  'image is not set (an empty -c image= leaves it unset too): give the image the tasks run, -c image=docker.io/<user>/churn-gateway:<git sha>, ' +
  'on a running stack the one the service runs now (infra/README.md, "A deploy that never becomes healthy"). ' +
  "There is no default, so a deploy that forgets it stops here instead of running another repository's image; " +
  'cdk destroy and cdk bootstrap run without it';

/**
 * The task definition's image when `image` is unset, in a template that IMAGE_NOT_SET keeps from
 * being deployed (unless with --ignore-errors): a host in the reserved .invalid domain (RFC 2606),
 * which no DNS resolves, so no task could pull it from anyone.
 */
export const IMAGE_PLACEHOLDER = 'image-not-set.invalid/set-the-image-context:none';

export interface GatewayServiceProps {
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  /** The API's target group (the listener's default): the tasks register with it, and request-count scaling reads it. */
  readonly apiTargetGroup: elbv2.ApplicationTargetGroup;
  /** The UI's sticky target group (load-balancer.ts, UI_PATHS): the same tasks register with it too. */
  readonly uiTargetGroup: elbv2.ApplicationTargetGroup;
  /**
   * Container image reference, e.g. docker.io/<user>/churn-gateway:<git sha>. No default: unset, the
   * synth records an error (IMAGE_NOT_SET) that stops `cdk synth`, `diff` and `deploy`, and the task
   * definition names IMAGE_PLACEHOLDER, which nothing can pull. `cdk destroy` and `cdk bootstrap`,
   * which synthesize the app too but deploy nothing of it, still run without one.
   */
  readonly image?: string;
  /** Fargate CPU units and memory (MiB); must be one of Fargate's valid combinations. */
  readonly cpu: number;
  readonly memoryMiB: number;
  /**
   * Autoscaling minimum (the floor); at least 2 so both AZs serve. Not written to the service's
   * DesiredCount: registering the scalable target raises a new service to it, and leaving it out
   * means a later `cdk deploy` does not reset a scaled-out service to the floor.
   */
  readonly desiredCount: number;
  readonly maxCount: number;
  /** Target tracking set points: average CPU % and ALB requests per target per minute. */
  readonly cpuTargetPercent: number;
  readonly requestsPerTarget: number;
  readonly logRetention: logs.RetentionDays;
  readonly logLevel: LogLevel;
  /** The gateway's SHUTDOWN_TIMEOUT_MS; ECS stopTimeout is derived from it. */
  readonly shutdownTimeoutMs: number;
  /** Seconds ECS waits after SIGTERM before SIGKILL (Fargate maximum 120). */
  readonly stopTimeoutSeconds: number;
  readonly graphiqlEnabled: boolean;
  readonly docsEnabled: boolean;
  /**
   * CORS_ORIGINS: browser origins allowed to call the gateway, comma-separated, each exactly as a
   * browser sends Origin (https://app.example). Unset or empty: CORS closed, only same-origin pages.
   */
  readonly corsOrigins?: string;
  readonly modelDir?: string;
  readonly modelUri?: string;
  readonly mlflowTrackingUri?: string;
  /**
   * MLFLOW_STRICT, set whenever MLflow is: true makes a task that cannot load the MLflow model
   * exit (so a deploy fails and the circuit breaker rolls back) instead of serving the packaged one.
   */
  readonly mlflowStrict: boolean;
  /** Secrets Manager secret ARN whose value becomes ADMIN_TOKEN. */
  readonly adminTokenSecretArn?: string;
  /**
   * Secrets Manager secret ARN whose value is JSON {"username": "…", "password": "…"}: its keys become
   * MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (HTTP Basic). Needs mlflowTrackingUri; not with mlflowTokenSecretArn.
   */
  readonly mlflowCredentialsSecretArn?: string;
  /** Secrets Manager secret ARN whose value becomes MLFLOW_TRACKING_TOKEN (bearer). Needs mlflowTrackingUri. */
  readonly mlflowTokenSecretArn?: string;
  /**
   * ARN of the customer-managed KMS key the secrets are encrypted with: the execution role may then
   * decrypt with that key, through Secrets Manager only. Unset: Secrets Manager's default key
   * (aws/secretsmanager), which needs no grant. Needs one of the secrets.
   */
  readonly secretsKmsKeyArn?: string;
}

/** ECS cluster, Fargate task definition and service of the churn gateway, with autoscaling. */
export class GatewayService extends Construct {
  public readonly cluster: ecs.Cluster;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly container: ecs.ContainerDefinition;
  public readonly service: ecs.FargateService;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: GatewayServiceProps) {
    super(scope, id);
    validateGatewayServiceProps(props);
    if (props.image === undefined) Annotations.of(this).addError(IMAGE_NOT_SET);

    // Cluster with Container Insights, for per-task CPU/memory/network metrics beyond the service averages.
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      clusterName: ECS_NAMES.cluster,
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    // Gateway stdout (pino JSON), kept for a bounded period to cap storage cost.
    this.logGroup = new logs.LogGroup(this, 'GatewayLogs', { retention: props.logRetention });

    // Task size from props; x86_64 Linux matches the published image.
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: ECS_NAMES.taskFamily,
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      runtimePlatform: {
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
      },
    });
    // A `cdk deploy` that changes the task definition replaces it, and CloudFormation would then
    // deregister the revision it replaced; ECS moves no service onto an INACTIVE revision, so the
    // runbook's rollback (`update-service --task-definition churn-gateway:<n>`) could not go back to
    // it. Every revision stays registered (they cost nothing), after `cdk destroy` too.
    this.taskDefinition.applyRemovalPolicy(RemovalPolicy.RETAIN);
    // Task-local scratch at /tmp: the only writable path, since the root filesystem is read-only. On
    // Fargate it lives on the task's ephemeral storage (20 GiB by default, which also holds the
    // image) and is gone when the task stops. Fargate makes it root-owned 0755; the image's
    // VOLUME ["/tmp"] is what makes it the image's 1777 /tmp, writable by the gateway's uid 1000.
    this.taskDefinition.addVolume({ name: 'tmp' });

    const secrets: Record<string, ecs.Secret> = {};
    if (props.adminTokenSecretArn) {
      secrets.ADMIN_TOKEN = ecs.Secret.fromSecretsManager(
        secretsmanager.Secret.fromSecretCompleteArn(this, 'AdminToken', props.adminTokenSecretArn),
      );
    }
    if (props.mlflowCredentialsSecretArn) {
      // One secret, two JSON keys: ECS reads each key into its own variable at task start (a key
      // missing from the JSON fails the task start, so the circuit breaker rolls the deploy back).
      const credentials = secretsmanager.Secret.fromSecretCompleteArn(this, 'MlflowCredentials', props.mlflowCredentialsSecretArn);
      secrets.MLFLOW_TRACKING_USERNAME = ecs.Secret.fromSecretsManager(credentials, 'username');
      secrets.MLFLOW_TRACKING_PASSWORD = ecs.Secret.fromSecretsManager(credentials, 'password');
    }
    if (props.mlflowTokenSecretArn) {
      secrets.MLFLOW_TRACKING_TOKEN = ecs.Secret.fromSecretsManager(
        secretsmanager.Secret.fromSecretCompleteArn(this, 'MlflowToken', props.mlflowTokenSecretArn),
      );
    }

    // A secret encrypted with a customer-managed key: ECS's read of it fails (ResourceInitializationError,
    // every task start) unless the execution role may decrypt with that key. Only that key, and only
    // when Secrets Manager asks on the role's behalf.
    if (props.secretsKmsKeyArn) {
      this.taskDefinition.obtainExecutionRole().addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [props.secretsKmsKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${props.secretsKmsKeyArn.split(':')[3]}.amazonaws.com` } },
        }),
      );
    }

    // The gateway container: port 8000 and the operations port (the ALB's health checks), logs to
    // CloudWatch, stopTimeout above the gateway's own drain deadline.
    this.container = this.taskDefinition.addContainer(ECS_NAMES.container, {
      image: ecs.ContainerImage.fromRegistry(props.image ?? IMAGE_PLACEHOLDER),
      essential: true,
      portMappings: [
        { containerPort: GATEWAY_PORT, protocol: ecs.Protocol.TCP, name: 'http' },
        { containerPort: OPS_PORT, protocol: ecs.Protocol.TCP, name: 'ops' },
      ],
      environment: gatewayEnvironment(props),
      secrets,
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'gateway',
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
      stopTimeout: Duration.seconds(props.stopTimeoutSeconds),
      readonlyRootFilesystem: true,
    });
    this.container.addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });

    // Service in the private subnets of both AZs: zero-downtime rolling deploys, auto-rollback on failed deployments.
    // No desiredCount: with autoscaling, a DesiredCount in the template would reset a scaled-out service
    // to it on every `cdk deploy`. CloudFormation creates a new service with 1 task and registering the
    // scalable target below raises it to minCapacity; on updates the running count is left alone.
    this.service = new ecs.FargateService(this, 'Service', {
      serviceName: ECS_NAMES.service,
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [props.securityGroup],
      assignPublicIp: false,
      availabilityZoneRebalancing: ecs.AvailabilityZoneRebalancing.ENABLED,
      healthCheckGracePeriod: Duration.seconds(60),
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });
    // Every task in both target groups: ECS registers it with each and deregisters it from each
    // (both drain for the same delay) before it stops the task.
    for (const targetGroup of [props.apiTargetGroup, props.uiTargetGroup]) {
      targetGroup.addTarget(this.service.loadBalancerTarget({ containerName: this.container.containerName, containerPort: GATEWAY_PORT }));
    }

    // Horizontal scaling between desiredCount (the floor) and maxCount; tasks keep no state between requests, so any
    // task can answer any API request (a browser sticks to one for the UI's pages and assets only: load-balancer.ts).
    const scaling = this.service.autoScaleTaskCount({ minCapacity: props.desiredCount, maxCapacity: props.maxCount });
    scaling.scaleOnCpuUtilization('CpuScaling', {
      targetUtilizationPercent: props.cpuTargetPercent,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(180),
    });
    // The API's requests per task: the UI's pages and hashed files (its own target group) are cheap
    // and cached, and its predictions are /graphql requests, which the API's target group counts.
    scaling.scaleOnRequestCount('RequestScaling', {
      requestsPerTarget: props.requestsPerTarget,
      targetGroup: props.apiTargetGroup,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.seconds(180),
    });
  }
}

function gatewayEnvironment(props: GatewayServiceProps): Record<string, string> {
  const env: Record<string, string> = {
    PORT: String(GATEWAY_PORT),
    // GET / and GET /metrics only, where the ALB's health checks go (network.ts, OPS_PORT).
    OPS_PORT: String(OPS_PORT),
    LOG_LEVEL: props.logLevel,
    GRAPHIQL_ENABLED: String(props.graphiqlEnabled),
    DOCS_ENABLED: String(props.docsEnabled),
    SHUTDOWN_TIMEOUT_MS: String(props.shutdownTimeoutMs),
    // Written, not left to the gateway's default: the ALB's deregistration delay is derived from it.
    REQUEST_TIMEOUT_MS: String(GATEWAY_REQUEST_TIMEOUT_MS),
    // The ALB's X-Forwarded-For entry names the caller on every log line; entries before it are the caller's own.
    TRUSTED_PROXY_HOPS: String(PROXY_HOPS_IN_FRONT),
  };
  const corsOrigins = corsOriginEntries(props.corsOrigins ?? '');
  if (corsOrigins.length > 0) env.CORS_ORIGINS = corsOrigins.join(',');
  if (props.modelDir) env.MODEL_DIR = props.modelDir;
  if (props.modelUri) env.MODEL_URI = props.modelUri;
  if (props.mlflowTrackingUri) {
    env.MLFLOW_TRACKING_URI = props.mlflowTrackingUri;
    // Always written with MLflow, so the task definition shows which behaviour was chosen.
    env.MLFLOW_STRICT = String(props.mlflowStrict);
  }
  return env;
}

function validateGatewayServiceProps(props: GatewayServiceProps): void {
  const problems: string[] = [];
  const imageProblem = props.image === undefined ? undefined : imageReferenceProblem(props.image);
  if (imageProblem !== undefined) problems.push(imageProblem);
  const sizeProblem = fargateSizeProblem(props.cpu, props.memoryMiB);
  if (sizeProblem) problems.push(sizeProblem);
  else if (props.memoryMiB < MIN_MEMORY_MIB) {
    problems.push(
      `memoryMiB must be at least ${MIN_MEMORY_MIB}, got ${props.memoryMiB}: the gateway's default request-body budget (32 MiB of bodies in flight) ` +
        `was measured at 749 MB of memory with 80 concurrent 4.4 MB batches (src/config.ts), so a smaller task can run out of memory under batch load; with cpu ${props.cpu} use memoryMiB ${MIN_MEMORY_MIB}`,
    );
  }
  if (!Number.isInteger(props.desiredCount) || props.desiredCount < 2) {
    problems.push(`desiredCount must be an integer ≥ 2 so a task runs in each AZ, got ${props.desiredCount}`);
  }
  if (!Number.isInteger(props.maxCount) || props.maxCount < props.desiredCount) {
    problems.push(`maxCount must be an integer ≥ desiredCount (${props.desiredCount}), got ${props.maxCount}`);
  }
  if (!isIntegerIn(props.cpuTargetPercent, 10, 90)) {
    problems.push(`cpuTargetPercent must be an integer 10–90, got ${props.cpuTargetPercent}`);
  }
  if (!Number.isInteger(props.requestsPerTarget) || props.requestsPerTarget < 1) {
    problems.push(`requestsPerTarget must be a positive integer (requests per task per minute), got ${props.requestsPerTarget}`);
  }
  if (!(LOG_LEVELS as readonly string[]).includes(props.logLevel)) {
    problems.push(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got "${props.logLevel}"`);
  }
  if (!isIntegerIn(props.stopTimeoutSeconds, 2, 120)) {
    problems.push(`stopTimeoutSeconds must be an integer 2–120 (Fargate's limit), got ${props.stopTimeoutSeconds}`);
  }
  if (!Number.isInteger(props.shutdownTimeoutMs) || props.shutdownTimeoutMs < 1000) {
    problems.push(`shutdownTimeoutMs must be an integer ≥ 1000, got ${props.shutdownTimeoutMs}`);
  } else if (props.shutdownTimeoutMs >= props.stopTimeoutSeconds * 1000) {
    problems.push(
      `shutdownTimeoutMs (${props.shutdownTimeoutMs}) must be below stopTimeoutSeconds (${props.stopTimeoutSeconds} s) or ECS kills the gateway mid-drain`,
    );
  }
  // The gateway's own CORS_ORIGINS rules (src/cors-origins.ts, which src/config.ts parses with):
  // an entry no browser's Origin can equal makes every task exit at start.
  for (const entry of corsOriginEntries(props.corsOrigins ?? '')) {
    const problem = originProblem(entry);
    if (problem !== undefined) problems.push(`corsOrigins ${problem}`);
  }
  // The gateway refuses these at start-up (the same rules as src/config.ts, which needs zod, not an
  // infra dependency); caught here, a mistake fails synth instead of a deployment whose tasks exit
  // at once until the circuit breaker rolls back.
  if ((props.modelUri === undefined) !== (props.mlflowTrackingUri === undefined)) {
    problems.push('modelUri and mlflowTrackingUri must be set together (serving from MLflow needs both)');
  }
  // URL.canParse as well: "http://mlflow:99999" passes the pattern, but the gateway's z.url() refuses it.
  // No ? or #: the gateway appends MLflow's API paths to the URI, and refuses one with a query or fragment.
  if (props.mlflowTrackingUri !== undefined && !(/^https?:\/\/[^/@\s?#]+(\/[^\s?#]*)?$/i.test(props.mlflowTrackingUri) && URL.canParse(props.mlflowTrackingUri))) {
    problems.push(
      `mlflowTrackingUri must be an http(s) URL without credentials, query (?…) or fragment (#…), like http://mlflow.internal:5000 (a path prefix, as in http://mlflow.internal:5000/mlflow, is fine), got "${props.mlflowTrackingUri}"`,
    );
  }
  if (props.mlflowStrict && props.mlflowTrackingUri === undefined) {
    problems.push('mlflowStrict needs mlflowTrackingUri and modelUri (it only says what a task does when it cannot load the MLflow model)');
  }
  // The gateway's own MODEL_URI rules (src/model/model-uri.ts, which src/config.ts checks MODEL_URI with):
  // a pattern of its own here let through names MLflow cannot hold and aliases it never sets.
  const modelUriRefusal = props.modelUri === undefined ? null : modelUriProblem(props.modelUri);
  if (modelUriRefusal !== null) problems.push(`modelUri ${modelUriRefusal}, got "${props.modelUri}"`);
  if (props.adminTokenSecretArn !== undefined && !SECRETS_MANAGER_ARN.test(props.adminTokenSecretArn)) {
    problems.push(
      `adminTokenSecretArn must be a complete Secrets Manager ARN like arn:aws:secretsmanager:eu-west-1:123456789012:secret:name-AbCdEf, got "${props.adminTokenSecretArn}"`,
    );
  }
  // MLflow credentials: the gateway refuses a token with username/password, and any of them without
  // MLFLOW_TRACKING_URI (src/config.ts), so these fail synth rather than every task start.
  const mlflowSecrets = {
    mlflowCredentialsSecretArn: 'whose value is JSON {"username": "…", "password": "…"}',
    mlflowTokenSecretArn: 'whose value is the bearer token',
  } as const;
  for (const [setting, secretValue] of Object.entries(mlflowSecrets) as [keyof typeof mlflowSecrets, string][]) {
    const arn = props[setting];
    if (arn === undefined) continue;
    if (!SECRETS_MANAGER_ARN.test(arn)) {
      problems.push(`${setting} must be a complete Secrets Manager ARN like arn:aws:secretsmanager:eu-west-1:123456789012:secret:name-AbCdEf (of a secret ${secretValue}), got "${arn}"`);
    }
    if (props.mlflowTrackingUri === undefined) {
      problems.push(`${setting} needs mlflowTrackingUri: the gateway refuses MLflow credentials without MLFLOW_TRACKING_URI and would not start`);
    }
  }
  if (props.secretsKmsKeyArn !== undefined) {
    if (!KMS_KEY_ARN.test(props.secretsKmsKeyArn)) {
      problems.push(
        `secretsKmsKeyArn must be a KMS key ARN like arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (the key's, not an alias's), got "${props.secretsKmsKeyArn}"`,
      );
    }
    if (props.adminTokenSecretArn === undefined && props.mlflowCredentialsSecretArn === undefined && props.mlflowTokenSecretArn === undefined) {
      problems.push('secretsKmsKeyArn needs a secret to decrypt: adminTokenSecretArn, mlflowCredentialsSecretArn or mlflowTokenSecretArn');
    }
  }
  if (props.mlflowCredentialsSecretArn !== undefined && props.mlflowTokenSecretArn !== undefined) {
    problems.push(
      'set mlflowCredentialsSecretArn (username and password, HTTP Basic) or mlflowTokenSecretArn (bearer token), not both: the gateway refuses MLFLOW_TRACKING_TOKEN with MLFLOW_TRACKING_USERNAME/PASSWORD',
    );
  }
  assertNoProblems('GatewayService', problems);
}
