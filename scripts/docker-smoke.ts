/**
 * Runtime-stage smoke test without a Docker engine.
 *
 * Parses the Dockerfile, takes its last stage (the runtime image) and replays it into a fresh
 * temp folder that stands for the image's root filesystem:
 *   - COPY --from=<build stage>: files come from this checkout (after `npm run build`), which
 *     plays the build stage (its WORKDIR maps to the repo root);
 *   - COPY from the context: files come from the repo, filtered by .dockerignore as Docker would;
 *   - COPY keeps the modes it copies, or sets those --chmod gives (octal, or chmod(1)'s u=rwX,go=rX);
 *   - RUN: executed with /bin/sh -c in the mapped WORKDIR (BuildKit flags such as --mount dropped),
 *     with the stage's ENV; npm uses the local (warm) cache;
 *   - ARG takes the build arg given (`--build-arg NAME=value`, or NAME from the environment), else its default, else, for
 *     BuildKit's platform ARGs (TARGETARCH, …), the platform built for: this machine's, as `docker build` without
 *     --platform (ReplayOptions.targetArch names another, as --platform would); ENV and LABEL
 *     values substitute ARGs and earlier ENVs (`$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME:+word}`)
 *     as Docker does; a build arg the stage does not declare is refused (Docker would ignore it);
 *   - ENV, LABEL, WORKDIR, USER, EXPOSE, HEALTHCHECK and the exec-form CMD are recorded.
 * Then it starts the CMD with the image's ENV and PORT set to a free port, and checks GET / → 200
 * {"status":"ok"}, POST /predict with a legacy payload → 200 with "prediction" first, GET /ui
 * not 503 (the UI build is in the image), the HEALTHCHECK command → exit 0, and that the gateway's
 * `ready` line names the commit the image is labelled with (org.opencontainers.image.revision)
 * and the sha256 of this checkout's model/bundle/group_report.json and explainer.json
 * (groupReportSha256, explainerSha256): the gateway serves without a group report it does not
 * find, so the answers alone would not show it missing.
 * Any file the Dockerfile forgets to copy makes this fail.
 *
 * CLI: tsx scripts/docker-smoke.ts [--dockerfile Dockerfile] [--build-arg NAME[=value]]... [--keep]
 * (`--build-arg NAME` takes NAME from the environment, as Docker does; unset, the ARG keeps its default)
 * Requires a prior `npm run build` in the repo (the build stage's outputs).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const LEGACY_PAYLOAD = {
  gender: 'Female', SeniorCitizen: 0, Partner: 'Yes', Dependents: 'No', tenure: 1, PhoneService: 'No',
  MultipleLines: 'No phone service', InternetService: 'DSL', OnlineSecurity: 'No', OnlineBackup: 'Yes',
  DeviceProtection: 'No', TechSupport: 'No', StreamingTV: 'No', StreamingMovies: 'No',
  Contract: 'Month-to-month', PaperlessBilling: 'Yes', PaymentMethod: 'Electronic check',
  MonthlyCharges: 29.85, TotalCharges: 29.85,
} as const;

// ---------------------------------------------------------------- parsing

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly name: string | null;
  readonly image: string;
  readonly instructions: Instruction[];
}

/** Logical instructions: comments and blank lines dropped, `\` continuations joined. */
export function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const trimmed = raw.trim();
    if (trimmed.startsWith('#') || (trimmed === '' && buf === '')) continue;
    if (buf === '') start = i + 1;
    if (/\\\s*$/.test(raw)) {
      buf += raw.replace(/\\\s*$/, ' ');
      continue;
    }
    buf += raw;
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(buf);
    if (m) out.push({ keyword: (m[1] ?? '').toUpperCase(), args: (m[2] ?? '').trim(), line: start });
    buf = '';
  }
  if (buf.trim() !== '') throw new Error(`Dockerfile ends inside a continued line (from line ${start})`);
  return out;
}

export function parseStages(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const ins of parseInstructions(text)) {
    if (ins.keyword === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const asIdx = words.findIndex((w) => w.toLowerCase() === 'as');
      stages.push({ image: words[0] ?? '', name: asIdx >= 0 ? (words[asIdx + 1] ?? null) : null, instructions: [] });
    } else if (ins.keyword !== 'ARG' || stages.length > 0) {
      const current = stages.at(-1);
      if (!current) throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM`);
      current.instructions.push(ins);
    }
  }
  if (stages.length === 0) throw new Error('no FROM in the Dockerfile');
  return stages;
}

/** Splits shell-like words, honouring double and single quotes (no variable expansion). */
function words(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  // Joined-up pieces such as KEY="a b" are handled by the ENV parser; here plain words suffice.
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3] ?? ''));
  return out;
}

function splitFlags(args: string): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  let rest = args.trim();
  for (let m = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest); m; m = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest)) {
    flags.set(m[1] ?? '', m[2] ?? 'true');
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/**
 * Docker's variable substitution in ENV and LABEL values: `$NAME`, `${NAME}`, `${NAME:-word}` (word
 * when NAME is unset or empty), `${NAME:+word}` (word when NAME is set and not empty); `\$` is a
 * literal `$`. An unset NAME is the empty string.
 */
export function substitute(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\\\$|\$\{([A-Za-z_]\w*)(?::([-+])([^}]*))?\}|\$([A-Za-z_]\w*)|\$\{[^}]*\}?/g, (match, braced?: string, op?: string, word?: string, bare?: string) => {
    if (match === '\\$') return '$';
    const name = braced ?? bare;
    if (name === undefined) throw new Error(`unsupported substitution ${match}`);
    const value = vars[name] ?? '';
    if (op === '-') return value === '' ? (word ?? '') : value;
    if (op === '+') return value === '' ? '' : (word ?? '');
    return value;
  });
}

/**
 * An ENV (or LABEL) instruction's KEY=value pairs, or the legacy `ENV KEY value`. Double-quoted and
 * bare values substitute `vars` (the ARGs and ENVs declared before it); single-quoted ones do not.
 */
export function parseEnv(args: string, vars: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  if (!/^[\w.-]+=/.test(args)) {
    // Legacy form: ENV KEY value with spaces
    const m = /^(\S+)\s+([\s\S]*)$/.exec(args);
    if (!m) throw new Error(`cannot parse ENV ${args}`);
    env[m[1] ?? ''] = substitute(m[2] ?? '', vars);
    return env;
  }
  const re = /([\w.-]+)=(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))/g;
  for (let m = re.exec(args); m; m = re.exec(args)) {
    const key = m[1] ?? '';
    if (m[3] !== undefined) env[key] = m[3];
    else env[key] = substitute(m[2] ?? m[4] ?? '', vars).replace(/\\(.)/g, '$1');
  }
  return env;
}

function execForm(args: string, what: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw new Error(`${what} must be in exec form (a JSON array), got: ${args}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((x) => typeof x === 'string')) {
    throw new Error(`${what} must be a non-empty JSON array of strings, got: ${args}`);
  }
  return parsed;
}

// ---------------------------------------------------------------- .dockerignore

/** Docker's .dockerignore rules: Go filepath.Match patterns plus `**`, `!` exceptions, last match wins. */
export function dockerignoreMatcher(text: string): (relPath: string) => boolean {
  const rules: { negate: boolean; re: RegExp }[] = [];
  for (let line of text.split(/\r?\n/)) {
    line = line.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1).trim();
    const pattern = path.posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '');
    let re = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i] ?? '';
      if (c === '*' && pattern[i + 1] === '*') {
        // `**` matches any number of directories (including none)
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else if (c === '[') {
        const end = pattern.indexOf(']', i);
        re += end > i ? pattern.slice(i, end + 1).replace('[^', '[^/').replace('[!', '[^/') : '\\[';
        if (end > i) i = end;
      } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
    }
    // A pattern matching a directory also excludes everything under it.
    rules.push({ negate, re: new RegExp(`^${re}(?:/.*)?$`) });
  }
  return (relPath: string) => {
    let ignored = false;
    for (const r of rules) if (r.re.test(relPath)) ignored = !r.negate;
    return ignored;
  };
}

// ---------------------------------------------------------------- replay

export interface RuntimeImage {
  readonly rootfs: string;
  readonly workdir: string;
  readonly env: Record<string, string>;
  /** LABELs, their values substituted (org.opencontainers.image.revision: the GIT_COMMIT build arg). */
  readonly labels: Record<string, string>;
  readonly user: string | null;
  readonly exposed: string[];
  readonly healthcheck: string[] | null;
  readonly cmd: string[];
  readonly copied: string[];
}

/** Node's process.arch → the architecture as Docker names it (TARGETARCH). */
const DOCKER_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/** The architecture `docker build` targets on this machine when no --platform is given. */
export function hostDockerArch(): string {
  const arch = DOCKER_ARCH[process.arch];
  if (!arch) throw new Error(`no Docker architecture known for this machine's ${process.arch}`);
  return arch;
}

/**
 * BuildKit's automatic platform ARGs: a stage that declares one without a default gets the value
 * for the platform built (target) or the machine building (build). Built here for `targetArch`
 * (linux only, no variant), on this machine.
 */
export function platformArgs(targetArch: string): Record<string, string> {
  const build = hostDockerArch();
  return {
    TARGETPLATFORM: `linux/${targetArch}`, TARGETOS: 'linux', TARGETARCH: targetArch, TARGETVARIANT: '',
    BUILDPLATFORM: `linux/${build}`, BUILDOS: 'linux', BUILDARCH: build, BUILDVARIANT: '',
  };
}

/** The names of BuildKit's automatic platform ARGs (no build arg sets them: the platform does). */
export const PLATFORM_ARGS: readonly string[] = Object.keys(platformArgs('amd64'));

export interface ReplayOptions {
  dockerfile: string;
  repoRoot?: string;
  /** Folder to build the image filesystem in (must not exist or be empty). */
  rootfs: string;
  /**
   * Memo of RUN results: the same RUN over the same input files reuses the previous folder's
   * result (hard-linked) instead of running again. Lets a test run several Dockerfile variants
   * with one `npm ci`.
   */
  runCache?: RunCache;
  /** .dockerignore text to use instead of the repo's file (for tests). */
  dockerignore?: string;
  /** `docker build --build-arg NAME=value`: each must be an ARG of the runtime stage. */
  buildArgs?: Readonly<Record<string, string>>;
  /** The architecture built for, as `docker build --platform linux/<targetArch>` (TARGETARCH); this machine's by default. */
  targetArch?: string;
  log?: (line: string) => void;
}

/** RUN memo: key (workdir, command, env, npm input files) → the folder it ran in and the top-level entries it created. */
export type RunCache = Map<string, { dir: string; created: string[] }>;

function mapInto(rootfs: string, workdir: string, p: string): string {
  const abs = path.posix.isAbsolute(p) ? p : path.posix.join(workdir, p);
  return path.join(rootfs, path.posix.normalize(abs));
}

/**
 * A file's mode after COPY --chmod=<spec>: octal (`644`, `0755`) or symbolic as chmod(1) writes it,
 * comma-separated `[ugoa]*[-+=][rwxX]*` clauses (`u=rwX,go=rX`: directories 755, files 644, an
 * executable file 755). Other symbolic forms (s, t, copying another class's bits) are refused.
 */
export function chmodMode(spec: string, mode: number, isDir: boolean): number {
  if (/^[0-7]{3,4}$/.test(spec)) return Number.parseInt(spec, 8);
  let result = mode & 0o777;
  for (const clause of spec.split(',')) {
    const m = /^([ugoa]*)([-+=])([rwxX]*)$/.exec(clause);
    if (!m) throw new Error(`--chmod=${spec}: the smoke test reads octal modes and [ugoa]*[-+=][rwxX]* clauses, not "${clause}"`);
    const who = m[1] === '' || m[1]?.includes('a') ? 'ugo' : (m[1] ?? '');
    const classes = [...who].reduce((bits, c) => bits | ({ u: 0o700, g: 0o070, o: 0o007 } as Record<string, number>)[c]!, 0);
    // X: execute for directories, and for files some class may already execute.
    const executable = isDir || (result & 0o111) !== 0;
    const perms = [...(m[3] ?? '')].reduce((bits, c) => bits | (c === 'r' ? 0o444 : c === 'w' ? 0o222 : c === 'x' || executable ? 0o111 : 0), 0) & classes;
    if (m[2] === '=') result = (result & ~classes) | perms;
    else if (m[2] === '+') result |= perms;
    else result &= ~perms;
  }
  return result;
}

/**
 * Copies src (file or directory) like Docker's COPY: a directory's contents go into dest, and
 * modes are kept (a directory created for a source directory takes its mode) unless `chmod`
 * (COPY --chmod) sets them.
 */
function copyEntry(src: string, dest: string, destIsDir: boolean, include: (abs: string) => boolean, copied: string[], chmod?: string): void {
  const st = fs.statSync(src);
  const modeOf = (mode: number, isDir: boolean) => (chmod === undefined ? mode & 0o7777 : chmodMode(chmod, mode, isDir));
  if (st.isDirectory()) {
    const existed = fs.existsSync(dest);
    fs.mkdirSync(dest, { recursive: true });
    if (!existed || chmod !== undefined) fs.chmodSync(dest, modeOf(st.mode, true));
    for (const name of fs.readdirSync(src)) {
      const child = path.join(src, name);
      if (!include(child)) continue;
      copyEntry(child, path.join(dest, name), false, include, copied, chmod);
    }
    return;
  }
  const target = destIsDir ? path.join(dest, path.basename(src)) : dest;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(src, target);
  fs.chmodSync(target, modeOf(st.mode, false));
  copied.push(target);
}

function inputsHash(dir: string): string {
  const h = createHash('sha256');
  for (const name of ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', '.npmrc']) {
    const f = path.join(dir, name);
    h.update(`${name}:${fs.existsSync(f) ? createHash('sha256').update(fs.readFileSync(f)).digest('hex') : '-'}\n`);
  }
  return h.digest('hex');
}

/** Replays the last stage of the Dockerfile into `rootfs`. */
export function replayRuntimeStage(opts: ReplayOptions): RuntimeImage {
  const repoRoot = opts.repoRoot ?? REPO_ROOT;
  const log = opts.log ?? (() => {});
  const stages = parseStages(opts.dockerfile);
  const runtime = stages.at(-1) as Stage;
  const stageWorkdir = (s: Stage) => {
    let wd = '/';
    for (const i of s.instructions) if (i.keyword === 'WORKDIR') wd = path.posix.resolve(wd, i.args);
    return wd;
  };
  const ignoreFile = path.join(repoRoot, '.dockerignore');
  const ignored = dockerignoreMatcher(opts.dockerignore ?? (fs.existsSync(ignoreFile) ? fs.readFileSync(ignoreFile, 'utf8') : ''));
  const contextInclude = (abs: string) => !ignored(path.relative(repoRoot, abs).split(path.sep).join('/'));

  fs.mkdirSync(opts.rootfs, { recursive: true });
  const rootfs = fs.realpathSync(opts.rootfs);
  let workdir = '/';
  const env: Record<string, string> = {};
  const labels: Record<string, string> = {};
  /** The ARGs declared so far, with the build arg's value or their default. */
  const args: Record<string, string> = {};
  const buildArgs = opts.buildArgs ?? {};
  const platform = platformArgs(opts.targetArch ?? hostDockerArch());
  const declared = new Set(runtime.instructions.filter((i) => i.keyword === 'ARG').map((i) => i.args.split('=')[0]?.trim() ?? ''));
  const unused = Object.keys(buildArgs).filter((name) => !declared.has(name));
  if (unused.length > 0) throw new Error(`build arg(s) ${unused.join(', ')} not declared by an ARG of the runtime stage (Docker would warn and ignore them)`);
  let user: string | null = null;
  const exposed: string[] = [];
  let healthcheck: string[] | null = null;
  let cmd: string[] | null = null;
  const copied: string[] = [];

  for (const ins of runtime.instructions) {
    const where = `Dockerfile line ${ins.line} (${ins.keyword})`;
    switch (ins.keyword) {
      case 'WORKDIR':
        workdir = path.posix.resolve(workdir, ins.args);
        fs.mkdirSync(mapInto(rootfs, '/', workdir), { recursive: true });
        break;
      case 'ENV':
        // An ENV overrides an ARG of the same name, for what follows.
        Object.assign(env, parseEnv(ins.args, { ...args, ...env }));
        break;
      case 'LABEL':
        Object.assign(labels, parseEnv(ins.args, { ...args, ...env }));
        break;
      case 'ARG': {
        const m = /^([A-Za-z_]\w*)(?:=("(?:[^"\\]|\\.)*"|'[^']*'|\S*))?$/.exec(ins.args.trim());
        if (!m) throw new Error(`${where}: cannot parse ARG ${ins.args}`);
        const name = m[1] ?? '';
        const fallback = m[2] === undefined ? undefined : (parseEnv(`${name}=${m[2]}`, { ...args, ...env })[name] ?? '');
        const value = buildArgs[name] ?? fallback ?? platform[name];
        if (value !== undefined) args[name] = value;
        break;
      }
      case 'USER':
        user = ins.args.trim();
        break;
      case 'EXPOSE':
        exposed.push(...ins.args.split(/\s+/).filter(Boolean));
        break;
      case 'CMD':
        cmd = execForm(ins.args, `${where}: CMD`);
        break;
      case 'HEALTHCHECK': {
        const { rest } = splitFlags(ins.args);
        if (/^NONE$/i.test(rest)) healthcheck = null;
        else healthcheck = execForm(rest.replace(/^CMD\s+/i, ''), `${where}: HEALTHCHECK CMD`);
        break;
      }
      case 'ENTRYPOINT':
        throw new Error(`${where}: ENTRYPOINT is not replayed by the smoke test; use an exec-form CMD`);
      case 'COPY':
      case 'ADD': {
        const { flags, rest } = splitFlags(ins.args);
        const parts = rest.startsWith('[') ? execForm(rest, where) : words(rest);
        if (parts.length < 2) throw new Error(`${where}: needs a source and a destination`);
        const dest = parts.at(-1) as string;
        const sources = parts.slice(0, -1);
        const destIsDir = dest.endsWith('/') || dest === '.' || sources.length > 1;
        const destPath = mapInto(rootfs, workdir, dest);
        const from = flags.get('from');
        for (const src of sources) {
          if (/[*?[]/.test(src)) throw new Error(`${where}: wildcard sources are not supported by the smoke test (${src})`);
          let srcPath: string;
          let include: (abs: string) => boolean;
          if (from !== undefined) {
            const stage = stages.find((s) => s.name === from) ?? stages[Number(from)];
            if (!stage || stage === runtime) throw new Error(`${where}: --from=${from} is not an earlier stage of this Dockerfile`);
            const wd = stageWorkdir(stage);
            const abs = path.posix.resolve(wd, src);
            const rel = path.posix.relative(wd, abs);
            if (rel.startsWith('..')) throw new Error(`${where}: ${src} is outside the build stage's WORKDIR ${wd}, which this checkout stands for`);
            srcPath = path.join(repoRoot, rel);
            include = () => true;
            if (!fs.existsSync(srcPath)) throw new Error(`${where}: ${src} not found in the build stage (looked for ${rel} in the checkout; did \`npm run build\` run?)`);
          } else {
            const rel = path.posix.normalize(src).replace(/^\/+/, '');
            srcPath = path.join(repoRoot, rel);
            include = contextInclude;
            if (rel !== '.' && (!fs.existsSync(srcPath) || ignored(rel))) {
              throw new Error(`${where}: ${src} not found in the build context${fs.existsSync(srcPath) ? ' (excluded by .dockerignore)' : ''}`);
            }
          }
          log(`COPY ${from !== undefined ? `--from=${from} ` : ''}${src} -> ${dest}`);
          copyEntry(srcPath, destPath, destIsDir || fs.statSync(srcPath).isDirectory(), include, copied, flags.get('chmod'));
        }
        break;
      }
      case 'RUN': {
        const { rest } = splitFlags(ins.args);
        const script = rest.startsWith('[') ? execForm(rest, where) : ['/bin/sh', '-c', rest];
        const cwd = mapInto(rootfs, '/', workdir);
        fs.mkdirSync(cwd, { recursive: true });
        // A RUN sees the ARGs declared before it in its environment, as in Docker.
        const runEnv = { ...args, ...env };
        const key = `${workdir}\n${JSON.stringify(script)}\n${JSON.stringify(runEnv)}\n${inputsHash(cwd)}`;
        const before = new Set(fs.readdirSync(cwd));
        const cached = opts.runCache?.get(key);
        if (cached) {
          log(`RUN (reused from ${cached.dir}) ${rest}`);
          for (const name of cached.created) {
            if (before.has(name)) throw new Error(`${where}: cannot reuse the memoized RUN: ${name} already exists`);
            const r = spawnSync('cp', ['-al', path.join(cached.dir, name), path.join(cwd, name)], { encoding: 'utf8' });
            if (r.status !== 0) throw new Error(`${where}: reusing ${cached.dir} failed: ${r.stderr}`);
          }
          break;
        }
        log(`RUN ${rest}`);
        const started = Date.now();
        const r = spawnSync(script[0] as string, script.slice(1), {
          cwd,
          encoding: 'utf8',
          env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? os.homedir(), ...runEnv },
          maxBuffer: 64 * 1024 * 1024,
        });
        if (r.status !== 0) throw new Error(`${where}: RUN failed (exit ${r.status}): ${rest}\n${r.stdout}\n${r.stderr}`);
        log(`RUN done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        opts.runCache?.set(key, { dir: cwd, created: fs.readdirSync(cwd).filter((n) => !before.has(n)) });
        break;
      }
      case 'STOPSIGNAL':
      case 'SHELL':
      case 'VOLUME':
      case 'ONBUILD':
        break;
      default:
        throw new Error(`${where}: unknown instruction`);
    }
  }
  if (!cmd) throw new Error('the runtime stage has no CMD');
  return { rootfs, workdir, env, labels, user, exposed, healthcheck, cmd, copied };
}

// ---------------------------------------------------------------- run and check

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function resolveArgv(argv: string[]): [string, string[]] {
  const [bin, ...rest] = argv;
  // The image's `node` is this Node (the version difference is noted in docs/delivery.md).
  return [bin === 'node' ? process.execPath : (bin as string), rest];
}

export interface SmokeResult {
  readonly image: RuntimeImage;
  readonly health: { status: number; body: unknown };
  readonly predict: { status: number; body: Record<string, unknown>; firstKey: string | undefined };
  /** GET /ui: 503 means the gateway found no UI build (ui/dist) in the image. */
  readonly ui: { status: number };
  readonly healthcheckExit: number | null;
  /** The gateway's `ready` log line (JSON), or null when it wrote none. */
  readonly ready: Record<string, unknown> | null;
}

/** Starts the image's CMD in its WORKDIR and checks the HTTP surface; always stops the process. */
export async function checkRunningImage(image: RuntimeImage, log: (line: string) => void = () => {}): Promise<SmokeResult> {
  const port = await freePort();
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...image.env, PORT: String(port) };
  const [bin, args] = resolveArgv(image.cmd);
  const cwd = mapInto(image.rootfs, '/', image.workdir);
  log(`CMD ${JSON.stringify(image.cmd)} in ${cwd} with PORT=${port}`);
  const child = spawn(bin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', (code) => ((exitCode = code), resolve())));
  const url = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 30_000;
    let health: { status: number; body: unknown } | null = null;
    while (exitCode === undefined && Date.now() < deadline) {
      const res = await fetch(`${url}/`).catch(() => null);
      if (res && res.status === 200) {
        health = { status: res.status, body: await res.json() };
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!health) {
      throw new Error(`the image's CMD did not become ready (${exitCode !== undefined ? `exited with ${exitCode}` : 'timed out'}):\n${output.slice(-3000)}`);
    }
    const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LEGACY_PAYLOAD) });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new Error(`POST /predict did not answer JSON (status ${res.status}): ${text.slice(0, 500)}`);
    }
    const ui = { status: (await fetch(`${url}/ui`)).status };
    let healthcheckExit: number | null = null;
    if (image.healthcheck) {
      const [hb, ha] = resolveArgv(image.healthcheck);
      const r = spawnSync(hb, ha, { cwd, env, encoding: 'utf8', timeout: 10_000 });
      healthcheckExit = r.status;
    }
    // GET / answers 200 once the model is in, and the line is written then: give it a moment to arrive.
    const readyLine = (): Record<string, unknown> | null => {
      for (const line of output.split('\n')) {
        if (!line.startsWith('{')) continue;
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (parsed['msg'] === 'ready') return parsed;
      }
      return null;
    };
    for (const stop = Date.now() + 5_000; readyLine() === null && Date.now() < stop; ) await new Promise((r) => setTimeout(r, 50));
    return { image, health, predict: { status: res.status, body, firstKey: Object.keys(body)[0] }, ui, healthcheckExit, ready: readyLine() };
  } finally {
    if (exitCode === undefined) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
  }
}

/**
 * Bundle files the gateway can serve without, so GET / and POST /predict pass with them missing:
 * the group report (none found is "no report"), and the explainer of a manifest that names none
 * (the committed manifest names one, so today a missing explainer.json stops the start). Each with
 * the `ready` line's field that gives the sha256 of the file loaded (null when none).
 */
const OPTIONAL_BUNDLE_FILES = [
  ['groupReportSha256', 'group_report.json'],
  ['explainerSha256', 'explainer.json'],
] as const;

/** sha256 of a file of this checkout's model/bundle/, or null when it has none. */
function committedBundleSha256(file: string): string | null {
  const p = path.join(REPO_ROOT, 'model/bundle', file);
  return fs.existsSync(p) ? createHash('sha256').update(fs.readFileSync(p)).digest('hex') : null;
}

/** Throws unless the result is what the image must do. */
export function assertHealthy(result: SmokeResult): void {
  const problems: string[] = [];
  const body = result.health.body as { status?: unknown } | null;
  if (result.health.status !== 200 || body?.status !== 'ok') problems.push(`GET / → ${result.health.status} ${JSON.stringify(result.health.body)}`);
  if (result.predict.status !== 200) problems.push(`POST /predict → ${result.predict.status} ${JSON.stringify(result.predict.body)}`);
  if (result.predict.firstKey !== 'prediction') problems.push(`POST /predict: first key is ${result.predict.firstKey}, not "prediction"`);
  if (result.ui.status === 503) problems.push('GET /ui → 503: the image has no UI build (is ui/dist copied?)');
  if (result.image.healthcheck && result.healthcheckExit !== 0) problems.push(`HEALTHCHECK command exited ${result.healthcheckExit}`);
  if (!result.image.user || /^(root|0)(:|$)/.test(result.image.user)) problems.push(`runs as root (USER ${result.image.user ?? 'not set'})`);
  if (!result.image.exposed.some((p) => p.replace(/\/tcp$/, '') === '8000')) problems.push('does not EXPOSE 8000');
  const revision = result.image.labels['org.opencontainers.image.revision'];
  if (result.ready === null) problems.push('the gateway wrote no `ready` line');
  else {
    if (result.ready['revision'] !== revision) problems.push(`the \`ready\` line names revision ${JSON.stringify(result.ready['revision'])}, the image's org.opencontainers.image.revision label ${JSON.stringify(revision)}`);
    for (const [field, file] of OPTIONAL_BUNDLE_FILES) {
      const committed = committedBundleSha256(file);
      const loaded = result.ready[field];
      if (loaded !== committed) {
        problems.push(`the \`ready\` line's ${field} is ${JSON.stringify(loaded)}, the committed model/bundle/${file}'s sha256 ${JSON.stringify(committed)}: the image ${loaded === null ? 'lacks' : 'has another'} ${file}`);
      }
    }
  }
  if (problems.length > 0) throw new Error(`runtime image smoke failed:\n  - ${problems.join('\n  - ')}`);
}

/** Replays the runtime stage of `dockerfileText` into a temp folder and checks it; returns the result. */
export async function smoke(
  dockerfileText: string,
  opts: { runCache?: RunCache; dockerignore?: string; buildArgs?: Readonly<Record<string, string>>; keep?: boolean; log?: (l: string) => void; tmpParent?: string } = {},
): Promise<SmokeResult> {
  const rootfs = fs.mkdtempSync(path.join(opts.tmpParent ?? os.tmpdir(), 'docker-smoke-'));
  const replayOpts: ReplayOptions = { dockerfile: dockerfileText, rootfs };
  if (opts.runCache) replayOpts.runCache = opts.runCache;
  if (opts.log) replayOpts.log = opts.log;
  if (opts.dockerignore !== undefined) replayOpts.dockerignore = opts.dockerignore;
  if (opts.buildArgs) replayOpts.buildArgs = opts.buildArgs;
  let keep = opts.keep === true || opts.runCache !== undefined;
  try {
    const image = replayRuntimeStage(replayOpts);
    const result = await checkRunningImage(image, opts.log);
    assertHealthy(result);
    return result;
  } catch (err) {
    keep = false;
    if (opts.runCache) for (const [k, v] of opts.runCache) if (v.dir.startsWith(rootfs)) opts.runCache.delete(k);
    throw err;
  } finally {
    if (!keep) fs.rmSync(rootfs, { recursive: true, force: true });
  }
}

export interface SmokeCliOptions {
  dockerfile: string;
  buildArgs: Record<string, string>;
  keep: boolean;
}

/**
 * The command line, read as `docker build` reads these flags: `--build-arg NAME=value` (or
 * `--build-arg=NAME=value`) sets NAME; `--build-arg NAME` takes NAME's value from the environment,
 * and when NAME is not set there passes nothing, so the ARG keeps its default (buildx's listToMap).
 * Anything else is refused rather than ignored.
 */
export function parseCliArgs(argv: readonly string[], environ: Readonly<Record<string, string | undefined>> = process.env): SmokeCliOptions {
  const opts: SmokeCliOptions = { dockerfile: path.join(REPO_ROOT, 'Dockerfile'), buildArgs: {}, keep: false };
  for (let at = 0; at < argv.length; at++) {
    const arg = argv[at] ?? '';
    const flag = /^(--dockerfile|--build-arg)(?:=(.*))?$/s.exec(arg);
    if (arg === '--keep') {
      opts.keep = true;
    } else if (flag) {
      const value = flag[2] ?? argv[++at];
      if (value === undefined) throw new Error(`${flag[1]} needs a value (${flag[1] === '--build-arg' ? 'NAME=value, or NAME to take it from the environment' : 'a path'})`);
      if (flag[1] === '--dockerfile') {
        opts.dockerfile = value;
        continue;
      }
      const eq = value.indexOf('=');
      const name = eq < 0 ? value : value.slice(0, eq);
      if (!/^[A-Za-z_]\w*$/.test(name)) throw new Error(`--build-arg ${JSON.stringify(value)}: expected NAME=value or NAME (a name of letters, digits and _)`);
      const fromEnv = environ[name];
      if (eq >= 0) opts.buildArgs[name] = value.slice(eq + 1);
      else if (fromEnv !== undefined) opts.buildArgs[name] = fromEnv;
    } else {
      throw new Error(`unknown argument ${JSON.stringify(arg)} (usage: tsx scripts/docker-smoke.ts [--dockerfile Dockerfile] [--build-arg NAME[=value]]... [--keep])`);
    }
  }
  return opts;
}

async function cli(): Promise<void> {
  const { dockerfile: file, buildArgs, keep } = parseCliArgs(process.argv.slice(2));
  const started = Date.now();
  const result = await smoke(fs.readFileSync(file, 'utf8'), { keep, buildArgs, log: (l) => console.log(`docker-smoke: ${l}`) });
  console.log(`docker-smoke: OK in ${((Date.now() - started) / 1000).toFixed(1)} s: GET / ${JSON.stringify(result.health.body)}; POST /predict ${JSON.stringify(result.predict.body)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli().catch((err: unknown) => {
    console.error(`docker-smoke: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
