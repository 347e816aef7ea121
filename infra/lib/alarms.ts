import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { GATEWAY_REQUEST_TIMEOUT_MS } from './load-balancer.js';
import { OPS_PORT } from './network.js';
import { SNS_TOPIC_ARN, assertNoProblems } from './validation.js';

export interface GatewayAlarmsProps {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /**
   * The API's target group, whose UnHealthyHostCount the unhealthy-hosts alarm reads. The UI's
   * target group holds the same tasks with the same health check (load-balancer.ts), so its count
   * says the same; the other alarms read the load balancer's metrics, which count both.
   */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** Alarm when 5xx responses (gateway + ALB) exceed this % of requests. */
  readonly fiveXxRatePercent: number;
  /**
   * Alarm when the p99 target response time of all requests (batches, GraphQL, UI included), as the
   * ALB sees it, exceeds this many seconds: a stall backstop, set above what a MAX_BATCH batch takes.
   */
  readonly p99LatencySeconds: number;
  /** The gateway's log group: its access lines feed the single-prediction latency metric. */
  readonly gatewayLogGroup: logs.ILogGroup;
  /** Alarm when the p99 of single predictions (the gateway's own latencyMs) exceeds this many milliseconds. */
  readonly singlePredictionP99Ms: number;
  /** Optional SNS topic notified on ALARM and OK. */
  readonly alarmTopicArn?: string;
  /** The cluster (Container Insights on) and service whose running and desired task counts the tasks-below-desired alarm compares. */
  readonly cluster: ecs.ICluster;
  readonly service: ecs.IBaseService;
}

/**
 * Minutes in a row the service must run fewer tasks than it wants before the tasks-below-desired
 * alarm fires. A task a scale-out or a replacement starts runs within a minute or two (image pull,
 * then the gateway's few seconds); tasks that exit at start-up, or cannot be placed or pulled,
 * keep it short for as long as that lasts.
 */
export const TASKS_BELOW_DESIRED_MINUTES = 5;

/**
 * The custom metric the gateway's access lines feed: latencyMs of each single prediction. One
 * metric without dimensions (one custom metric's price), in a namespace of this app's; the stack
 * id is fixed, so there is one such stack per account and region.
 */
export const SINGLE_PREDICTION_LATENCY = Object.freeze({ namespace: 'ChurnGateway', metricName: 'SinglePredictionLatency' });

/**
 * The access line (src/logger.ts accessLog; one JSON line per request, at info) of a prediction
 * request the product's single-prediction latency promise is about: `POST /predict` or GraphQL
 * (route), one customer (rows), answered 2xx (status). The UI's form and GraphiQL's single
 * predictions count (with their explanations: they are single predictions too); batches,
 * modelInfo and refused customers (400 on both routes) are left out. The metric filter's pattern and the
 * saved queries about single predictions (saved-queries.ts) are both made from this.
 */
export const SINGLE_PREDICTION_LINE = Object.freeze({
  msg: 'request',
  routes: Object.freeze(['rest_predict', 'graphql'] as const),
  rows: 1,
  /** 2xx: status from (inclusive) and below (exclusive). */
  statusFrom: 200,
  statusBelow: 300,
});

/**
 * SINGLE_PREDICTION_LINE as a CloudWatch Logs filter pattern, matching the latencyMs field too.
 * test/latency-metric.test.ts runs the real gateway and checks this pattern against the lines it
 * writes.
 */
export function singlePredictionFilterPattern(): logs.IFilterPattern {
  const { FilterPattern: F } = logs;
  const line = SINGLE_PREDICTION_LINE;
  return F.all(
    F.stringValue('$.msg', '=', line.msg),
    F.any(...line.routes.map((route) => F.stringValue('$.route', '=', route))),
    F.numberValue('$.rows', '=', line.rows),
    F.numberValue('$.status', '>=', line.statusFrom),
    F.numberValue('$.status', '<', line.statusBelow),
    // The metric value's field must be matched by the pattern (CloudWatch Logs).
    F.numberValue('$.latencyMs', '>=', 0),
  );
}

/**
 * Fewest single predictions over the threshold in a minute that may alarm. CloudWatch's own rule
 * for a p99 alarm's sample to be significant (10 / (1 − 0.99) = 1,000 data points) is 10 in the
 * tail; asked as a count, it holds at any traffic: a lone slow request at 1 req/s does not page,
 * 10 of 20 does.
 */
export const MIN_SLOW_SINGLE_PREDICTIONS = 10;

/**
 * The saved query (saved-queries.ts) of the lines about MLflow not providing the model: named here,
 * where saved-queries.ts takes it from, because two alarms send the operator to it first.
 */
export const MLFLOW_TROUBLE_QUERY = 'MLflow trouble: failed checks, rejected models, bundle fallbacks, deleted runs';

/** The gateway's five user-facing alarms: error rate, unhealthy tasks, tasks below desired, single-prediction p99, all-request stalls. */
export class GatewayAlarms extends Construct {
  public readonly fiveXxRate: cloudwatch.Alarm;
  public readonly unhealthyHosts: cloudwatch.Alarm;
  public readonly tasksBelowDesired: cloudwatch.Alarm;
  public readonly singlePredictionLatency: cloudwatch.Alarm;
  public readonly p99Latency: cloudwatch.Alarm;
  public readonly singlePredictionLatencyFilter: logs.MetricFilter;
  /** Every alarm above, for the SNS actions and the dashboard's alarm status. */
  public readonly all: readonly cloudwatch.Alarm[];
  /**
   * The metrics the alarms read (one-minute periods), for the dashboard (dashboard.ts) to show the
   * same series the alarms judge: ALB requests, target and ALB 5xx counts, the 5xx rate, the
   * single-prediction latency (its statistic chosen by the reader), the ALB's p99 and unhealthy targets.
   */
  public readonly metrics: {
    readonly requests: cloudwatch.Metric;
    readonly target5xx: cloudwatch.Metric;
    readonly elb5xx: cloudwatch.Metric;
    readonly fiveXxRate: cloudwatch.MathExpression;
    readonly singlePredictionLatency: cloudwatch.Metric;
    readonly targetResponseTimeP99: cloudwatch.Metric;
    readonly unhealthyHosts: cloudwatch.Metric;
    /** Container Insights' RunningTaskCount and DesiredTaskCount of the service. */
    readonly runningTasks: cloudwatch.Metric;
    readonly desiredTasks: cloudwatch.Metric;
  };
  /** The thresholds, in the metrics' own units: 5xx %, single-prediction p99 ms, ALB p99 s, unhealthy targets. */
  public readonly thresholds: {
    readonly fiveXxRatePercent: number;
    readonly singlePredictionP99Ms: number;
    readonly p99LatencySeconds: number;
    readonly unhealthyHosts: number;
  };

  constructor(scope: Construct, id: string, props: GatewayAlarmsProps) {
    super(scope, id);
    validateGatewayAlarmsProps(props);
    const period = Duration.minutes(1);
    const lb = props.loadBalancer.metrics;
    // Each description ends with where to look first (dashboard graphs by title, saved queries by
    // the name Logs Insights lists them under) and its entry in infra/README.md "When an alarm
    // fires"; test/runbook.test.ts checks each name and anchor against the template and the README.
    // Each alarm is named after that entry too (`ChurnGateway-5xx-rate` for "Alarm: 5xx rate"), so
    // the name a notification's subject or the dashboard shows says which entry applies.
    const queries = Stack.of(this).stackName;
    const runbook = (entry: string) => `Runbook: infra/README.md#alarm-${entry}`;
    const alarmName = (entry: string) => `${Stack.of(this).stackName}-${entry}`;

    // 5xx rate = (target 5xx + ALB 5xx) / requests; a rate, not a count, so it means the same at any traffic level.
    const requests = lb.requestCount({ period, statistic: 'Sum' });
    const target5xx = lb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period, statistic: 'Sum' });
    const elb5xx = lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period, statistic: 'Sum' });
    const fiveXxRate = new cloudwatch.MathExpression({
      label: '5xx rate (%)',
      expression: '100 * (FILL(t5xx, 0) + FILL(elb5xx, 0)) / IF(FILL(requests, 0) > 0, requests, 1)',
      usingMetrics: { t5xx: target5xx, elb5xx, requests },
      period,
    });
    this.fiveXxRate = fiveXxRate.createAlarm(this, 'FiveXxRate', {
      alarmDescription:
        `Churn gateway: more than ${props.fiveXxRatePercent}% of requests answered 5xx (by the gateway, or by the ALB itself: 502/503/504), in 3 of 5 minutes. ` +
        `First look: dashboard "Requests and 5xx per minute (ALB)" (which side answers them), then Logs Insights ` +
        `"${queries}/5xx answers by route and status" and "${queries}/failed requests by reason" (code); 502 on graphql: ` +
        `"${queries}/${MLFLOW_TROUBLE_QUERY}" (a reloadModel MLflow could not serve). ${runbook('5xx-rate')}`,
      alarmName: alarmName('5xx-rate'),
      threshold: props.fiveXxRatePercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Any target failing GET / (on OPS_PORT) for 3 of 5 minutes: a task is stuck starting, crashing or overloaded.
    const unhealthyHosts = props.targetGroup.metrics.unhealthyHostCount({ period, statistic: 'Maximum' });
    const unhealthyThreshold = 1;
    this.unhealthyHosts = unhealthyHosts.createAlarm(this, 'UnhealthyHosts', {
      alarmDescription:
        `Churn gateway: at least one target is failing its health check (GET / on port ${OPS_PORT}, OPS_PORT) in 3 of 5 minutes: a deploy whose new tasks never become healthy, ` +
        'or a task starting too slowly, crashing, failing inference or overloaded. First look: dashboard "Targets (ALB health checks)" and ' +
        `"Tasks: running against desired", then Logs Insights "${queries}/deployments and rollbacks (ECS events)", ` +
        `"${queries}/stopped tasks and why (ECS events)", "${queries}/why a task did not start" and ` +
        `"${queries}/${MLFLOW_TROUBLE_QUERY}" (new tasks late: a slow MLflow at start-up). ${runbook('unhealthy-hosts')}`,
      alarmName: alarmName('unhealthy-hosts'),
      threshold: unhealthyThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // The product's promise: p99 ≤ 10 ms for single predictions. The ALB's TargetResponseTime
    // cannot tell them from batches of up to MAX_BATCH rows, the UI and GraphiQL, so the metric
    // comes from the gateway's own access lines (latencyMs: from when the gateway starts handling the
    // request to its answer, without time waited for the event loop before that). No default value: a 0 for each minute without single predictions would pull the tail down.
    this.singlePredictionLatencyFilter = new logs.MetricFilter(this, 'SinglePredictionLatencyFilter', {
      logGroup: props.gatewayLogGroup,
      filterPattern: singlePredictionFilterPattern(),
      metricNamespace: SINGLE_PREDICTION_LATENCY.namespace,
      metricName: SINGLE_PREDICTION_LATENCY.metricName,
      metricValue: '$.latencyMs',
      unit: cloudwatch.Unit.MILLISECONDS,
    });
    // p99 above T ⇔ more than 1% of single predictions took longer than T. Asked that way (the
    // percentile rank PR(:T) is the % at most T) with the slow ones counted, a minute with a
    // handful of requests, where p99 is their maximum, alarms only on MIN_SLOW_SINGLE_PREDICTIONS
    // slow ones; a minute without single predictions has no data (not breaching).
    const threshold = props.singlePredictionP99Ms;
    const latency = this.singlePredictionLatencyFilter.metric({ period });
    const slowPercent = new cloudwatch.MathExpression({
      label: `single predictions slower than ${threshold} ms (%)`,
      expression: `IF(n * (100 - fast) / 100 >= ${MIN_SLOW_SINGLE_PREDICTIONS}, 100 - fast, 0)`,
      usingMetrics: {
        n: latency.with({ statistic: 'SampleCount' }),
        fast: latency.with({ statistic: `PR(:${threshold})` }),
      },
      period,
    });
    this.singlePredictionLatency = slowPercent.createAlarm(this, 'SinglePredictionP99', {
      alarmDescription:
        `Churn gateway: single-prediction p99 above ${threshold} ms. More than 1% of single-customer predictions (POST /predict and GraphQL, ` +
        `answered 2xx; at least ${MIN_SLOW_SINGLE_PREDICTIONS} in the minute) took longer than ${threshold} ms by the gateway's own clock, in 3 of 5 minutes. ` +
        `Batches are not counted. First look: dashboard "Service CPU and memory (%)" and "Tasks: running against desired" (saturation), ` +
        `then Logs Insights "${queries}/single-prediction latency by task" (one task or all) and "${queries}/models served: start-ups and swaps" ` +
        `(a new model). ${runbook('single-prediction-p99')}`,
      alarmName: alarmName('single-prediction-p99'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Every request, batches, the UI and GraphiQL included, as the ALB sees it (it also counts what
    // the gateway never logs): a backstop for stalls, set above what a MAX_BATCH batch takes. The
    // load balancer's metric, not a target group's: it covers both (the API's and the UI's).
    const targetResponseTimeP99 = lb.targetResponseTime({ period, statistic: 'p99' });
    this.p99Latency = targetResponseTimeP99.createAlarm(this, 'P99Latency', {
      alarmDescription:
        `Churn gateway: p99 response time of all requests (batches included) above ${props.p99LatencySeconds} s at the ALB, in 3 of 5 minutes: ` +
        `requests are stalling (tasks saturated or blocked, or uploads that never finish), well beyond what a batch of MAX_BATCH rows takes. ` +
        `First look: dashboard "Single-prediction latency (ms, gateway access lines)" (single predictions slow too, or not), then Logs Insights ` +
        `"${queries}/failed requests by reason" (request timed out, requestComplete). ${runbook('all-request-p99-at-the-alb')}`,
      alarmName: alarmName('all-request-p99-at-the-alb'),
      threshold: props.p99LatencySeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Tasks that exit at start-up (a setting the gateway refuses, a secret ECS cannot read, an image
    // it cannot pull) never reach UnHealthyHostCount: ECS stops them and deregisters their targets
    // before 3 health checks (≈ 30 s) fail, and the old tasks keep serving, so no 5xx either. What
    // shows is the service running fewer tasks than it wants, from Container Insights (the cluster has
    // it on: gateway-service.ts), for TASKS_BELOW_DESIRED_MINUTES in a row: a scale-out or replacement
    // that keeps failing. During a deploy whose new tasks fail, the old ones still run the desired
    // count; the deploy fails instead (the circuit breaker, `cdk deploy`, the release's deploy job).
    const taskCount = (metricName: 'RunningTaskCount' | 'DesiredTaskCount', label: string) =>
      new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName,
        dimensionsMap: { ClusterName: props.cluster.clusterName, ServiceName: props.service.serviceName },
        statistic: 'Average',
        period,
        label,
      });
    const runningTasks = taskCount('RunningTaskCount', 'running');
    const desiredTasks = taskCount('DesiredTaskCount', 'desired');
    const missingTasks = new cloudwatch.MathExpression({
      label: 'tasks below desired',
      // No running task at all may be reported as no datapoint: count it as 0, not as no data.
      expression: 'desired - FILL(running, 0)',
      usingMetrics: { running: runningTasks, desired: desiredTasks },
      period,
    });
    this.tasksBelowDesired = missingTasks.createAlarm(this, 'TasksBelowDesired', {
      alarmDescription:
        `Churn gateway: the service ran at least 1 task fewer than it wants (Container Insights RunningTaskCount below DesiredTaskCount) for ${TASKS_BELOW_DESIRED_MINUTES} minutes in a row: ` +
        'tasks exit at start-up or cannot start (a refused setting, a secret, the image pull, placement), so a scale-out or a replacement keeps failing. ' +
        `First look: dashboard "Tasks: running against desired", then Logs Insights "${queries}/stopped tasks and why (ECS events)", ` +
        `"${queries}/why a task did not start", "${queries}/deployments and rollbacks (ECS events)" (SERVICE_TASK_START_IMPAIRED) and, ` +
        `with mlflowStrict, "${queries}/${MLFLOW_TROUBLE_QUERY}" (MLflow not providing the model). ${runbook('tasks-below-desired')}`,
      alarmName: alarmName('tasks-below-desired'),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: TASKS_BELOW_DESIRED_MINUTES,
      datapointsToAlarm: TASKS_BELOW_DESIRED_MINUTES,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.all = [this.fiveXxRate, this.unhealthyHosts, this.tasksBelowDesired, this.singlePredictionLatency, this.p99Latency];
    this.metrics = { requests, target5xx, elb5xx, fiveXxRate, singlePredictionLatency: latency, targetResponseTimeP99, unhealthyHosts, runningTasks, desiredTasks };
    this.thresholds = {
      fiveXxRatePercent: props.fiveXxRatePercent,
      singlePredictionP99Ms: threshold,
      p99LatencySeconds: props.p99LatencySeconds,
      unhealthyHosts: unhealthyThreshold,
    };

    if (props.alarmTopicArn) {
      const topic = sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn);
      for (const alarm of this.all) {
        alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
        alarm.addOkAction(new cloudwatchActions.SnsAction(topic));
      }
    }
  }
}

function validateGatewayAlarmsProps(props: GatewayAlarmsProps): void {
  const problems: string[] = [];
  if (!(props.fiveXxRatePercent > 0 && props.fiveXxRatePercent <= 100)) {
    problems.push(`fiveXxRatePercent must be in (0, 100], got ${props.fiveXxRatePercent}`);
  }
  if (!(props.p99LatencySeconds > 0 && props.p99LatencySeconds <= 60)) {
    problems.push(`p99LatencySeconds must be in (0, 60] (the ALB idle timeout), got ${props.p99LatencySeconds}`);
  }
  // Up to 2 decimals, as latencyMs is logged, so the percentile rank's bound is the number given.
  const ms = props.singlePredictionP99Ms;
  if (!(Number.isFinite(ms) && ms >= 0.1 && ms <= GATEWAY_REQUEST_TIMEOUT_MS && Math.round(ms * 100) / 100 === ms)) {
    problems.push(`singlePredictionP99Ms must be a number of milliseconds from 0.1 to ${GATEWAY_REQUEST_TIMEOUT_MS} (the gateway's request timeout) with at most 2 decimals, got ${ms}`);
  }
  if (props.alarmTopicArn !== undefined && !SNS_TOPIC_ARN.test(props.alarmTopicArn)) {
    problems.push(`alarmTopicArn must be an SNS topic ARN like arn:aws:sns:eu-west-1:123456789012:alerts, got "${props.alarmTopicArn}"`);
  }
  assertNoProblems('GatewayAlarms', problems);
}
