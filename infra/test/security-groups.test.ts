import { describe, expect, it } from 'vitest';
import type { IConstruct } from 'constructs';
import { OPS_PORT } from '../lib/network.js';
import { ALL_FEATURES, CERTIFICATE_ARN, getAtt, propsOf, ref, synth } from './helpers.js';

type Rule = Record<string, unknown>;

describe('security groups (HTTP only)', () => {
  const { stack, template } = synth();
  const albSg = getAtt(stack, stack.network.albSecurityGroup, 'GroupId');
  const taskSg = getAtt(stack, stack.network.taskSecurityGroup, 'GroupId');
  const inline = (sg: IConstruct, key: 'SecurityGroupIngress' | 'SecurityGroupEgress'): Rule[] =>
    (propsOf(template, stack, sg)[key] ?? []) as Rule[];
  const standalone = (type: string): Rule[] => Object.values(template.findResources(type)).map((r) => r.Properties as Rule);

  it('ALB accepts only HTTP:80 from the internet', () => {
    expect(inline(stack.network.albSecurityGroup, 'SecurityGroupIngress')).toEqual([
      { CidrIp: '0.0.0.0/0', Description: 'HTTP from the internet', FromPort: 80, IpProtocol: 'tcp', ToPort: 80 },
    ]);
  });

  it('the only cross-group ingress is ALB → tasks on 8000, and on the operations port for its health checks', () => {
    expect(standalone('AWS::EC2::SecurityGroupIngress')).toEqual([
      expect.objectContaining({ GroupId: taskSg, SourceSecurityGroupId: albSg, IpProtocol: 'tcp', FromPort: 8000, ToPort: 8000 }),
      expect.objectContaining({ GroupId: taskSg, SourceSecurityGroupId: albSg, IpProtocol: 'tcp', FromPort: OPS_PORT, ToPort: OPS_PORT }),
    ]);
    expect(inline(stack.network.taskSecurityGroup, 'SecurityGroupIngress')).toEqual([]);
  });

  it('ALB egress goes only to the tasks on 8000 and the operations port (its security group allows no other egress, so a health check there needs this rule)', () => {
    expect(inline(stack.network.albSecurityGroup, 'SecurityGroupEgress')).toEqual([]);
    expect(standalone('AWS::EC2::SecurityGroupEgress')).toEqual([
      expect.objectContaining({ GroupId: albSg, DestinationSecurityGroupId: taskSg, IpProtocol: 'tcp', FromPort: 8000, ToPort: 8000 }),
      expect.objectContaining({ GroupId: albSg, DestinationSecurityGroupId: taskSg, IpProtocol: 'tcp', FromPort: OPS_PORT, ToPort: OPS_PORT }),
    ]);
  });

  it('tasks may only leave on 443', () => {
    expect(inline(stack.network.taskSecurityGroup, 'SecurityGroupEgress')).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
  });

  it('the service runs its tasks in the task security group without public IPs', () => {
    expect(template).toHaveResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED', SecurityGroups: [taskSg] } },
    });
  });
});

describe('security groups (HTTPS and MLflow egress)', () => {
  const { stack, template } = synth({ certificateArn: CERTIFICATE_ARN, mlflowTrackingUri: 'http://mlflow.internal:5000', modelUri: 'models:/telco-churn@champion', mlflowPort: 5000, mlflowCidr: '10.20.0.0/16' });
  const sgProps = (construct: IConstruct) => propsOf(template, stack, construct);

  it('ALB accepts 80 and 443 from the internet, nothing else', () => {
    const ports = (sgProps(stack.network.albSecurityGroup).SecurityGroupIngress as Rule[]).map((r) => [r.CidrIp, r.FromPort, r.ToPort]);
    expect(ports).toEqual([
      ['0.0.0.0/0', 80, 80],
      ['0.0.0.0/0', 443, 443],
    ]);
  });

  it('tasks may reach MLflow on mlflowPort in the given CIDR, besides 443', () => {
    const egress = (sgProps(stack.network.taskSecurityGroup).SecurityGroupEgress as Rule[]).map((r) => [r.CidrIp, r.FromPort]);
    expect(egress).toEqual([
      ['0.0.0.0/0', 443],
      ['10.20.0.0/16', 5000],
    ]);
  });
});

describe('MLflow egress follows the tracking URI', () => {
  const model = { modelUri: 'models:/telco-churn@champion' };
  const egress = (overrides: Parameters<typeof synth>[0]) => {
    const { stack, template } = synth({ ...model, ...overrides });
    const rules = (propsOf(template, stack, stack.network.taskSecurityGroup).SecurityGroupEgress ?? []) as Rule[];
    return { vpcCidr: getAtt(stack, stack.network.vpc, 'CidrBlock'), rules: rules.map((r) => [r.CidrIp, r.FromPort, r.ToPort]) };
  };

  it.each([
    ['http://mlflow.internal:5000', 5000],
    ['https://mlflow.internal:8443/mlflow', 8443],
    ['http://mlflow.internal', 80],
    ['http://mlflow.internal:80', 80],
    ['https://mlflow.internal', 443],
  ])('%s without mlflowPort: the tasks may connect to port %i in the VPC', (mlflowTrackingUri, port) => {
    const { vpcCidr, rules } = egress({ mlflowTrackingUri });
    expect(rules).toEqual([
      ['0.0.0.0/0', 443, 443],
      [vpcCidr, port, port],
    ]);
  });

  it('an mlflowPort equal to the URI’s port changes nothing; mlflowCidr still narrows the destination', () => {
    const uri = { mlflowTrackingUri: 'http://mlflow.internal:5000' };
    expect(egress({ ...uri, mlflowPort: 5000 })).toEqual(egress(uri));
    expect(egress({ ...uri, mlflowCidr: '10.20.0.0/16' }).rules).toEqual([
      ['0.0.0.0/0', 443, 443],
      ['10.20.0.0/16', 5000, 5000],
    ]);
  });
});

describe('a metrics scraper (metricsScraperSecurityGroupId)', () => {
  const SCRAPER = 'sg-0123456789abcdef0';

  it("may reach the tasks on 8000 and on the operations port, straight to their IPs (the ALB answers /metrics 404); nothing else changes", () => {
    const withScraper = synth({ metricsScraperSecurityGroupId: SCRAPER });
    const without = synth();
    const rules = (s: ReturnType<typeof synth>, key: 'SecurityGroupIngress' | 'SecurityGroupEgress') =>
      (propsOf(s.template, s.stack, s.stack.network.taskSecurityGroup)[key] ?? []) as Rule[];
    expect(rules(withScraper, 'SecurityGroupIngress')).toEqual([
      expect.objectContaining({ SourceSecurityGroupId: SCRAPER, IpProtocol: 'tcp', FromPort: 8000, ToPort: 8000 }),
      expect.objectContaining({ SourceSecurityGroupId: SCRAPER, IpProtocol: 'tcp', FromPort: OPS_PORT, ToPort: OPS_PORT }),
    ]);
    expect(rules(without, 'SecurityGroupIngress')).toEqual([]);
    expect(rules(withScraper, 'SecurityGroupEgress')).toEqual(rules(without, 'SecurityGroupEgress'));
  });

  it('is, with the ALB, all that reaches the operations port: no address range does, with every feature on', () => {
    const { stack, template } = synth(ALL_FEATURES);
    const albSg = getAtt(stack, stack.network.albSecurityGroup, 'GroupId');
    const taskSg = getAtt(stack, stack.network.taskSecurityGroup, 'GroupId');
    const opens = (rule: Rule) => rule.IpProtocol === '-1' || (Number(rule.FromPort) <= OPS_PORT && OPS_PORT <= Number(rule.ToPort));
    const standalone = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties as Rule);
    const toTasks = [
      ...((propsOf(template, stack, stack.network.taskSecurityGroup).SecurityGroupIngress ?? []) as Rule[]),
      ...standalone.filter((rule) => JSON.stringify(rule.GroupId) === JSON.stringify(taskSg)),
    ];
    expect(toTasks.filter(opens).map((rule) => rule.SourceSecurityGroupId ?? rule.CidrIp ?? rule.CidrIpv6 ?? rule.SourcePrefixListId)).toEqual([SCRAPER, albSg]);
  });

  it("outputs the VPC's id, where the scraper runs", () => {
    const { stack, template } = synth();
    expect(template).toHaveOutput('VpcId', { Value: ref(stack, stack.network.vpc) });
  });
});
