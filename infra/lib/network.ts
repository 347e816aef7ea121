import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { assertNoProblems, isIntegerIn } from './validation.js';

export const GATEWAY_PORT = 8000;
/**
 * The gateway's OPS_PORT (src/config.ts), where the ALB sends its health checks: a listener of its
 * own answering GET / and GET /metrics only. Node accepts one connection per turn of its event
 * loop, so on half a vCPU flooded with large batches a check sent to GATEWAY_PORT waited behind
 * ~70 queued connections, 6-7 s three times in a row, past the ALB's 5 s timeout (the task would
 * be replaced); on this port it was answered within 0.8-1.7 s (docs/performance.md, "Health checks
 * under a flood of large batches").
 */
export const OPS_PORT = 8001;
const HTTPS = 443;
/** A number 0–255 without leading zeros. */
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
/**
 * a.b.c.d/n, each number 0–255 and n 0–32: CDK's own check takes 999.0.0.0/40, which EC2 then
 * refuses only at deploy.
 */
export const IPV4_CIDR = new RegExp(`^(${OCTET}\\.){3}${OCTET}/(3[0-2]|[12]?\\d)$`);
/** a.b.c.d, each number 0–255: an IPv4 address as WHATWG URL writes a host. */
export const IPV4 = new RegExp(`^(${OCTET}\\.){3}${OCTET}$`);
/** An EC2 security group id: sg- and 8 (older groups) or 17 lower-case hex digits. */
export const SECURITY_GROUP_ID = /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/;

export interface NetworkProps {
  /** NAT gateways for the private subnets' egress: 1 is cheapest, 2 survives an AZ outage. */
  readonly natGateways: number;
  /** Open 443 on the ALB (only when an HTTPS listener exists). */
  readonly httpsEnabled: boolean;
  /** Extra egress from the tasks to an MLflow tracking server; cidr defaults to the VPC's own range. */
  readonly mlflowEgress?: { readonly port: number; readonly cidr?: string };
  /** Retention of the VPC flow log group. */
  readonly flowLogRetention: logs.RetentionDays;
  /**
   * A security group (of a Prometheus scraper in this VPC, or in a VPC peered with it) that may reach
   * the tasks on 8000 and OPS_PORT, for GET /metrics: the stack runs no scraper, and the ALB answers /metrics 404.
   */
  readonly metricsScraperSecurityGroupId?: string;
}

/**
 * VPC over two AZs plus the two security groups of the gateway: the ALB's and the tasks'.
 * Every rule is explicit and allowAllOutbound is off, so the template shows exactly what may talk to what.
 */
export class Network extends Construct {
  public readonly vpc: ec2.Vpc;
  public readonly albSecurityGroup: ec2.SecurityGroup;
  public readonly taskSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    validateNetworkProps(props);

    // Two AZs: public subnets for the ALB, private subnets with NAT egress for the tasks (NAT is billed hourly + per GB).
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
    });

    // Flow log of rejected and accepted traffic, kept for a bounded period, for security investigations.
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', {
      retention: props.flowLogRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    // ALB: reachable from the internet on 80 (and 443), may only talk to the tasks on the gateway port
    // and, for its health checks, the operations port.
    this.albSecurityGroup = new ec2.SecurityGroup(this, 'AlbSecurityGroup', {
      vpc: this.vpc,
      description: 'Churn gateway ALB: HTTP/HTTPS from the internet, egress only to gateway tasks',
      allowAllOutbound: false,
    });
    this.albSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP from the internet');
    if (props.httpsEnabled) {
      this.albSecurityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(HTTPS), 'HTTPS from the internet');
    }

    // Tasks: only the ALB may reach ports 8000 and OPS_PORT (and the metrics scraper, when one is given);
    // egress 443 pulls the image from Docker Hub and reaches CloudWatch/Secrets Manager. The group's
    // description names 8000 alone: EC2 cannot change a description, so CloudFormation would replace
    // the group (and every task with it) to add OPS_PORT there.
    this.taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: 'Churn gateway tasks: 8000 from the ALB only, egress HTTPS (and MLflow when configured)',
      allowAllOutbound: false,
    });
    this.taskSecurityGroup.connections.allowFrom(
      this.albSecurityGroup,
      ec2.Port.tcp(GATEWAY_PORT),
      'Gateway traffic from the ALB',
    );
    // As 8000's rule, one allowFrom writes the ALB's egress too: its group allows no other.
    this.taskSecurityGroup.connections.allowFrom(
      this.albSecurityGroup,
      ec2.Port.tcp(OPS_PORT),
      'ALB health checks (OPS_PORT)',
    );
    // The operator's Prometheus scraper, straight to each task's IP (the ALB answers /metrics 404).
    // A security group opens a port, not a path: on 8000 the scraper's group reaches the whole
    // gateway. OPS_PORT answers GET / and GET /metrics only, and answers them under a flood that
    // queues connections on 8000; 8000 stays open for scrape configurations written before it.
    if (props.metricsScraperSecurityGroupId) {
      for (const port of [GATEWAY_PORT, OPS_PORT]) {
        this.taskSecurityGroup.addIngressRule(
          ec2.Peer.securityGroupId(props.metricsScraperSecurityGroupId),
          ec2.Port.tcp(port),
          'Prometheus scraper (metricsScraperSecurityGroupId): GET /metrics',
        );
      }
    }
    this.taskSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(HTTPS), 'HTTPS: image pulls, logs, secrets');
    if (props.mlflowEgress) {
      this.taskSecurityGroup.addEgressRule(
        ec2.Peer.ipv4(props.mlflowEgress.cidr ?? this.vpc.vpcCidrBlock),
        ec2.Port.tcp(props.mlflowEgress.port),
        'MLflow tracking server',
      );
    }
    // DNS to the VPC resolver (.2) is not subject to security groups, so no port 53 rule is needed.
  }
}

/** a.b.c.d (valid) as a number 0 – 2³² − 1. */
const ipv4Number = (address: string): number => address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);

/** a.b.c.d/n (valid, IPV4_CIDR) with the bits after the prefix cleared, as EC2 stores it: 10.20.5.7/16 → 10.20.0.0/16. */
function networkAddress(cidr: string): string {
  const [address = '', length = ''] = cidr.split('/');
  const prefix = Number(length);
  const bits = ipv4Number(address);
  const size = 2 ** (32 - prefix);
  const network = bits - (bits % size);
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256);
  return `${octets.join('.')}/${prefix}`;
}

/** Whether the IPv4 address (valid, IPV4) is in the range (valid, IPV4_CIDR) as EC2 reads it. */
export function ipv4InCidr(address: string, cidr: string): boolean {
  const [, length = ''] = cidr.split('/');
  return networkAddress(`${address}/${length}`) === networkAddress(cidr);
}

function validateNetworkProps(props: NetworkProps): void {
  const problems: string[] = [];
  if (!isIntegerIn(props.natGateways, 1, 2)) {
    problems.push(`natGateways must be 1 or 2 (tasks run in private subnets and need egress), got ${props.natGateways}`);
  }
  // Named as the operator sets them: the stack fills mlflowEgress from mlflowPort (else the port
  // of mlflowTrackingUri) and mlflowCidr.
  if (props.mlflowEgress) {
    const { port, cidr } = props.mlflowEgress;
    if (!isIntegerIn(port, 1, 65535)) problems.push(`mlflowPort (else the port of mlflowTrackingUri) must be a TCP port 1–65535, got ${port}`);
    if (cidr !== undefined && !IPV4_CIDR.test(cidr)) {
      problems.push(`mlflowCidr must be an IPv4 CIDR like 10.0.0.0/16: four numbers 0–255 and a prefix length 0–32, got "${cidr}"`);
    } else if (cidr !== undefined && networkAddress(cidr) !== cidr) {
      const [host = ''] = cidr.split('/');
      problems.push(
        `mlflowCidr must be a network address (no bits set after the prefix), got "${cidr}": EC2 would silently open ${networkAddress(cidr)}, ` +
          `every address of the /${cidr.split('/')[1]}; did you mean ${networkAddress(cidr)}? (the one host alone is ${host}/32)`,
      );
    }
  }
  const scraper = props.metricsScraperSecurityGroupId;
  if (scraper !== undefined && !SECURITY_GROUP_ID.test(scraper)) {
    problems.push(`metricsScraperSecurityGroupId must be a security group id like sg-0123456789abcdef0 (sg- and 8 or 17 lower-case hex digits), got "${scraper}"`);
  }
  assertNoProblems('Network', problems);
}
