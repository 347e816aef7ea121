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
/** A revision registered after the running one whose deployment failed: the circuit breaker rolled the service back to OLD_ARN. */
const FAILED_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/churn-gateway:8';
const NEW_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/churn-gateway:9';
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
  /** ECS's deployment id; here ecs-svc/<revision>, what the stand-in's update-service answers for the revision it deploys. */
  id: string;
  status: 'PRIMARY' | 'ACTIVE' | 'INACTIVE';
  taskDefinition: string;
  rolloutState: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  rolloutStateReason?: string;
  runningCount: number;
  desiredCount: number;
}
const deployment = (taskDefinition: string, status: Deployment['status'], rolloutState: Deployment['rolloutState'], extra: Partial<Deployment> = {}): Deployment => ({
  id: `ecs-svc/${taskDefinition.split(':').at(-1) ?? ''}`,
  status,
  taskDefinition,
  rolloutState,
  runningCount: rolloutState === 'COMPLETED' ? 2 : 1,
  desiredCount: 2,
  ...extra,
});

/**
 * A stand-in `aws`: answers from files in its directory, and records what it was asked.
 * describe-task-definition of the family answers the family's newest revision, of an ARN that
 * revision; describe-services answers what the service runs (--query services[0].taskDefinition)
 * or, poll after poll, its deployments.
 */
const STUB = `#!/usr/bin/env bash
set -euo pipefail
dir=$(dirname "$0")
echo "$*" >>"$dir/calls.log"
arg() { local want=$1; shift; while [[ $# -gt 0 && "$1" != "$want" ]]; do shift; done; echo "\${2:-}"; }
case "$1 $2" in
  "ecs describe-task-definition")
    td=$(arg --task-definition "$@")
    if [[ "$td" == churn-gateway ]]; then cat "$dir/newest.json"
    else f="$dir/td-\${td##*:}.json"; [[ -f "$f" ]] || { echo "no task definition $td" >&2; exit 254; }; cat "$f"; fi ;;
  "ecs register-task-definition")
    while [[ $# -gt 0 && "$1" != --cli-input-json ]]; do shift; done
    printf '%s' "$2" >"$dir/registered.json"
    echo "${NEW_ARN}" ;;
  "ecs update-service") td=$(arg --task-definition "$@"); echo "ecs-svc/\${td##*:}" ;;
  "ecs describe-services")
    if [[ "$(arg --query "$@")" == 'services[0].taskDefinition' ]]; then cat "$dir/running.txt"; exit 0; fi
    if [[ "$(arg --query "$@")" == 'services[0].deployments[?rolloutState==\`IN_PROGRESS\`].taskDefinition' ]]; then cat "$dir/rolling.txt"; exit 0; fi
    n=$(cat "$dir/polls" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" >"$dir/polls"
    f="$dir/services-$n.json"; [[ -f "$f" ]] || f=$(ls "$dir"/services-*.json | sort -V | tail -1)
    cat "$f" ;;
  *) echo "unexpected: aws $*" >&2; exit 2 ;;
esac
`;

interface TaskDefinition {
  taskDefinitionArn: string;
  revision: number;
}

/**
 * Runs the script. The service runs `running` (CURRENT); `newest` is the family's newest
 * revision (the running one unless given); `runningArn` is what describe-services says it runs.
 */
function run(polls: Deployment[][], opts: { running?: TaskDefinition; newest?: TaskDefinition; runningArn?: string; rolling?: string; env?: Record<string, string>; args?: string[] } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ecs-deploy-'));
  writeFileSync(path.join(dir, 'aws'), STUB);
  chmodSync(path.join(dir, 'aws'), 0o755);
  const running = opts.running ?? CURRENT;
  for (const td of [running, opts.newest ?? running]) writeFileSync(path.join(dir, `td-${td.revision}.json`), JSON.stringify(td, null, 2));
  writeFileSync(path.join(dir, 'newest.json'), JSON.stringify(opts.newest ?? running, null, 2));
  writeFileSync(path.join(dir, 'running.txt'), `${opts.runningArn ?? running.taskDefinitionArn}\n`);
  // The AWS CLI's text output of the IN_PROGRESS deployments' revisions: an empty line when there are none.
  writeFileSync(path.join(dir, 'rolling.txt'), `${opts.rolling ?? ''}\n`);
  polls.forEach((p, i) => writeFileSync(path.join(dir, `services-${i + 1}.json`), JSON.stringify(p)));
  const output = path.join(dir, 'github-output');
  const result = spawnSync('bash', [path.join(REPO_ROOT, 'scripts/ecs-deploy.sh'), ...(opts.args ?? [])], {
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
    // Only the gateway's image changes; what ECS reports about a registered revision is dropped,
    // and so is enableFaultInjection at its default (next test).
    const input: Record<string, unknown> = { ...CURRENT };
    for (const key of ['taskDefinitionArn', 'revision', 'status', 'requiresAttributes', 'compatibilities', 'registeredAt', 'registeredBy', 'enableFaultInjection']) delete input[key];
    expect(registered).toEqual({ ...input, containerDefinitions: [{ ...CURRENT.containerDefinitions[0], image: IMAGE }, CURRENT.containerDefinitions[1]] });
    expect(r.calls).toContain(`ecs update-service --cluster churn-gateway --service churn-gateway --task-definition ${NEW_ARN}`);
    // No MODEL_URI in the gateway's environment: the tasks serve their image's bundle.
    expect(r.githubOutput).toBe(`task-definition-arn=${NEW_ARN}\nmodel-uri=\n`);
  });

  it('leaves out enableFaultInjection when false (its default), which an AWS CLI that predates the field refuses; keeps it when true', () => {
    const polls = [[deployment(NEW_ARN, 'PRIMARY', 'COMPLETED')]];
    // aws-cli 1.32 / botocore 1.34: "Unknown parameter in input: \"enableFaultInjection\"", and nothing is registered.
    const off = run(polls);
    expect(off.status, off.out).toBe(0);
    expect(Object.keys(JSON.parse(off.registered ?? '{}') as object)).not.toContain('enableFaultInjection');
    // Absent (a revision described before ECS reported it): still absent, no jq error.
    const withoutIt: TaskDefinition & Record<string, unknown> = { ...CURRENT };
    delete withoutIt.enableFaultInjection;
    const absent = run(polls, { running: withoutIt });
    expect(absent.status, absent.out).toBe(0);
    expect(Object.keys(JSON.parse(absent.registered ?? '{}') as object)).not.toContain('enableFaultInjection');
    // On: kept, so the copy still injects faults (an older CLI then refuses it, loudly, before anything changes).
    const faultInjecting = { ...CURRENT, enableFaultInjection: true };
    const on = run(polls, { running: faultInjecting });
    expect(on.status, on.out).toBe(0);
    expect((JSON.parse(on.registered ?? '{}') as { enableFaultInjection?: unknown }).enableFaultInjection).toBe(true);
  });

  it("names the model the tasks load: the container's MODEL_URI when MLflow is configured, for the release's report", () => {
    const gateway = { ...CURRENT.containerDefinitions[0]!, environment: [{ name: 'PORT', value: '8000' }, { name: 'MODEL_URI', value: 'models:/telco-churn@champion' }] };
    // Another container's MODEL_URI is not the gateway's.
    const sidecar = { ...CURRENT.containerDefinitions[1]!, environment: [{ name: 'MODEL_URI', value: 'models:/other@x' }] };
    const withMlflow = { ...CURRENT, containerDefinitions: [sidecar, gateway] };
    const r = run([[deployment(NEW_ARN, 'PRIMARY', 'COMPLETED')]], { running: withMlflow });
    expect(r.status, r.out).toBe(0);
    expect(r.githubOutput).toBe(`task-definition-arn=${NEW_ARN}\nmodel-uri=models:/telco-churn@champion\n`);
  });

  it('reads MODEL_URI by its exact name, and a gateway container without an environment serves its bundle (no jq error)', () => {
    // MODEL_DIR is the bundle's directory, not a model URI: a name that merely starts alike is not it.
    const gateway = { ...CURRENT.containerDefinitions[0]!, environment: [{ name: 'MODEL_DIR', value: '/app/model/bundle' }, { name: 'MODEL_URI_NOTE', value: 'x' }] };
    const prefixed = { ...CURRENT, containerDefinitions: [gateway, CURRENT.containerDefinitions[1]!] };
    const named = run([[deployment(NEW_ARN, 'PRIMARY', 'COMPLETED')]], { running: prefixed });
    expect(named.status, named.out).toBe(0);
    expect(named.githubOutput).toBe(`task-definition-arn=${NEW_ARN}\nmodel-uri=\n`);
    // A task definition registered by hand may leave `environment` out altogether.
    const bare = Object.fromEntries(Object.entries(CURRENT.containerDefinitions[0]!).filter(([key]) => key !== 'environment'));
    const withoutEnvironment = { ...CURRENT, containerDefinitions: [bare, CURRENT.containerDefinitions[1]!] };
    const r = run([[deployment(NEW_ARN, 'PRIMARY', 'COMPLETED')]], { running: withoutEnvironment });
    expect(r.status, r.out).toBe(0);
    expect(r.githubOutput).toBe(`task-definition-arn=${NEW_ARN}\nmodel-uri=\n`);
  });

  it('starts from the revision the service runs, not from a newer one that was rolled back', () => {
    // Revision 8 set a tracking URI the gateway refuses; its deployment failed and the circuit
    // breaker put the service back on 7. Copying 8 would fail this release the same way.
    const failed = {
      ...CURRENT,
      taskDefinitionArn: FAILED_ARN,
      revision: 8,
      containerDefinitions: [{ ...CURRENT.containerDefinitions[0], environment: [{ name: 'PORT', value: '8000' }, { name: 'MLFLOW_TRACKING_URI', value: 'http://mlflow:5000/?x' }] }, CURRENT.containerDefinitions[1]],
    };
    const r = run([[deployment(NEW_ARN, 'PRIMARY', 'COMPLETED')]], { newest: failed });
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain(`current revision (the service runs it): ${OLD_ARN}`);
    const registered = JSON.parse(r.registered ?? 'null') as typeof CURRENT;
    expect(registered.containerDefinitions[0]).toEqual({ ...CURRENT.containerDefinitions[0], image: IMAGE });
    expect(r.calls).not.toContain(FAILED_ARN);
  });

  it('registers nothing while a rollout is in progress: the service then names the revision it is rolling onto, whose settings may be what fails', () => {
    // A cdk deploy put bad settings in revision 8 and its tasks are failing; an operator runs this
    // script to roll back to a good image. Copying 8 would keep the bad settings.
    const r = run([[deployment(NEW_ARN, 'PRIMARY', 'COMPLETED')]], { runningArn: FAILED_ARN, rolling: FAILED_ARN });
    expect(r.status).toBe(1);
    expect(r.out).toContain(`::error::service churn-gateway is rolling onto ${FAILED_ARN} (a deployment IN_PROGRESS); registering nothing`);
    expect(r.out).toContain('aws ecs update-service --cluster churn-gateway --service churn-gateway --task-definition <a revision that served well>');
    expect(r.registered).toBeNull();
    expect(r.calls).not.toContain('update-service');
    expect(r.calls).not.toContain('describe-task-definition');
  });

  it('registers a copy of a running revision that was deregistered since, without the fields ECS reports about that', () => {
    // A service keeps running an INACTIVE revision; register-task-definition refuses the
    // deregisteredAt that describe-task-definition then reports ("Unknown parameter").
    const deregistered = { ...CURRENT, status: 'INACTIVE', deregisteredAt: '2026-11-02T10:00:00.000000+00:00' };
    const r = run([[deployment(NEW_ARN, 'PRIMARY', 'COMPLETED')]], { running: deregistered });
    expect(r.status, r.out).toBe(0);
    const registered = JSON.parse(r.registered ?? 'null') as Record<string, unknown>;
    expect(Object.keys(registered).filter((key) => ['status', 'deregisteredAt', 'registeredAt', 'registeredBy', 'revision', 'taskDefinitionArn'].includes(key))).toEqual([]);
  });

  it('registers nothing when the service is missing or runs another family', () => {
    const missing = run([[deployment(OLD_ARN, 'PRIMARY', 'COMPLETED')]], { runningArn: 'None' });
    expect(missing.status).toBe(1);
    expect(missing.out).toContain('::error::service churn-gateway not found in cluster churn-gateway (describe-services answered: None)');
    const other = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/other-app:3';
    const foreign = run([[deployment(OLD_ARN, 'PRIMARY', 'COMPLETED')]], { runningArn: other });
    expect(foreign.status).toBe(1);
    expect(foreign.out).toContain(`::error::service churn-gateway runs ${other}, not a revision of family churn-gateway; registering nothing`);
    for (const r of [missing, foreign]) {
      expect(r.registered).toBeNull();
      expect(r.calls).not.toContain('update-service');
    }
  });

  it('fails when the circuit breaker fails the deployment, naming what the service runs instead', () => {
    const r = run([
      [deployment(NEW_ARN, 'PRIMARY', 'IN_PROGRESS'), deployment(OLD_ARN, 'ACTIVE', 'COMPLETED')],
      [deployment(OLD_ARN, 'PRIMARY', 'IN_PROGRESS'), deployment(NEW_ARN, 'ACTIVE', 'FAILED', { rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' })],
    ]);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`::error::the deployment of ${NEW_ARN} failed (ECS deployment circuit breaker: tasks failed to start.); the service runs ${OLD_ARN}`);
  });

  it('names the PRIMARY deployment as what the service runs, wherever ECS lists it', () => {
    const r = run([[deployment(NEW_ARN, 'ACTIVE', 'FAILED', { rolloutStateReason: 'tasks failed to start' }), deployment(OLD_ARN, 'PRIMARY', 'IN_PROGRESS')]]);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`::error::the deployment of ${NEW_ARN} failed (tasks failed to start); the service runs ${OLD_ARN}`);
  });

  it('fails when the service was rolled back and the deployment is gone, though the service is stable', () => {
    const r = run([[deployment(NEW_ARN, 'PRIMARY', 'IN_PROGRESS')], [deployment(OLD_ARN, 'PRIMARY', 'COMPLETED')]]);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`::error::the deployment of ${NEW_ARN} is no longer the service's primary one: it was rolled back or replaced; the service runs ${OLD_ARN}`);
  });

  it('fails when another deployment replaced it, though it had completed: the service is moving off it', () => {
    // An operator's update-service (or a second release) right after ours completed: ECS keeps
    // ours as ACTIVE COMPLETED while the new PRIMARY rolls. Ours is not what the service runs.
    const OTHER_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/churn-gateway:10';
    const r = run([[deployment(NEW_ARN, 'PRIMARY', 'IN_PROGRESS')], [deployment(OTHER_ARN, 'PRIMARY', 'IN_PROGRESS'), deployment(NEW_ARN, 'ACTIVE', 'COMPLETED')]]);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`::error::the deployment of ${NEW_ARN} is no longer the service's primary one: it was rolled back or replaced; the service runs ${OTHER_ARN}`);
  });

  it('waits for a deployment describe-services does not list yet (ECS is eventually consistent), following it by the id update-service gave', () => {
    // The first answer still shows only the deployment the service ran before.
    const r = run([
      [deployment(OLD_ARN, 'PRIMARY', 'COMPLETED')],
      [deployment(NEW_ARN, 'PRIMARY', 'IN_PROGRESS'), deployment(OLD_ARN, 'ACTIVE', 'COMPLETED')],
      [deployment(NEW_ARN, 'PRIMARY', 'COMPLETED')],
    ]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('rolling onto it (deployment ecs-svc/9)');
    expect(r.out).toContain('deployment: not listed yet;');
    expect(r.out).toContain(`the service runs ${NEW_ARN}`);
  });

  it('fails when describe-services never lists the deployment, after the polls it grants a lagging answer', () => {
    const unlistedPolls = Number(/^readonly unlisted_polls=(\d+)$/m.exec(readFileSync(path.join(REPO_ROOT, 'scripts/ecs-deploy.sh'), 'utf8'))?.[1]);
    expect(unlistedPolls).toBeGreaterThan(0);
    const r = run([[deployment(OLD_ARN, 'PRIMARY', 'COMPLETED')]]);
    expect(r.status).toBe(1);
    expect(r.out.match(/^deployment: not listed yet;/gm)).toHaveLength(unlistedPolls);
    expect(r.out).toContain(`::error::describe-services did not list the deployment of ${NEW_ARN} (ecs-svc/9) in ${unlistedPolls} polls: it was rolled back or replaced before it was seen; the service runs ${OLD_ARN}`);
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

  const REQUIRED = ['ECS_CLUSTER', 'ECS_SERVICE', 'ECS_TASK_FAMILY', 'ECS_CONTAINER_NAME', 'IMAGE'];

  it('--help says what it does and names every variable it requires, asking AWS nothing', () => {
    for (const flag of ['--help', '-h']) {
      const r = run([], { args: [flag] });
      expect(r.status, flag).toBe(0);
      expect(r.stdout).toMatch(/^usage: ECS_CLUSTER=… ECS_SERVICE=… ECS_TASK_FAMILY=… ECS_CONTAINER_NAME=… IMAGE=… bash scripts\/ecs-deploy\.sh$/m);
      expect(r.stdout).toContain(`Required: ${REQUIRED.slice(0, 4).join(', ')}`);
      expect(r.calls).toBe('');
    }
  });

  it('refuses any other argument with the usage, every variable set, and asks AWS nothing', () => {
    for (const arg of ['--hlep', 'help', '-x']) {
      const r = run([[deployment(OLD_ARN, 'PRIMARY', 'COMPLETED')]], { args: [arg] });
      expect(r.status, arg).toBe(2);
      expect(r.stderr).toContain(`ecs-deploy.sh: unknown argument: ${arg} (it takes no arguments`);
      expect(r.stderr).toContain('usage: ');
      expect(r.calls, arg).toBe('');
    }
  });

  it('names every required variable that is not set, with the usage, and asks AWS nothing', () => {
    const r = run([], { env: { ECS_SERVICE: '', ECS_CONTAINER_NAME: '', IMAGE: '' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('ecs-deploy.sh: not set: ECS_SERVICE ECS_CONTAINER_NAME IMAGE\nusage: ');
    expect(r.calls).toBe('');
    const none = run([], { env: Object.fromEntries(REQUIRED.map((name) => [name, ''])) });
    expect(none.stderr).toContain(`not set: ${REQUIRED.join(' ')}`);
  });
});
