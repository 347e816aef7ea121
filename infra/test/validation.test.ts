import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { KINDS, settingsFromContext } from '../lib/context.js';
import { fargateSizeProblem } from '../lib/fargate-sizes.js';
import { DEFAULT_SETTINGS, type GatewaySettings } from '../lib/gateway-stack.js';
import { PropsValidationError } from '../lib/validation.js';
import { ADMIN_SECRET_ARN, CERTIFICATE_ARN, MLFLOW_CREDENTIALS_SECRET_ARN, MLFLOW_TOKEN_SECRET_ARN, SECRETS_KMS_KEY_ARN, buildStack, propsOfType, synth } from './helpers.js';

function problemsOf(overrides: Partial<GatewaySettings>): string {
  try {
    buildStack(overrides);
  } catch (error) {
    expect(error).toBeInstanceOf(PropsValidationError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(overrides)} to be rejected`);
}

describe('settings are validated at synth time with clear errors', () => {
  it('rejects desiredCount below 2', () => {
    expect(problemsOf({ desiredCount: 1 })).toContain('desiredCount must be an integer ≥ 2 so a task runs in each AZ, got 1');
  });

  it('rejects maxCount below desiredCount', () => {
    expect(problemsOf({ desiredCount: 4, maxCount: 3 })).toContain('maxCount must be an integer ≥ desiredCount (4), got 3');
  });

  it('rejects a cpu/memory pair Fargate does not offer', () => {
    expect(problemsOf({ cpu: 256, memoryMiB: 4096 })).toContain('memoryMiB 4096 is not valid with cpu 256; Fargate allows 512–2048 MiB');
  });

  it("rejects 512 MiB, which Fargate offers with cpu 256, as below what the gateway's default body budget needs (1024 MiB)", () => {
    expect(problemsOf({ cpu: 256, memoryMiB: 512 })).toContain(
      'GatewayService: invalid props:\n  - memoryMiB must be at least 1024, got 512: the gateway\'s default request-body budget (32 MiB of bodies in flight) was measured at 749 MB',
    );
    expect(problemsOf({ cpu: 256, memoryMiB: 512 })).toContain('with cpu 256 use memoryMiB 1024');
    expect(() => buildStack({ cpu: 256, memoryMiB: 1024 })).not.toThrow();
  });

  it('rejects a cpu value Fargate does not offer', () => {
    expect(problemsOf({ cpu: 300 })).toContain('cpu 300 is not a Fargate CPU size; use one of 256, 512, 1024, 2048, 4096, 8192, 16384');
  });

  it('rejects a malformed certificate ARN', () => {
    expect(problemsOf({ certificateArn: 'arn:aws:iam::123456789012:server-certificate/x' })).toMatch(
      /LoadBalancer: invalid props:\n {2}- certificateArn must be an ACM certificate ARN/,
    );
  });

  it('rejects ADMIN_TOKEN without a certificate: the token would cross the internet in clear text', () => {
    expect(problemsOf({ adminTokenSecretArn: ADMIN_SECRET_ARN })).toContain(
      'adminTokenSecretArn needs certificateArn: without it the internet-facing ALB serves plain HTTP, and every reloadModel call would send ADMIN_TOKEN in clear text',
    );
    expect(() => buildStack({ adminTokenSecretArn: ADMIN_SECRET_ARN, certificateArn: CERTIFICATE_ARN })).not.toThrow();
  });

  it('rejects a partial Secrets Manager ARN for ADMIN_TOKEN', () => {
    expect(problemsOf({ adminTokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:churn/admin', certificateArn: CERTIFICATE_ARN })).toContain(
      'adminTokenSecretArn must be a complete Secrets Manager ARN',
    );
  });

  it('rejects a partial Secrets Manager ARN for the MLflow credentials or token, naming the setting and the value', () => {
    const mlflow = { mlflowTrackingUri: 'http://mlflow.internal:5000', modelUri: 'models:/telco-churn@champion' };
    const partial = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:churn/mlflow';
    const credentials = problemsOf({ ...mlflow, mlflowCredentialsSecretArn: partial });
    expect(credentials).toContain('mlflowCredentialsSecretArn must be a complete Secrets Manager ARN like arn:aws:secretsmanager:eu-west-1:123456789012:secret:name-AbCdEf');
    expect(credentials).toContain('{"username": "…", "password": "…"}');
    expect(credentials).toContain(`got "${partial}"`);
    expect(problemsOf({ ...mlflow, mlflowTokenSecretArn: 'churn/mlflow-token' })).toContain(
      'mlflowTokenSecretArn must be a complete Secrets Manager ARN like arn:aws:secretsmanager:eu-west-1:123456789012:secret:name-AbCdEf (of a secret whose value is the bearer token), got "churn/mlflow-token"',
    );
    expect(problemsOf({ ...mlflow, mlflowCredentialsSecretArn: 'arn:aws:ssm:eu-west-1:123456789012:parameter/mlflow' })).toContain(
      'mlflowCredentialsSecretArn must be a complete Secrets Manager ARN',
    );
  });

  it('rejects MLflow credentials and token together, and either without a tracking URI, as the gateway would', () => {
    const mlflow = { mlflowTrackingUri: 'http://mlflow.internal:5000', modelUri: 'models:/telco-churn@champion' };
    expect(problemsOf({ ...mlflow, mlflowCredentialsSecretArn: MLFLOW_CREDENTIALS_SECRET_ARN, mlflowTokenSecretArn: MLFLOW_TOKEN_SECRET_ARN })).toContain(
      'set mlflowCredentialsSecretArn (username and password, HTTP Basic) or mlflowTokenSecretArn (bearer token), not both',
    );
    expect(problemsOf({ mlflowCredentialsSecretArn: MLFLOW_CREDENTIALS_SECRET_ARN })).toMatch(
      /GatewayService: invalid props:\n {2}- mlflowCredentialsSecretArn needs mlflowTrackingUri: the gateway refuses MLflow credentials without MLFLOW_TRACKING_URI/,
    );
    expect(problemsOf({ mlflowTokenSecretArn: MLFLOW_TOKEN_SECRET_ARN })).toContain('mlflowTokenSecretArn needs mlflowTrackingUri');
    expect(() => buildStack({ ...mlflow, mlflowCredentialsSecretArn: MLFLOW_CREDENTIALS_SECRET_ARN })).not.toThrow();
    expect(() => buildStack({ ...mlflow, mlflowTokenSecretArn: MLFLOW_TOKEN_SECRET_ARN })).not.toThrow();
  });

  it('rejects a secretsKmsKeyArn that is no key ARN (an alias, a key id) or that has no secret to decrypt', () => {
    const secret = { certificateArn: CERTIFICATE_ARN, adminTokenSecretArn: ADMIN_SECRET_ARN };
    for (const arn of ['arn:aws:kms:eu-west-1:123456789012:alias/churn-secrets', '1234abcd-12ab-34cd-56ef-1234567890ab']) {
      expect(problemsOf({ ...secret, secretsKmsKeyArn: arn })).toContain(
        `secretsKmsKeyArn must be a KMS key ARN like arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab (the key's, not an alias's), got "${arn}"`,
      );
    }
    expect(problemsOf({ secretsKmsKeyArn: SECRETS_KMS_KEY_ARN })).toContain(
      'secretsKmsKeyArn needs a secret to decrypt: adminTokenSecretArn, mlflowCredentialsSecretArn or mlflowTokenSecretArn',
    );
    expect(() => buildStack({ ...secret, secretsKmsKeyArn: SECRETS_KMS_KEY_ARN })).not.toThrow();
    expect(() => buildStack({ ...secret, secretsKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef' })).not.toThrow();
  });

  it('rejects a SHUTDOWN_TIMEOUT_MS that ECS could not wait for, naming shutdownTimeoutMs and its range', () => {
    const problem = (ms: number) =>
      `GatewayStack: invalid props:\n  - shutdownTimeoutMs must be an integer 1,000–110,000, got ${ms}: ECS waits ⌈ms/1000⌉ + 10 s after SIGTERM before killing the gateway, and Fargate allows at most 120 s`;
    for (const ms of [110_001, 115_000, 999, 0, 1500.5]) expect(problemsOf({ shutdownTimeoutMs: ms })).toBe(problem(ms));
    for (const ms of [1000, 110_000]) expect(() => buildStack({ shutdownTimeoutMs: ms }), String(ms)).not.toThrow();
  });

  it('rejects zero or three NAT gateways', () => {
    expect(problemsOf({ natGateways: 0 })).toContain('natGateways must be 1 or 2');
    expect(problemsOf({ natGateways: 3 })).toContain('natGateways must be 1 or 2');
  });

  it('rejects scaling set points outside what infra/README.md allows', () => {
    for (const cpuTargetPercent of [9, 91]) expect(problemsOf({ cpuTargetPercent })).toContain(`cpuTargetPercent must be an integer 10–90, got ${cpuTargetPercent}`);
    for (const requestsPerTarget of [0, -1000]) {
      expect(problemsOf({ requestsPerTarget })).toContain(`requestsPerTarget must be a positive integer (requests per task per minute), got ${requestsPerTarget}`);
    }
    for (const ok of [{ cpuTargetPercent: 10 }, { cpuTargetPercent: 90 }, { requestsPerTarget: 1 }]) expect(() => buildStack(ok)).not.toThrow();
  });

  it('rejects a fraction where a count or percentage must be whole', () => {
    expect(problemsOf({ natGateways: 1.5 })).toContain('natGateways must be 1 or 2 (tasks run in private subnets and need egress), got 1.5');
    expect(problemsOf({ cpuTargetPercent: 45.5 })).toContain('cpuTargetPercent must be an integer 10–90, got 45.5');
    expect(problemsOf({ mlflowTrackingUri: 'http://mlflow.internal:5000', modelUri: 'models:/telco-churn@champion', mlflowPort: 5000.5 })).toContain('mlflowPort 5000.5 disagrees');
  });

  it('rejects a log retention CloudWatch does not offer', () => {
    expect(problemsOf({ logRetentionDays: 10 })).toContain("logRetentionDays must be one of CloudWatch's retention periods");
  });

  it('rejects the MLflow settings the gateway would refuse at start-up', () => {
    expect(problemsOf({ mlflowTrackingUri: 'http://mlflow.internal:5000' })).toContain('modelUri and mlflowTrackingUri must be set together');
    expect(problemsOf({ modelUri: 'models:/telco-churn@champion' })).toContain('modelUri and mlflowTrackingUri must be set together');
    for (const uri of ['mlflow:5000', 'sqlite:///tmp/mlflow.db', 'file:///mlruns', 'http://alice:secret@mlflow:5000', 'http://mlflow:99999', 'http://mlflow:abc', 'http://mlflow:5000/?x=1', 'http://mlflow:5000#f']) {
      expect(problemsOf({ mlflowTrackingUri: uri, modelUri: 'models:/telco-churn@champion' })).toContain(`mlflowTrackingUri must be an http(s) URL without credentials, query (?…) or fragment (#…), like http://mlflow.internal:5000 (a path prefix, as in http://mlflow.internal:5000/mlflow, is fine), got "${uri}"`);
    }
    expect(problemsOf({ mlflowTrackingUri: 'http://mlflow.internal:5000', modelUri: 'telco-churn' })).toContain('modelUri must look like models:/telco-churn@champion');
    for (const modelUri of ['models:/telco-churn@champion', 'models:/telco-churn/3', 'runs:/0123abcd/bundle']) {
      expect(() => buildStack({ mlflowTrackingUri: 'https://mlflow.internal', modelUri })).not.toThrow();
    }
  });

  it('rejects an mlflowPort the tracking URI does not use, naming both', () => {
    const modelUri = 'models:/telco-churn@champion';
    expect(problemsOf({ mlflowTrackingUri: 'http://mlflow.internal:5000', modelUri, mlflowPort: 5001 })).toContain(
      'mlflowPort 5001 disagrees with mlflowTrackingUri "http://mlflow.internal:5000", which connects to port 5000',
    );
    expect(problemsOf({ mlflowTrackingUri: 'https://mlflow.internal', modelUri, mlflowPort: 5000 })).toContain(
      'mlflowPort 5000 disagrees with mlflowTrackingUri "https://mlflow.internal", which connects to port 443',
    );
  });

  it('rejects mlflowStrict without MLflow: it only governs loading the model from MLflow', () => {
    expect(problemsOf({ mlflowStrict: true })).toContain('mlflowStrict needs mlflowTrackingUri and modelUri');
  });

  it('rejects a bad image reference, log level and MLflow egress', () => {
    expect(problemsOf({ image: 'not an image' })).toContain('image "not an image" is not an image reference');
    expect(problemsOf({ logLevel: 'verbose' as never })).toBe(
      'GatewayStack: invalid props:\n  - logLevel must be one of info, debug, trace, got "verbose": the gateway writes its access lines at info, and the single-prediction latency alarm and the request telemetry read them',
    );
  });

  it('rejects an image that is not a Docker reference, naming the setting, the value, what is wrong and what it takes', () => {
    const refused: Record<string, string> = {
      'docker.io/MyUser/churn-gateway:abc': 'its path component "MyUser" has upper case',
      'MyUser/churn-gateway:abc': 'its path component "MyUser" has upper case',
      'docker.io/me/churn-gateway:': 'its tag is empty',
      'docker.io/me/churn-gateway::sha': 'its tag ":sha" is not a tag',
      'docker.io/me/churn-gateway:.hidden': 'its tag ".hidden" is not a tag',
      [`docker.io/me/churn-gateway:${'a'.repeat(129)}`]: 'is not a tag',
      'docker.io/me/churn-gateway@sha256:xyz': 'its digest "sha256:xyz" is not "sha256:" and 64 lower-case hex digits',
      [`docker.io/me/churn-gateway@sha256:${'A'.repeat(64)}`]: 'is not "sha256:" and 64 lower-case hex digits',
      [`docker.io/me/churn-gateway@md5:${'a'.repeat(32)}`]: 'is not "sha256:" and 64 lower-case hex digits',
      'docker.io/me//churn-gateway:1': 'its path has an empty component',
      'docker.io/me/churn-gateway/:1': 'its path has an empty component',
      'docker.io/me/churn..gateway:1': 'its path component "churn..gateway" is not one',
      'docker.io/me/-churn:1': 'its path component "-churn" is not one',
      'bad_host.io/me/churn-gateway:1': 'its registry host "bad_host.io" is not a host name',
      'localhost:port/churn-gateway:1': 'its registry host "localhost:port" is not a host name',
      [`docker.io/${'a'.repeat(250)}:1`]: 'characters, more than 255',
      ' docker.io/me/churn-gateway:1': 'its registry host " docker.io" is not a host name',
    };
    for (const [image, reason] of Object.entries(refused)) {
      const message = problemsOf({ image });
      expect(message, image).toContain(`GatewayService: invalid props:\n  - image "${image}" is not an image reference: `);
      expect(message, image).toContain(reason);
      expect(message, image).toContain('; it must be [registry host[:port]/]path[:tag][@sha256:<64 hex digits>]: path components of lower-case letters and digits');
    }
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    for (const image of [
      'docker.io/acme/churn-gateway:0123456789abcdef0123456789abcdef01234567',
      'acme/churn-gateway:1.2.3',
      'churn-gateway',
      `docker.io/acme/churn-gateway@${digest}`,
      `docker.io/acme/churn-gateway:1.2.3@${digest}`,
      'ghcr.io/acme/team__x/churn.gateway_2:V1.2-rc_3',
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn-gateway:abc',
      'localhost:5000/churn---gateway:latest',
      'Registry.Example.com:443/acme/churn-gateway:1',
    ]) {
      expect(() => buildStack({ image }), image).not.toThrow();
    }
  });

  it('rejects mlflowPort and mlflowCidr without mlflowTrackingUri: one would open a port nothing uses, the other would change nothing', () => {
    expect(problemsOf({ mlflowPort: 5000 })).toContain(
      "GatewayStack: invalid props:\n  - mlflowPort needs mlflowTrackingUri: it opens the tasks' egress to the MLflow server that URI names, and without one it would open port 5000 for nothing",
    );
    expect(problemsOf({ mlflowCidr: '10.20.0.0/16' })).toContain(
      'GatewayStack: invalid props:\n  - mlflowCidr needs mlflowTrackingUri: it says where the tasks may reach the MLflow server that URI names, and without one it would change nothing',
    );
    expect(problemsOf({ mlflowPort: 5000, mlflowCidr: '10.20.0.0/16' })).toMatch(/mlflowPort needs mlflowTrackingUri.*\n.*mlflowCidr needs mlflowTrackingUri/);
  });

  it('rejects a metricsScraperSecurityGroupId that is not a security group id, naming it and what is allowed', () => {
    for (const id of ['sg-123', 'sg-0123456789ABCDEF0', 'sg-0123456789abcdef', '0123456789abcdef0', 'sg-0123456789abcdef0 ', 'vpc-0123456789abcdef0']) {
      expect(problemsOf({ metricsScraperSecurityGroupId: id }), id).toContain(
        `Network: invalid props:\n  - metricsScraperSecurityGroupId must be a security group id like sg-0123456789abcdef0 (sg- and 8 or 17 lower-case hex digits), got "${id}"`,
      );
    }
    for (const id of ['sg-0123456789abcdef0', 'sg-01234567']) expect(() => buildStack({ metricsScraperSecurityGroupId: id }), id).not.toThrow();
  });

  it('rejects an mlflowCidr EC2 would refuse at deploy, naming mlflowCidr and what is allowed', () => {
    const mlflow = { mlflowTrackingUri: 'http://mlflow.internal:5000', modelUri: 'models:/telco-churn@champion' };
    for (const mlflowCidr of ['999.0.0.0/40', '10.0.0.0/33', '10.0.0.256/8', '300.1.2.3/8', '10.0.0.0', '10.0.0/8', '010.0.0.0/8']) {
      expect(problemsOf({ ...mlflow, mlflowCidr }), mlflowCidr).toContain(
        `Network: invalid props:\n  - mlflowCidr must be an IPv4 CIDR like 10.0.0.0/16: four numbers 0–255 and a prefix length 0–32, got "${mlflowCidr}"`,
      );
    }
    for (const mlflowCidr of ['10.20.0.0/16', '0.0.0.0/0', '192.168.255.255/32', '172.16.0.0/12']) expect(() => buildStack({ ...mlflow, mlflowCidr }), mlflowCidr).not.toThrow();
    // With a tracking URI at an IPv4 address, the malformed range is the one problem named: no 'outside' computed from it.
    for (const mlflowCidr of ['10.0.0.0/40', '10.0.0.0', '300.1.2.3/8']) {
      expect(problemsOf({ mlflowTrackingUri: 'http://10.0.0.5:5000', modelUri: mlflow.modelUri, mlflowCidr }), mlflowCidr).toBe(
        `Network: invalid props:\n  - mlflowCidr must be an IPv4 CIDR like 10.0.0.0/16: four numbers 0–255 and a prefix length 0–32, got "${mlflowCidr}"`,
      );
    }
  });

  it('rejects an mlflowCidr with bits set after the prefix, which EC2 would widen silently, giving the network address', () => {
    const mlflow = { mlflowTrackingUri: 'http://mlflow.internal:5000', modelUri: 'models:/telco-churn@champion' };
    for (const [mlflowCidr, network, host] of [
      ['10.20.5.7/16', '10.20.0.0/16', '10.20.5.7/32'],
      ['10.20.0.1/16', '10.20.0.0/16', '10.20.0.1/32'],
      ['192.168.1.255/25', '192.168.1.128/25', '192.168.1.255/32'],
      ['172.31.255.255/12', '172.16.0.0/12', '172.31.255.255/32'],
      ['10.0.0.1/0', '0.0.0.0/0', '10.0.0.1/32'],
      ['255.255.255.255/31', '255.255.255.254/31', '255.255.255.255/32'],
    ]) {
      expect(problemsOf({ ...mlflow, mlflowCidr }), mlflowCidr).toBe(
        `Network: invalid props:\n  - mlflowCidr must be a network address (no bits set after the prefix), got "${mlflowCidr}": EC2 would silently open ${network}, ` +
          `every address of the /${mlflowCidr.split('/')[1]}; did you mean ${network}? (the one host alone is ${host})`,
      );
    }
    for (const mlflowCidr of ['10.20.5.7/32', '192.168.1.128/25', '255.255.255.254/31', '10.20.4.0/22']) expect(() => buildStack({ ...mlflow, mlflowCidr }), mlflowCidr).not.toThrow();
  });

  it('rejects a tracking URI on the task itself (loopback), where no MLflow server runs', () => {
    const modelUri = 'models:/telco-churn@champion';
    for (const [uri, host] of [
      ['http://127.0.0.1:5000', '127.0.0.1'],
      ['http://localhost:5000', 'localhost'],
      ['https://LOCALHOST/mlflow', 'localhost'],
      ['http://mlflow.localhost:5000', 'mlflow.localhost'],
      ['http://127.1.2.3:5000', '127.1.2.3'],
      ['http://[::1]:5000', '[::1]'],
      ['http://0.0.0.0:5000', '0.0.0.0'],
    ]) {
      expect(problemsOf({ mlflowTrackingUri: uri, modelUri }), uri).toBe(
        `GatewayStack: invalid props:\n  - mlflowTrackingUri "${uri}" names the task itself (${host} is its loopback), where no MLflow server runs: ` +
          'the tasks could not reach MLflow and would serve the packaged model; give an address of the MLflow server the tasks can reach',
      );
    }
  });

  it("rejects a tracking URI at an IPv4 address outside mlflowCidr, else outside the VPC's range, which the egress rule would not open", () => {
    const modelUri = 'models:/telco-churn@champion';
    const [vpc] = propsOfType(synth().template, 'AWS::EC2::VPC');
    const vpcCidr = String(vpc?.CidrBlock);
    expect(vpcCidr).toBe('10.0.0.0/16');
    const unreachable = 'the only range the tasks may reach MLflow in: the tasks could not reach MLflow and would serve the packaged model; set mlflowCidr to a range that holds it';
    expect(problemsOf({ mlflowTrackingUri: 'http://10.1.0.5:5000', modelUri })).toBe(
      `GatewayStack: invalid props:\n  - mlflowTrackingUri "http://10.1.0.5:5000" connects to 10.1.0.5, outside the VPC's ${vpcCidr} (mlflowCidr unset), ${unreachable}, e.g. 10.1.0.5/32`,
    );
    expect(problemsOf({ mlflowTrackingUri: 'http://10.30.0.5:5000', modelUri, mlflowCidr: '10.20.0.0/16' })).toBe(
      `GatewayStack: invalid props:\n  - mlflowTrackingUri "http://10.30.0.5:5000" connects to 10.30.0.5, outside mlflowCidr 10.20.0.0/16, ${unreachable}, e.g. 10.30.0.5/32`,
    );
    // WHATWG URL (the gateway's fetch) reads http://10.20.1 as 10.20.0.1.
    expect(problemsOf({ mlflowTrackingUri: 'http://10.20.1:5000', modelUri, mlflowCidr: '10.20.1.0/24' })).toContain('connects to 10.20.0.1, outside mlflowCidr 10.20.1.0/24');
    for (const [mlflowTrackingUri, mlflowCidr] of [
      ['http://10.0.255.254:5000', undefined],
      ['http://10.0.0.1', undefined],
      ['http://10.30.0.5:5000', '10.30.0.5/32'],
      ['https://192.168.7.1', '192.168.0.0/16'],
      ['http://mlflow.internal:5000', '10.20.0.0/16'],
      // A name, however it begins, is not judged: synth does not resolve it.
      ['http://10.1.0.5.mlflow.internal:5000', undefined],
    ] as const) {
      expect(() => buildStack({ mlflowTrackingUri, modelUri, mlflowCidr }), `${mlflowTrackingUri} in ${mlflowCidr}`).not.toThrow();
    }
  });

  it('rejects a tracking URI at an IPv6 address, which the IPv4-only VPC and egress rule never reach', () => {
    const modelUri = 'models:/telco-churn@champion';
    const [vpc] = propsOfType(synth().template, 'AWS::EC2::VPC');
    expect(vpc?.Ipv6CidrBlock ?? null).toBe(null);
    expect(propsOfType(synth().template, 'AWS::EC2::VPCCidrBlock')).toEqual([]);
    for (const [uri, host] of [
      ['http://[fd00::5]:5000', '[fd00::5]'],
      ['https://[2001:db8::1]/mlflow', '[2001:db8::1]'],
      // An IPv4-mapped address is IPv6 on the wire too (this one is the loopback 127.0.0.1).
      ['http://[::ffff:127.0.0.1]:5000', '[::ffff:7f00:1]'],
    ]) {
      expect(problemsOf({ mlflowTrackingUri: uri, modelUri, mlflowCidr: '10.20.0.0/16' }), uri).toBe(
        `GatewayStack: invalid props:\n  - mlflowTrackingUri "${uri}" connects to ${host}, an IPv6 address, but the VPC and the egress rule to MLflow are IPv4 only: ` +
          'the tasks could not reach MLflow and would serve the packaged model; give an IPv4 address or a host name',
      );
    }
  });

  it('rejects a tracking URI whose port no TCP connection can use, naming the port setting', () => {
    expect(problemsOf({ mlflowTrackingUri: 'http://mlflow.internal:0', modelUri: 'models:/telco-churn@champion' })).toContain(
      'mlflowPort (else the port of mlflowTrackingUri) must be a TCP port 1–65535, got 0',
    );
  });

  it('rejects bad alarm thresholds and topic ARN', () => {
    expect(problemsOf({ fiveXxRatePercent: 0, p99LatencySeconds: 120, alarmTopicArn: 'alerts' })).toMatch(
      /fiveXxRatePercent.*\n.*p99LatencySeconds.*\n.*alarmTopicArn/,
    );
    expect(problemsOf({ fiveXxRatePercent: 101 })).toContain('fiveXxRatePercent must be in (0, 100], got 101');
  });

  it('rejects a single-prediction p99 threshold that is not 0.1 ms to the request timeout, in hundredths', () => {
    const problem = (ms: number) => `singlePredictionP99Ms must be a number of milliseconds from 0.1 to 30000 (the gateway's request timeout) with at most 2 decimals, got ${ms}`;
    for (const ms of [0, 0.05, -5, 30_001, 2.555, Number.NaN]) expect(problemsOf({ singlePredictionP99Ms: ms })).toContain(problem(ms));
    for (const ms of [0.1, 2.55, 10, 30_000]) expect(() => buildStack({ singlePredictionP99Ms: ms }), String(ms)).not.toThrow();
  });

  it('rejects a log level that drops the access lines the single-prediction latency alarm reads', () => {
    // silent as well: a level the gateway takes (LOG_LEVEL=silent), refused once, with the levels that are allowed.
    for (const logLevel of ['warn', 'error', 'fatal', 'silent'] as const) {
      expect(problemsOf({ logLevel })).toBe(
        `GatewayStack: invalid props:\n  - logLevel must be one of info, debug, trace, got "${logLevel}": at ${logLevel} the gateway drops its access lines (written at info), which the single-prediction latency alarm and the request telemetry read, so that alarm would never fire (lower logRetentionDays to cut log cost)`,
      );
    }
    for (const logLevel of ['info', 'debug', 'trace'] as const) expect(() => buildStack({ logLevel }), logLevel).not.toThrow();
  });

  it('reports every problem of a construct at once', () => {
    const message = problemsOf({ desiredCount: 1, cpu: 256, memoryMiB: 8192 });
    expect(message).toContain('desiredCount');
    expect(message).toContain('memoryMiB 8192');
  });
});

describe('Fargate sizes', () => {
  it.each([
    [256, 256],
    [256, 1536],
    [512, 1536],
    [4096, 31744],
    [8192, 17408],
    [8192, 65536],
    [16384, 36864],
  ])('refuses cpu %i with %i MiB, which Fargate does not offer (between its steps or past its range)', (cpu, memory) => {
    expect(fargateSizeProblem(cpu, memory)).toContain(`memoryMiB ${memory} is not valid with cpu ${cpu}`);
  });

  it.each([
    [256, 512],
    [512, 4096],
    [1024, 8192],
    [4096, 30720],
    [16384, 122880],
  ])('accepts cpu %i with %i MiB', (cpu, memory) => {
    expect(fargateSizeProblem(cpu, memory)).toBeUndefined();
  });
});

describe('settings from CDK context', () => {
  const fromContext = (context: Record<string, unknown>) => settingsFromContext(new App({ context }).node);

  it('uses the defaults when nothing is given, and has none for image', () => {
    expect(fromContext({})).toMatchObject({ cpu: 512, desiredCount: 2, natGateways: 1, mlflowStrict: false });
    expect(fromContext({}).image).toBeUndefined();
    // What `-c image=$IMAGE` gives with IMAGE empty: unset, not the upstream project's image.
    expect(fromContext({ image: '' }).image).toBeUndefined();
  });

  it('parses -c values, which arrive as strings', () => {
    expect(fromContext({ cpu: '1024', memoryMiB: '2048', graphiqlEnabled: 'true', mlflowStrict: 'true', image: 'ghcr.io/x/y:1', certificateArn: '' })).toMatchObject({
      cpu: 1024,
      memoryMiB: 2048,
      graphiqlEnabled: true,
      mlflowStrict: true,
      image: 'ghcr.io/x/y:1',
    });
  });

  it('reads the MLflow secret ARNs; an empty value leaves one unset', () => {
    const settings = fromContext({ mlflowCredentialsSecretArn: ` ${MLFLOW_CREDENTIALS_SECRET_ARN} `, mlflowTokenSecretArn: '' });
    expect(settings.mlflowCredentialsSecretArn).toBe(MLFLOW_CREDENTIALS_SECRET_ARN);
    expect(settings.mlflowTokenSecretArn).toBeUndefined();
    expect(fromContext({ mlflowTokenSecretArn: MLFLOW_TOKEN_SECRET_ARN }).mlflowTokenSecretArn).toBe(MLFLOW_TOKEN_SECRET_ARN);
  });

  it('names every context value that does not parse', () => {
    expect(() => fromContext({ cpu: 'lots', graphiqlEnabled: 'yes', p99LatencySeconds: 'fast' })).toThrow(
      /context "cpu" must be an integer in decimal digits, like 3, got "lots"\n {2}- context "graphiqlEnabled" must be a boolean, got "yes": use true or false\n {2}- context "p99LatencySeconds" must be a number in decimal digits, like 3 or 0.75, got "fast"/,
    );
  });

  const integerKeys = Object.entries(KINDS).flatMap(([key, kind]) => (kind === 'integer' ? [key] : []));
  const decimalKeys = Object.entries(KINDS).flatMap(([key, kind]) => (kind === 'number' ? [key] : []));
  /** The one problem reading `{ [key]: raw }` from context is refused with. */
  const refusalOf = (key: string, raw: unknown): string => {
    try {
      fromContext({ [key]: raw });
    } catch (error) {
      expect(error).toBeInstanceOf(PropsValidationError);
      return (error as PropsValidationError).problems.join('\n');
    }
    return `accepted as ${String(fromContext({ [key]: raw })[key as keyof GatewaySettings])}`;
  };

  it.each(integerKeys)('reads %s from decimal digits (-c) or a JSON integer (cdk.json), and refuses anything else naming it and the value', (key) => {
    for (const [raw, value] of [['3', 3], ['10', 10], ['-3', -3], ['007', 7], [3, 3], [60_000, 60_000]] as const) {
      expect(fromContext({ [key]: raw })[key as keyof GatewaySettings], JSON.stringify(raw)).toBe(value);
    }
    // What Number() reads but nobody types meaning the number; a fraction; text; JSON that is no integer.
    for (const raw of ['0x3', '1e1', ' 3', '3 ', '3.0', '3.5', '+3', '0b11', '0o3', '3_000', '3,000', 'Infinity', 'NaN', 'three', '99999999999999999999', 3.5, true, [3]]) {
      expect(refusalOf(key, raw), JSON.stringify(raw)).toBe(`context "${key}" must be an integer in decimal digits, like 3, got ${JSON.stringify(raw)}`);
    }
  });

  it.each(decimalKeys)('reads %s from decimal digits with at most one decimal point (-c) or a JSON number (cdk.json), and refuses anything else naming it and the value', (key) => {
    for (const [raw, value] of [['3', 3], ['0.75', 0.75], ['25.5', 25.5], ['-1', -1], [0.75, 0.75], [3, 3]] as const) {
      expect(fromContext({ [key]: raw })[key as keyof GatewaySettings], JSON.stringify(raw)).toBe(value);
    }
    for (const raw of ['0x3', '1e1', '.5', '5.', ' 3', '+3', '0b11', '1.2.3', '0,75', 'Infinity', 'NaN', 'fast', true]) {
      expect(refusalOf(key, raw), JSON.stringify(raw)).toBe(`context "${key}" must be a number in decimal digits, like 3 or 0.75, got ${JSON.stringify(raw)}`);
    }
  });

  it('reads as integers exactly the number settings the stack refuses a fraction of', () => {
    const mlflow = { mlflowTrackingUri: 'http://mlflow.internal:5000', modelUri: 'models:/telco-churn@champion' };
    const base: Record<string, unknown> = { ...DEFAULT_SETTINGS, mlflowPort: 5000 };
    const refusesFraction = (key: keyof GatewaySettings) => {
      try {
        buildStack({ ...mlflow, [key]: Number(base[key]) + 0.5 });
        return false;
      } catch {
        return true;
      }
    };
    const numberKeys = [...integerKeys, ...decimalKeys] as (keyof GatewaySettings)[];
    expect(numberKeys.length).toBe(13);
    expect(numberKeys.filter(refusesFraction).sort()).toEqual([...integerKeys].sort());
  });
});
