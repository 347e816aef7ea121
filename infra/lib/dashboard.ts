import { Aws, CfnCondition, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { GatewayAlarms } from './alarms.js';

export interface GatewayDashboardProps {
  /** The alarms: their state, and the metrics they read with their thresholds, are the dashboard's core. */
  readonly alarms: GatewayAlarms;
  /** The API's target group: its healthy targets, beside the unhealthy ones the alarm reads from it (the UI's holds the same tasks). */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly service: ecs.FargateService;
  /** The autoscaling floor and ceiling, drawn on the task count. */
  readonly desiredCount: number;
  readonly maxCount: number;
  /** The CPU target tracking set point, drawn on the CPU graph. */
  readonly cpuTargetPercent: number;
  /** Names of the saved Logs Insights queries, listed in the dashboard's header. */
  readonly savedQueryNames: readonly string[];
}

/**
 * The dashboard an on-call operator opens first: every alarm's state, then the series the alarms
 * judge (the alarms' own metric objects, each drawn against its threshold), then the capacity behind
 * them (targets, tasks, CPU and memory). Dashboards are global to an account, not regional, so
 * the name carries the region: the same stack in two regions makes two dashboards.
 */
export class GatewayDashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  /** The console's page of this dashboard, on the console of the partition the stack is deployed in. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: GatewayDashboardProps) {
    super(scope, id);
    const { alarms } = props;
    const m = alarms.metrics;
    const t = alarms.thresholds;
    const period = Duration.minutes(1);
    const line = (value: number, label: string): cloudwatch.HorizontalAnnotation => ({ value, label, color: cloudwatch.Color.RED });

    const header = new cloudwatch.TextWidget({
      width: 24,
      height: 3,
      markdown:
        `**Churn gateway** (stack ${Stack.of(this).stackName}). Alarms and thresholds: infra/README.md "Alarms"; ` +
        `what to look at and do when one fires: infra/README.md "When an alarm fires". ` +
        `Logs Insights saved queries (Logs › Logs Insights › Saved queries): ${props.savedQueryNames.map((name) => `*${name}*`).join(', ')}.`,
    });
    const alarmStatus = new cloudwatch.AlarmStatusWidget({
      title: 'Alarms',
      alarms: [...alarms.all],
      width: 24,
      height: 3,
      sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
    });

    const requests = new cloudwatch.GraphWidget({
      title: 'Requests and 5xx per minute (ALB)',
      width: 12,
      left: [m.requests.with({ label: 'requests' })],
      right: [m.target5xx.with({ label: '5xx from the gateway' }), m.elb5xx.with({ label: '5xx from the ALB (502/503/504)' })],
      leftYAxis: { min: 0, showUnits: false },
      rightYAxis: { min: 0, showUnits: false },
    });
    const fiveXxRate = new cloudwatch.GraphWidget({
      title: '5xx rate (%): the 5xx alarm',
      width: 12,
      left: [m.fiveXxRate],
      leftAnnotations: [line(t.fiveXxRatePercent, `alarm: above ${t.fiveXxRatePercent}%`)],
      leftYAxis: { min: 0, showUnits: false },
    });
    const singlePrediction = new cloudwatch.GraphWidget({
      title: 'Single-prediction latency (ms, gateway access lines)',
      width: 12,
      left: [
        m.singlePredictionLatency.with({ statistic: 'p50', label: 'p50' }),
        m.singlePredictionLatency.with({ statistic: 'p99', label: 'p99' }),
      ],
      leftAnnotations: [line(t.singlePredictionP99Ms, `alarm: p99 above ${t.singlePredictionP99Ms} ms`)],
      leftYAxis: { min: 0, showUnits: false },
    });
    const albLatency = new cloudwatch.GraphWidget({
      title: 'Target response time p99, all requests (s, ALB)',
      width: 12,
      left: [m.targetResponseTimeP99.with({ label: 'p99' })],
      leftAnnotations: [line(t.p99LatencySeconds, `alarm: above ${t.p99LatencySeconds} s`)],
      leftYAxis: { min: 0, showUnits: false },
    });
    const targets = new cloudwatch.GraphWidget({
      title: 'Targets (ALB health checks)',
      width: 8,
      left: [
        props.targetGroup.metrics.healthyHostCount({ period, statistic: 'Minimum', label: 'healthy (min)' }),
        m.unhealthyHosts.with({ label: 'unhealthy (max)' }),
      ],
      leftAnnotations: [line(t.unhealthyHosts, `alarm: ${t.unhealthyHosts}+ unhealthy`)],
      leftYAxis: { min: 0, showUnits: false },
    });
    const tasks = new cloudwatch.GraphWidget({
      title: 'Tasks: running against desired',
      width: 8,
      // The tasks-below-desired alarm's two metrics (Container Insights).
      left: [m.runningTasks, m.desiredTasks],
      leftAnnotations: [
        { value: props.desiredCount, label: `autoscaling floor ${props.desiredCount}`, color: cloudwatch.Color.GREY },
        { value: props.maxCount, label: `autoscaling max ${props.maxCount}`, color: cloudwatch.Color.GREY },
      ],
      leftYAxis: { min: 0, showUnits: false },
    });
    const utilisation = new cloudwatch.GraphWidget({
      title: 'Service CPU and memory (%)',
      width: 8,
      left: [
        props.service.metricCpuUtilization({ period, label: 'CPU' }),
        props.service.metricMemoryUtilization({ period, label: 'memory' }),
      ],
      leftAnnotations: [{ value: props.cpuTargetPercent, label: `CPU scaling target ${props.cpuTargetPercent}%`, color: cloudwatch.Color.GREY }],
      leftYAxis: { min: 0, max: 100, showUnits: false },
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-${Aws.REGION}`,
      defaultInterval: Duration.hours(3),
      widgets: [[header], [alarmStatus], [requests, fiveXxRate], [singlePrediction, albLatency], [targets, tasks, utilisation]],
    });
    this.url = `https://${consoleHost(this)}/cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${this.dashboard.dashboardName}`;
  }
}

/**
 * The AWS console's host in the partition the stack is deployed to, chosen at deploy time (the stack
 * is environment-agnostic): console.aws.amazon.com opens no page of a China or GovCloud account.
 * Conditions rather than a mapping: a partition the mapping lacked (ISO, sovereign clouds) would
 * fail the whole deploy over an output, where these fall back to the commercial console.
 */
function consoleHost(scope: Construct): string {
  const partitionIs = (id: string, partition: string) =>
    new CfnCondition(scope, id, { expression: Fn.conditionEquals(Aws.PARTITION, partition) }).logicalId;
  return Token.asString(
    Fn.conditionIf(
      partitionIs('ChinaPartition', 'aws-cn'),
      'console.amazonaws.cn',
      Fn.conditionIf(partitionIs('GovCloudPartition', 'aws-us-gov'), 'console.amazonaws-us-gov.com', 'console.aws.amazon.com'),
    ),
  );
}
