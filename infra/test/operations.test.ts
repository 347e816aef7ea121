import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TASKS_BELOW_DESIRED_MINUTES } from '../lib/alarms.js';
import { ALL_FEATURES, getAtt, propsOf, propsOfType, ref, synth, type Props } from './helpers.js';

describe('autoscaling', () => {
  const { stack, template } = synth({ maxCount: 8 });

  it('scales the service between desiredCount and maxCount', () => {
    expect(template).toHaveResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 8,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
  });

  it('leaves DesiredCount out of the service, so a deploy never resets a scaled-out service; MinCapacity is the floor', () => {
    for (const floor of [2, 3]) {
      const t = floor === 2 ? template : synth({ desiredCount: floor, maxCount: 8 }).template;
      const services = propsOfType(t, 'AWS::ECS::Service');
      expect(services).toHaveLength(1);
      expect(services[0]).not.toHaveProperty('DesiredCount');
      const targets = propsOfType(t, 'AWS::ApplicationAutoScaling::ScalableTarget');
      expect(targets).toHaveLength(1);
      expect(targets[0]).toMatchObject({ MinCapacity: floor, MaxCapacity: 8, ScalableDimension: 'ecs:service:DesiredCount' });
    }
  });

  it('scales out after 60 s and in after 180 s on both policies, as infra/README.md says', () => {
    const policies = propsOfType(template, 'AWS::ApplicationAutoScaling::ScalingPolicy');
    expect(policies).toHaveLength(2);
    for (const policy of policies) expect(policy.TargetTrackingScalingPolicyConfiguration).toMatchObject({ ScaleOutCooldown: 60, ScaleInCooldown: 180 });
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain('Scale-out cooldown is 60 s, scale-in 180 s');
  });

  it('tracks 60% average CPU', () => {
    expect(template).toHaveResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 60,
      },
    });
  });

  it("tracks 60,000 ALB requests per target per minute (≈ 1,000 req/s per task) on the API's target group", () => {
    expect(template).toHaveResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: {
          PredefinedMetricType: 'ALBRequestCountPerTarget',
          ResourceLabel: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([getAtt(stack, stack.loadBalancer.apiTargetGroup, 'TargetGroupFullName')])]) }),
        },
        TargetValue: 60000,
      },
    });
  });
});

describe('alarms', () => {
  const { stack, template } = synth();
  const metricOf = (name: string) => ({ MetricName: name, Namespace: 'AWS/ApplicationELB' });

  it('alarms when more than 5% of requests are 5xx (gateway + ALB)', () => {
    expect(template).toHaveResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: Match.stringLikeRegexp('t5xx.*elb5xx.*requests') }),
        Match.objectLike({ Id: 't5xx', MetricStat: Match.objectLike({ Metric: Match.objectLike(metricOf('HTTPCode_Target_5XX_Count')) }) }),
        Match.objectLike({ Id: 'elb5xx', MetricStat: Match.objectLike({ Metric: Match.objectLike(metricOf('HTTPCode_ELB_5XX_Count')) }) }),
        Match.objectLike({ Id: 'requests', MetricStat: Match.objectLike({ Metric: Match.objectLike(metricOf('RequestCount')) }) }),
      ]),
    });
  });

  it("alarms when any target of the API's target group is unhealthy (the UI's holds the same tasks with the same health check)", () => {
    expect(template).toHaveResourceProperties('AWS::CloudWatch::Alarm', {
      ...metricOf('UnHealthyHostCount'),
      Dimensions: Match.arrayWith([{ Name: 'TargetGroup', Value: getAtt(stack, stack.loadBalancer.apiTargetGroup, 'TargetGroupFullName') }]),
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('names the health check in the unhealthy-hosts alarm as the target groups send it: the path and the operations port', () => {
    const [alarm] = propsOfType(template, 'AWS::CloudWatch::Alarm').filter((a) => a.MetricName === 'UnHealthyHostCount');
    const targets = propsOf(template, stack, stack.loadBalancer.apiTargetGroup);
    expect(targets.HealthCheckPort).toMatch(/^\d+$/);
    expect(alarm?.AlarmDescription).toContain(`its health check (GET ${String(targets.HealthCheckPath)} on port ${String(targets.HealthCheckPort)},`);
  });

  it('alarms when the p99 response time of all requests at the ALB exceeds 5 s (a stall, beyond any batch)', () => {
    expect(template).toHaveResourceProperties('AWS::CloudWatch::Alarm', {
      ...metricOf('TargetResponseTime'),
      ExtendedStatistic: 'p99',
      Threshold: 5,
      AlarmDescription: Match.stringLikeRegexp('all requests \\(batches included\\) above 5 s'),
    });
  });

  it("reads the all-request p99 from the load balancer's metric, which counts both target groups (the API's and the UI's)", () => {
    const [alarm] = propsOfType(template, 'AWS::CloudWatch::Alarm').filter((a) => a.MetricName === 'TargetResponseTime');
    expect(alarm?.Dimensions).toEqual([{ Name: 'LoadBalancer', Value: getAtt(stack, stack.loadBalancer.alb, 'LoadBalancerFullName') }]);
  });

  it("alarms on the single predictions' p99 from the gateway's access lines: more than 1% over 10 ms, at least 10 of them", () => {
    const [filter] = propsOfType(template, 'AWS::Logs::MetricFilter');
    const [alarm] = propsOfType(template, 'AWS::CloudWatch::Alarm').filter((a) => JSON.stringify(a.Metrics ?? []).includes('SinglePredictionLatency'));
    // One metric of the gateway's log group, milliseconds, no dimensions (one custom metric), and no
    // default value (a 0 in each minute without a single prediction would pull the tail down).
    expect(filter).toEqual({
      LogGroupName: ref(stack, stack.gateway.logGroup),
      FilterPattern: expect.any(String) as unknown,
      MetricTransformations: [{ MetricNamespace: 'ChurnGateway', MetricName: 'SinglePredictionLatency', MetricValue: '$.latencyMs', Unit: 'Milliseconds' }],
    });
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' });
    expect(alarm?.AlarmDescription).toContain('single-prediction p99 above 10 ms');
    const metrics = alarm?.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: Props; Stat: string; Period: number } }[];
    expect(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat?.Metric, m.MetricStat?.Stat])).toEqual([
      ['n', { Namespace: 'ChurnGateway', MetricName: 'SinglePredictionLatency' }, 'SampleCount'],
      ['fast', { Namespace: 'ChurnGateway', MetricName: 'SinglePredictionLatency' }, 'PR(:10)'],
    ]);
    // n: single predictions in the minute; fast: the % of them at most 10 ms (PR's upper bound is inclusive).
    const slow = (values: Record<string, number | undefined>) => evaluateMetricMath(metrics.find((m) => m.Expression)?.Expression ?? '', values);
    expect(slow({ n: 100_000, fast: 99.5 })).toBe(0.5); // p99 within 10 ms: under the threshold
    expect(slow({ n: 100_000, fast: 98 })).toBe(2); // p99 above it
    expect(slow({ n: 1_000, fast: 99 })).toBe(1); // exactly 1%: not above
    expect(slow({ n: 30, fast: 100 - 100 / 30 })).toBe(0); // one slow request in a quiet minute: its p99 is that one, no alarm
    expect(slow({ n: 20, fast: 50 })).toBe(50); // 10 of 20 slow
    expect(slow({ n: 19, fast: 100 - 900 / 19 })).toBe(0); // 9 slow: fewer than 10
    expect(slow({ n: undefined, fast: undefined })).toBeUndefined(); // no single prediction: no data, not breaching
  });

  it('computes the 5xx rate as a percentage of requests, counting a metric with no datapoint as 0 and no traffic as 0%', () => {
    const [alarm] = propsOfType(template, 'AWS::CloudWatch::Alarm').filter((a) => JSON.stringify(a.Metrics ?? []).includes('HTTPCode_Target_5XX_Count'));
    const expression = (alarm?.Metrics as { Expression?: string }[]).find((m) => m.Expression !== undefined)?.Expression ?? '';
    // Each input is the count of its minute (Sum), not a per-request or per-target average.
    const inputs = (alarm?.Metrics as { Id: string; MetricStat?: { Stat: string } }[]).filter((m) => m.MetricStat !== undefined);
    expect(inputs.map((m) => [m.Id, m.MetricStat?.Stat])).toEqual([['t5xx', 'Sum'], ['elb5xx', 'Sum'], ['requests', 'Sum']]);
    const rate = (values: Record<string, number | undefined>) => evaluateMetricMath(expression, values);
    expect(rate({ t5xx: 3, elb5xx: 2, requests: 100 })).toBe(5);
    expect(rate({ t5xx: undefined, elb5xx: 1, requests: 10 })).toBe(10);
    expect(rate({ t5xx: 6, elb5xx: undefined, requests: 200 })).toBe(3);
    expect(rate({ t5xx: undefined, elb5xx: undefined, requests: undefined })).toBe(0);
    expect(rate({ t5xx: 0, elb5xx: 0, requests: 0 })).toBe(0);
  });

  it("alarms when the service runs fewer tasks than it wants for 5 minutes in a row (tasks exiting at start-up, which the unhealthy-hosts alarm never counts), from Container Insights, which the cluster has on", () => {
    const [alarm] = propsOfType(template, 'AWS::CloudWatch::Alarm').filter((a) => a.AlarmName === 'ChurnGateway-tasks-below-desired');
    expect(alarm).toMatchObject({ EvaluationPeriods: TASKS_BELOW_DESIRED_MINUTES, DatapointsToAlarm: TASKS_BELOW_DESIRED_MINUTES, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    expect(TASKS_BELOW_DESIRED_MINUTES).toBe(5);
    const metrics = alarm?.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: Props; Stat: string; Period: number } }[];
    // The metric names and dimensions Container Insights publishes for a service, on this cluster and service.
    const dimensions = [{ Name: 'ClusterName', Value: ref(stack, stack.gateway.cluster) }, { Name: 'ServiceName', Value: getAtt(stack, stack.gateway.service, 'Name') }];
    expect(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat?.Metric, m.MetricStat?.Stat, m.MetricStat?.Period])).toEqual([
      ['running', { Namespace: 'ECS/ContainerInsights', MetricName: 'RunningTaskCount', Dimensions: dimensions }, 'Average', 60],
      ['desired', { Namespace: 'ECS/ContainerInsights', MetricName: 'DesiredTaskCount', Dimensions: dimensions }, 'Average', 60],
    ]);
    expect(template).toHaveResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
    const missing = (values: Record<string, number | undefined>) => evaluateMetricMath(metrics.find((m) => m.Expression)?.Expression ?? '', values);
    expect(missing({ running: 1, desired: 2 })).toBe(1); // a replacement that keeps exiting: breaching
    expect(missing({ running: undefined, desired: 2 })).toBe(2); // no task running, no datapoint for it
    expect(missing({ running: 2, desired: 2 })).toBe(0);
    expect(missing({ running: 4, desired: 2 })).toBe(-2); // a deploy: old and new tasks side by side
    expect(missing({ running: 2.5, desired: 3 })).toBe(0.5); // a task started within the minute: under the threshold
    expect(missing({ running: undefined, desired: undefined })).toBeUndefined();
  });

  it('each alarm but tasks-below-desired fires on 3 of 5 one-minute periods, and each treats a period without data as not breaching', () => {
    const alarms = propsOfType(template, 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(5);
    for (const alarm of alarms) {
      const [evaluated, toAlarm] = alarm.AlarmName === 'ChurnGateway-tasks-below-desired' ? [TASKS_BELOW_DESIRED_MINUTES, TASKS_BELOW_DESIRED_MINUTES] : [5, 3];
      expect(alarm).toMatchObject({ EvaluationPeriods: evaluated, DatapointsToAlarm: toAlarm, TreatMissingData: 'notBreaching' });
      const periods = [alarm.Period, ...((alarm.Metrics ?? []) as { MetricStat?: { Period: number } }[]).map((m) => m.MetricStat?.Period)].filter((p) => p !== undefined);
      expect(periods.length).toBeGreaterThan(0);
      for (const period of periods) expect(period).toBe(60);
    }
  });

  it('has exactly these five alarms and no actions unless a topic is given', () => {
    const alarms = propsOfType(template, 'AWS::CloudWatch::Alarm');
    expect(alarms.map((a) => a.AlarmName).sort()).toEqual(
      ['5xx-rate', 'all-request-p99-at-the-alb', 'single-prediction-p99', 'tasks-below-desired', 'unhealthy-hosts'].map((entry) => `ChurnGateway-${entry}`),
    );
    for (const alarm of alarms) expect(alarm.AlarmActions).toBeUndefined();
  });

  it('notifies the alarm topic on ALARM and OK when given', () => {
    const withTopic = synth(ALL_FEATURES).template;
    const alarms = propsOfType(withTopic, 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(5);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([ALL_FEATURES.alarmTopicArn]);
      expect(alarm.OKActions).toEqual([ALL_FEATURES.alarmTopicArn]);
    }
  });
});

describe('ECS event log', () => {
  const { stack, template } = synth();
  const eventLogGroup = stack.ecsEvents.logGroup;

  it('sends this cluster’s task and service events to the event log group', () => {
    expect(template).toHaveResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change', 'ECS Service Action'],
        detail: { clusterArn: [getAtt(stack, stack.gateway.cluster, 'Arn')] },
      },
      Targets: [Match.objectLike({ Arn: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([ref(stack, eventLogGroup)])]) }) })],
    });
  });

  it('sends this service’s deployment events to the same log group', () => {
    expect(template).toHaveResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.ecs'], 'detail-type': ['ECS Deployment State Change'], resources: [ref(stack, stack.gateway.service)] },
    });
  });

  it('lets only EventBridge and log delivery write to that log group, with a bounded retention', () => {
    // This group's own retention: every log group of the stack has 30 days by default, so any would match.
    expect(propsOf(template, stack, eventLogGroup).RetentionInDays).toBe(30);
    const policies = propsOfType(template, 'AWS::Logs::ResourcePolicy');
    expect(policies).toHaveLength(1);
    // The document is a JSON string joined around the log group's ARN: stand a marker in for the ARN.
    const arn = getAtt(stack, eventLogGroup, 'Arn');
    const [, parts] = (policies[0]?.PolicyDocument as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    const text = parts.map((part) => (typeof part === 'string' ? part : JSON.stringify(part) === JSON.stringify(arn) ? '<event log group ARN>' : '<other>')).join('');
    // Writing events into this one group, nothing more (not logs:*, not every group of the account).
    expect((JSON.parse(text) as { Statement: unknown[] }).Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: ['events.amazonaws.com', 'delivery.logs.amazonaws.com'] },
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: '<event log group ARN>',
      },
    ]);
  });
});

/**
 * Evaluates the subset of CloudWatch metric math the alarms use: numbers, metric ids, + - * /,
 * comparisons, FILL(m, value) and IF(condition, then, else). A metric without a datapoint is
 * undefined, and so is arithmetic on it, as in CloudWatch.
 */
function evaluateMetricMath(expression: string, values: Record<string, number | undefined>): number | undefined {
  const tokens = expression.match(/\d+(?:\.\d+)?|[A-Za-z_]\w*|[<>=!]=|[-+*/(),<>]/g) ?? [];
  let at = 0;
  const next = () => tokens[at++];
  const expect_ = (token: string) => {
    if (next() !== token) throw new Error(`expected ${token} in ${expression}`);
  };
  const arithmetic = (a: number | undefined, op: string, b: number | undefined): number | undefined => {
    if (a === undefined || b === undefined) return undefined;
    const result = { '+': a + b, '-': a - b, '*': a * b, '/': a / b, '>': Number(a > b), '<': Number(a < b), '>=': Number(a >= b), '<=': Number(a <= b), '==': Number(a === b), '!=': Number(a !== b) }[op];
    if (result === undefined) throw new Error(`unknown operator ${op}`);
    return result;
  };
  const binary = (operand: () => number | undefined, ops: string[]) => () => {
    let value = operand();
    while (ops.includes(tokens[at] ?? '')) {
      const op = next() ?? '';
      value = arithmetic(value, op, operand());
    }
    return value;
  };
  const primary = (): number | undefined => {
    const token = next();
    if (token === undefined) throw new Error(`unexpected end of ${expression}`);
    if (token === '(') {
      const value = comparison();
      expect_(')');
      return value;
    }
    if (/^\d/.test(token)) return Number(token);
    if (tokens[at] !== '(') {
      if (!(token in values)) throw new Error(`unknown metric ${token} in ${expression}`);
      return values[token];
    }
    next();
    const args = [comparison()];
    while (tokens[at] === ',') {
      next();
      args.push(comparison());
    }
    expect_(')');
    if (token === 'FILL' && args.length === 2) return args[0] ?? args[1];
    if (token === 'IF' && args.length === 3) return args[0] === undefined ? undefined : args[0] !== 0 ? args[1] : args[2];
    throw new Error(`unsupported function ${token}/${args.length} in ${expression}`);
  };
  const product = binary(primary, ['*', '/']);
  const sum = binary(product, ['+', '-']);
  const comparison: () => number | undefined = binary(sum, ['>', '<', '>=', '<=', '==', '!=']);
  const value = comparison();
  if (at !== tokens.length) throw new Error(`unexpected ${tokens[at]} in ${expression}`);
  return value;
}
