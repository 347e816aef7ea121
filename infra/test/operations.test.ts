import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ALL_FEATURES, getAtt, propsOfType, ref, synth } from './helpers.js';

describe('autoscaling', () => {
  const { stack, template } = synth({ maxCount: 8 });

  it('scales the service between desiredCount and maxCount', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
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

  it('tracks 60% average CPU', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 60,
      },
    });
  });

  it('tracks 60,000 ALB requests per target per minute (≈ 1,000 req/s per task) for this target group', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: {
          PredefinedMetricType: 'ALBRequestCountPerTarget',
          ResourceLabel: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([getAtt(stack, stack.loadBalancer.targetGroup, 'TargetGroupFullName')])]) }),
        },
        TargetValue: 60000,
      },
    });
  });
});

describe('alarms', () => {
  const { template } = synth();
  const metricOf = (name: string) => ({ MetricName: name, Namespace: 'AWS/ApplicationELB' });

  it('alarms when more than 5% of requests are 5xx (gateway + ALB)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
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

  it('alarms when any target is unhealthy', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...metricOf('UnHealthyHostCount'),
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('alarms when p99 target response time exceeds 1 s', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...metricOf('TargetResponseTime'),
      ExtendedStatistic: 'p99',
      Threshold: 1,
    });
  });

  it('has exactly these three alarms and no actions unless a topic is given', () => {
    const alarms = propsOfType(template, 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(3);
    for (const alarm of alarms) expect(alarm.AlarmActions).toBeUndefined();
  });

  it('notifies the alarm topic on ALARM and OK when given', () => {
    const withTopic = synth(ALL_FEATURES).template;
    const alarms = propsOfType(withTopic, 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(3);
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
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change', 'ECS Service Action'],
        detail: { clusterArn: [getAtt(stack, stack.gateway.cluster, 'Arn')] },
      },
      Targets: [Match.objectLike({ Arn: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([ref(stack, eventLogGroup)])]) }) })],
    });
  });

  it('sends this service’s deployment events to the same log group', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.ecs'], 'detail-type': ['ECS Deployment State Change'], resources: [ref(stack, stack.gateway.service)] },
    });
  });

  it('lets only EventBridge and log delivery write to that log group, with a bounded retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const [policy] = propsOfType(template, 'AWS::Logs::ResourcePolicy');
    const document = JSON.stringify(policy?.PolicyDocument);
    expect(document).toContain('events.amazonaws.com');
    expect(document).toContain(getAtt(stack, eventLogGroup, 'Arn')['Fn::GetAtt'][0]);
  });
});
