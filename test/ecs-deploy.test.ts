/**
 * scripts/ecs-deploy.sh, the release's deploy step, against a stand-in `aws` command: there is no
 * AWS account here, so ECS's answers are recorded JSON in the shapes the AWS CLI prints
 * (describe-task-definition --query taskDefinition, describe-services --query
 * services[0].deployments). What is checked is the script's own logic: the revision it
 * registers, and that it succeeds only when that revision is what the service runs.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/index.js';

const OLD_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/churn-gateway:7';
const NEW_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/churn-gateway:8';
const IMAGE = 'docker.io/acme/churn-gateway:0123456789abcdef0123456789abcdef01234567';

/** What `aws ecs describe-task-definition --query taskDefinition` prints for the running revision (abridged). */
const CURRENT = {
  taskDefinitionArn: OLD_ARN,
  family: 'churn-gateway',
  revision: 7,
  status: 'ACTIVE',
  taskRoleArn: 'arn:aws:iam::123456789012:role/task',
  executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  networkMode: 'awsvpc',
  containerDefinitions: [
    { name: 'gateway', image: 'docker.io/acme/churn-gateway:latest', essential: true, portMappings: [{ containerPort: 8000, protocol: 'tcp' }], environment: [{ name: 'PORT', value: '8000' }] },
    { name: 'log-router', image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable', essential: false },
  ],
  requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' }],
  compatibilities: ['EC2', 'FARGATE'],
  requiresCompatibilities: ['FARGATE'],
  cpu: '512',
  memory: '1024',
  registeredAt: '2026-11-01T10:00:00.000000+00:00',
  registeredBy: 'arn:aws:sts::123456789012:assumed-role/deploy/x',
  enableFaultInjection: false,
};

interface Deployment {
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
  taskDefinition: string;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason?: string;
  runningCount: number;
  desiredCount: number;
}
const deployment = (taskDefinition: string, status: Deployment['status'], rolloutState: Deployment['rolloutState'], extra: Partial<Deployment> = {}): Deployment => ({
  status,
  taskDefinition,
  rolloutState,
  runningCount: rolloutState === 'COMPLETED' ? 2 : 1,
  desiredCount: 2,
  ...extra,
});

/** A stand-in `aws`: answers from files in its directory, and records what it was asked. */
const STUB = `#!/usr/bin/env bash
set -euo pipefail
dir=$(dirname "$0")
echo "$*" >>"$dir/calls.log"
case "$1 $2" in
  "ecs describe-task-definition") cat "$dir/task-definition.json" ;;
  "ecs register-task-definition")
    while [[ $# -gt 0 && "$1" != --cli-input-json ]]; do shift; done
    printf '%s' "$2" >"$dir/registered.json"
    echo "${NEW_ARN}" ;;
  "ecs update-service") echo "ecs-svc/1" ;;
  "ecs describe-services")
    n=$(cat "$dir/polls" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" >"$dir/polls"
    f="$dir/services-$n.json"; [[ -f "$f" ]] || f=$(ls "$dir"/services-*.json | sort -V | tail -1)
    cat "$f" ;;
  *) echo "unexpected: aws $*" >&2; exit 2 ;;
esac
`;

function run(polls: Deployment[][], opts: { taskDefinition?: unknown; env?: Record<string, string> } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ecs-deploy-'));
  writeFileSync(path.join(dir, 'aws'), STUB);
  chmodSync(path.join(dir, 'aws'), 0o755);
  writeFileSync(path.join(dir, 'task-definition.json'), JSON.stringify(opts.taskDefinition ?? CURRENT, null, 2));
  polls.forEach((p, i) => writeFileSync(path.join(dir, `services-${i + 1}.json`), JSON.stringify(p)));
  const output = path.join(dir, 'github-output');
  const result = spawnSync('bash', [path.join(REPO_ROOT, 'scripts/ecs-deploy.sh')], {
    encoding: 'utf8',
    timeout: 20_000, // a script that never decides fails here rather than holding the suite
    env: {
      PATH: `${dir}:${process.env['PATH'] ?? ''}`,
      ECS_CLUSTER: 'churn-gateway',
      ECS_SERVICE: 'churn-gateway',
      ECS_TASK_FAMILY: 'churn-gateway',
      ECS_CONTAINER_NAME: 'gateway',
      IMAGE,
      POLL_SECONDS: '0',
      GITHUB_OUTPUT: output,
      ...opts.env,
    },
  });
  const read = (name: string) => (existsSync(path.join(dir, name)) ? readFileSync(path.join(dir, name), 'utf8') : null);
  return { ...result, out: result.stdout + result.stderr, registered: read('registered.json'), calls: read('calls.log') ?? '', githubOutput: read('github-output') };
}

describe('scripts/ecs-deploy.sh', () => {
  it('registers the running revision with the new image and succeeds once its deployment is PRIMARY and COMPLETED', () => {
    const r = run([
      [deployment(NEW_ARN, 'PRIMARY', 'IN_PROGRESS'), deployment(OLD_ARN, 'ACTIVE', 'COMPLETED')],
      [deployment(NEW_ARN, 'PRIMARY', 'COMPLETED')],
    ]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(`the service runs ${NEW_ARN}`);
    const registered = JSON.parse(r.registered ?? 'null') as typeof CURRENT;
    // Only the gateway's image changes; what ECS reports about a registered revision is dropped.
    const input: Record<string, unknown> = { ...CURRENT };
    for (const key of ['taskDefinitionArn', 'revision', 'status', 'requiresAttributes', 'compatibilities', 'registeredAt', 'registeredBy']) delete input[key];
    expect(registered).toEqual({ ...input, containerDefinitions: [{ ...CURRENT.containerDefinitions[0], image: IMAGE }, CURRENT.containerDefinitions[1]] });
    expect(r.calls).toContain(`ecs update-service --cluster churn-gateway --service churn-gateway --task-definition ${NEW_ARN}`);
    expect(r.githubOutput).toBe(`task-definition-arn=${NEW_ARN}\n`);
  });

  it('fails when the circuit breaker fails the deployment, naming what the service runs instead', () => {
    const r = run([
      [deployment(NEW_ARN, 'PRIMARY', 'IN_PROGRESS'), deployment(OLD_ARN, 'ACTIVE', 'COMPLETED')],
      [deployment(OLD_ARN, 'PRIMARY', 'IN_PROGRESS'), deployment(NEW_ARN, 'ACTIVE', 'FAILED', { rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' })],
    ]);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`::error::the deployment of ${NEW_ARN} failed (ECS deployment circuit breaker: tasks failed to start.); the service runs ${OLD_ARN}`);
  });

  it('fails when the service was rolled back and the deployment is gone, though the service is stable', () => {
    const r = run([[deployment(NEW_ARN, 'PRIMARY', 'IN_PROGRESS')], [deployment(OLD_ARN, 'PRIMARY', 'COMPLETED')]]);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`::error::the deployment of ${NEW_ARN} is no longer the service's primary one: it was rolled back or replaced; the service runs ${OLD_ARN}`);
  });

  it('fails when the deployment does not complete in time', () => {
    const r = run([[deployment(NEW_ARN, 'PRIMARY', 'IN_PROGRESS'), deployment(OLD_ARN, 'ACTIVE', 'COMPLETED')]], { env: { WAIT_MINUTES: '0' } });
    expect(r.status).toBe(1);
    expect(r.out).toContain(`::error::the deployment of ${NEW_ARN} did not complete within 0 min (state: PRIMARY IN_PROGRESS)`);
  });

  it('registers nothing when the container is not in the task definition', () => {
    const r = run([[deployment(OLD_ARN, 'PRIMARY', 'COMPLETED')]], { env: { ECS_CONTAINER_NAME: 'api' } });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('container api is not (exactly once) in the task definition');
    expect(r.registered).toBeNull();
    expect(r.calls).not.toContain('update-service');
  });
});
