import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { SNS_TOPIC_ARN, assertNoProblems } from './validation.js';

export interface GatewayAlarmsProps {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** Alarm when 5xx responses (gateway + ALB) exceed this % of requests. */
  readonly fiveXxRatePercent: number;
  /** Alarm when the p99 target response time exceeds this many seconds. */
  readonly p99LatencySeconds: number;
  /** Optional SNS topic notified on ALARM and OK. */
  readonly alarmTopicArn?: string;
}

/** The gateway's three user-facing alarms: error rate, unhealthy tasks, tail latency. */
export class GatewayAlarms extends Construct {
  public readonly fiveXxRate: cloudwatch.Alarm;
  public readonly unhealthyHosts: cloudwatch.Alarm;
  public readonly p99Latency: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: GatewayAlarmsProps) {
    super(scope, id);
    validateGatewayAlarmsProps(props);
    const period = Duration.minutes(1);
    const lb = props.loadBalancer.metrics;

    // 5xx rate = (target 5xx + ALB 5xx) / requests; a rate, not a count, so it means the same at any traffic level.
    const fiveXxRate = new cloudwatch.MathExpression({
      label: '5xx rate (%)',
      expression: '100 * (FILL(t5xx, 0) + FILL(elb5xx, 0)) / IF(FILL(requests, 0) > 0, requests, 1)',
      usingMetrics: {
        t5xx: lb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period, statistic: 'Sum' }),
        elb5xx: lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period, statistic: 'Sum' }),
        requests: lb.requestCount({ period, statistic: 'Sum' }),
      },
      period,
    });
    this.fiveXxRate = fiveXxRate.createAlarm(this, 'FiveXxRate', {
      alarmDescription: `Churn gateway: more than ${props.fiveXxRatePercent}% of requests answered 5xx`,
      threshold: props.fiveXxRatePercent,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Any target failing GET / for 3 of 5 minutes: a task is stuck starting, crashing or overloaded.
    this.unhealthyHosts = props.targetGroup.metrics
      .unhealthyHostCount({ period, statistic: 'Maximum' })
      .createAlarm(this, 'UnhealthyHosts', {
        alarmDescription: 'Churn gateway: at least one target is failing its health check',
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });

    // Tail latency as seen by the ALB; predictions are in-process so p99 above the threshold means saturation.
    this.p99Latency = props.targetGroup.metrics
      .targetResponseTime({ period, statistic: 'p99' })
      .createAlarm(this, 'P99Latency', {
        alarmDescription: `Churn gateway: p99 target response time above ${props.p99LatencySeconds} s`,
        threshold: props.p99LatencySeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });

    if (props.alarmTopicArn) {
      const topic = sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn);
      for (const alarm of [this.fiveXxRate, this.unhealthyHosts, this.p99Latency]) {
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
  if (props.alarmTopicArn !== undefined && !SNS_TOPIC_ARN.test(props.alarmTopicArn)) {
    problems.push(`alarmTopicArn must be an SNS topic ARN like arn:aws:sns:eu-west-1:123456789012:alerts, got "${props.alarmTopicArn}"`);
  }
  assertNoProblems('GatewayAlarms', problems);
}
