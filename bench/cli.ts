/**
 * The bench scripts' command lines: each script declares its options once (kind, default, what
 * it means), and `parseCli` reads the arguments with node:util's parseArgs in strict mode before
 * any load starts. `--help` prints the usage, built from the same declarations (so a default is
 * written in one place), and exits 0; an unknown option, a missing value or a value outside what
 * the option allows prints what is wrong and exits 2 (a usage error, apart from a run that failed).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A whole number of at least `min`. */
interface IntegerOption {
  readonly kind: 'integer';
  readonly min: number;
  readonly default?: number;
  /** The value's name in the usage (`--rounds <n>`). */
  readonly value: string;
  readonly help: string;
}

/** Text; with `list`, a comma-separated list of some of those words. */
interface TextOption {
  readonly kind: 'text';
  readonly default?: string;
  readonly list?: readonly string[];
  readonly value: string;
  readonly help: string;
}

interface FlagOption {
  readonly kind: 'flag';
  readonly help: string;
}

export type CliOption = IntegerOption | TextOption | FlagOption;

/** What each option reads as: a flag is a boolean, an option with a default always has a value. */
export type CliValues<O extends Record<string, CliOption>> = {
  readonly [K in keyof O]: O[K] extends FlagOption ? boolean : O[K] extends IntegerOption ? (O[K] extends { default: number } ? number : number | undefined) : O[K] extends { default: string } ? string : string | undefined;
};

export interface CliSpec<O extends Record<string, CliOption>> {
  /** How the script is run, options left out: `npm run bench --`, `npx tsx bench/compare-builds.ts`. */
  readonly command: string;
  /** One or two lines on what the script does. */
  readonly about: string;
  readonly options: O;
}

/** The exit code of a usage error (the command line, not the run, was wrong). */
export const USAGE_ERROR_EXIT = 2;

const placeholder = (o: CliOption): string => (o.kind === 'flag' ? '' : ` <${o.value}>`);

/** The usage text `--help` prints. */
export function usageText<O extends Record<string, CliOption>>(spec: CliSpec<O>): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const extra = [o.kind === 'text' && o.list ? `one or more of ${o.list.join(',')}` : undefined, o.kind === 'integer' ? `a whole number ≥ ${o.min}` : undefined, o.kind !== 'flag' && o.default !== undefined ? `default ${o.default}` : undefined].filter((s) => s !== undefined);
    return [`--${name}${placeholder(o)}`, `${o.help}${extra.length > 0 ? `; ${extra.join(', ')}` : ''}`] as const;
  });
  rows.push(['--help', 'print this and exit']);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [`Usage: ${spec.command} [options]`, '', spec.about, '', 'Options:', ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`), ''].join('\n');
}

class UsageError extends Error {}

/** parseArgs's own refusals (unknown option, missing value, a positional argument) carry a code ERR_PARSE_ARGS_…. */
const isParseArgsError = (e: unknown): e is Error => e instanceof Error && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS_');

/** `raw` as parseArgs read it: true for a flag given, the text for an option with a value, undefined when not given. */
function check(name: string, o: CliOption, raw: unknown): string | number | boolean | undefined {
  if (o.kind === 'flag') return raw === true;
  if (typeof raw !== 'string') return o.default;
  const text = raw;
  if (o.kind === 'integer') {
    const n = Number(text);
    if (text.trim() === '' || !Number.isInteger(n) || n < o.min) throw new UsageError(`--${name}: a whole number ≥ ${o.min}; got "${text}"`);
    return n;
  }
  if (o.list) {
    const words = text.split(',');
    const unknown = words.filter((w) => !o.list?.includes(w));
    if (unknown.length > 0) throw new UsageError(`--${name}: unknown ${unknown.map((w) => `"${w}"`).join(', ')}; use one or more of ${o.list.join(',')}`);
  } else if (text === '') throw new UsageError(`--${name}: needs a value (<${o.value}>)`);
  return text;
}

/**
 * Reads `argv` (process.argv.slice(2) by default) against `spec`: on `--help` prints the usage to
 * stdout and exits 0; on a usage error prints it and the way to the usage to stderr and exits 2.
 * `given` names the options the command line set (the others read their default).
 */
export function parseCli<const O extends Record<string, CliOption>>(spec: CliSpec<O>, argv: readonly string[] = process.argv.slice(2)): { values: CliValues<O>; given: ReadonlySet<keyof O & string> } {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean' } };
  for (const [name, o] of Object.entries(spec.options)) options[name] = { type: o.kind === 'flag' ? 'boolean' : 'string' };
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    if (values['help'] === true) {
      process.stdout.write(usageText(spec));
      process.exit(0);
    }
    const out: Record<string, string | number | boolean | undefined> = {};
    for (const [name, o] of Object.entries(spec.options)) out[name] = check(name, o, values[name]);
    const given = new Set(Object.keys(spec.options).filter((name) => values[name] !== undefined));
    return { values: out as CliValues<O>, given };
  } catch (e) {
    if (!(e instanceof UsageError) && !isParseArgsError(e)) throw e;
    process.stderr.write(`${e.message}\n\`${spec.command} --help\` lists the options.\n`);
    process.exit(USAGE_ERROR_EXIT);
  }
}

/** Stops with a usage error that parseCli's checks cannot see (an option that must be given, say). */
export function usageError<O extends Record<string, CliOption>>(spec: CliSpec<O>, message: string): never {
  process.stderr.write(`${message}\n${usageText(spec)}`);
  process.exit(USAGE_ERROR_EXIT);
}
