/**
 * Reads a model bundle (manifest, ONNX bytes, parity vectors, and the explainer and group report
 * when it has them) and checks it is whole: the manifest fits its schema, the checksums it gives
 * match, and each file fits its format. Where the bytes come from
 * (a folder, MLflow) is the caller's business; `origin` names it in every error.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { BundleError, zodIssues } from '../errors.js';
import { explainerFileSchema, type ExplainerFile } from '../model/explainer.js';
import { GROUP_REPORT_FILE, groupReportFileSchema, type LoadedGroupReport } from './group-report.js';
import { manifestSchema, parityFileSchema, type Manifest, type ParityFile } from './manifest.js';

export interface RawBundle {
  /** Where the files came from, e.g. a folder path or an MLflow URI. */
  readonly origin: string;
  readonly manifestJson: string;
  readonly onnx: Uint8Array;
  readonly parityJson: string;
  /** The manifest's explainer file; null when the manifest names none. */
  readonly explainerJson: string | null;
  /** The bundle's group_report.json; null when the bundle has none (the manifest does not name it). */
  readonly groupReportJson: string | null;
}

export interface VerifiedBundle {
  readonly origin: string;
  readonly manifest: Manifest;
  readonly onnx: Uint8Array;
  readonly parity: ParityFile;
  /**
   * The explainer file, its checksum and format checked; null when the manifest names none (the
   * model is served without explanations). ChurnModel.create checks it against the model.
   */
  readonly explainer: ExplainerFile | null;
  /**
   * The group report, its format checked; null when the bundle has none. ChurnModel.create checks
   * it names the model (group-report.ts), once the model itself has been accepted.
   */
  readonly groupReport: LoadedGroupReport | null;
}

export const MANIFEST_FILE = 'manifest.json';

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The JSON in bundle file `what` (read from `origin`), or a BundleError naming the file and the
 * parser's message (where the text stops being JSON: cut short, a UTF-8 BOM in front), whether the
 * bundle came from a folder or from MLflow.
 */
export function parseBundleJson(text: string, what: string, origin: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BundleError(`${what} in ${origin} is not valid JSON: ${(err as Error).message}`);
  }
}

/** `format`: what the message says the file must match (docs/model-bundle.md's name for it). */
function parseJson<T>(schema: z.ZodType<T>, text: string, what: string, origin: string, format = 'the bundle format'): T {
  const data = parseBundleJson(text, what, origin);
  const result = schema.safeParse(data);
  if (!result.success) {
    const issues = zodIssues(result.error);
    throw new BundleError(`${what} in ${origin} does not match ${format}: ${issues}`);
  }
  return result.data;
}

export function verifyBundle(raw: RawBundle): VerifiedBundle {
  const manifest = parseJson(manifestSchema, raw.manifestJson, MANIFEST_FILE, raw.origin);
  const onnxSha = sha256Hex(raw.onnx);
  if (onnxSha !== manifest.onnx.sha256) {
    throw new BundleError(`${manifest.onnx.file} in ${raw.origin} has sha256 ${onnxSha}, but the manifest says ${manifest.onnx.sha256}`);
  }
  const paritySha = sha256Hex(raw.parityJson);
  if (paritySha !== manifest.parity.sha256) {
    throw new BundleError(`${manifest.parity.file} in ${raw.origin} has sha256 ${paritySha}, but the manifest says ${manifest.parity.sha256}`);
  }
  const parity = parseJson(parityFileSchema, raw.parityJson, manifest.parity.file, raw.origin);
  // The manifest's account of the check is what modelInfo shows auditors: it must be the check that runs.
  if (parity.cases.length !== manifest.parity.count || parity.tolerance !== manifest.parity.tolerance) {
    throw new BundleError(
      `${manifest.parity.file} in ${raw.origin} holds ${parity.cases.length} cases at tolerance ${parity.tolerance}, but the manifest says ${manifest.parity.count} at ${manifest.parity.tolerance}`,
    );
  }
  if (manifest.parity.tolerance > PARITY_TOLERANCE_MAX) {
    throw new BundleError(
      `parity.tolerance in ${MANIFEST_FILE} in ${raw.origin} is ${manifest.parity.tolerance}; it must be at most ${PARITY_TOLERANCE_MAX} ` +
        "(training's own limit): a larger one would pass an ONNX model whose probabilities are not xgboost's",
    );
  }
  if (manifest.riskBands.highFrom !== manifest.threshold || manifest.riskBands.mediumFrom > manifest.riskBands.highFrom) {
    throw new BundleError(
      `riskBands in ${raw.origin} must satisfy mediumFrom ≤ highFrom = threshold; got ${JSON.stringify(manifest.riskBands)} with threshold ${manifest.threshold}`,
    );
  }
  const contradictions = statedApart(manifest);
  if (contradictions.length > 0) {
    throw new BundleError(`${MANIFEST_FILE} in ${raw.origin} contradicts itself (modelInfo would show both): ${contradictions.join('; ')}`);
  }
  return { origin: raw.origin, manifest, onnx: raw.onnx, parity, explainer: explainerOf(manifest, raw), groupReport: groupReportOf(raw) };
}

/**
 * Where a fact stated beside the manifest's own fields is read from, for the messages naming it:
 * the manifest's `params` and `metrics` (`params.threshold_rule is "…"`), or those an MLflow run
 * logged (`run <id> logged param threshold_rule "…"`).
 */
export interface StatedBeside {
  readonly params: Readonly<Record<string, string>>;
  readonly metrics: Readonly<Record<string, number>>;
  /** How a message names one of them, before its value. */
  readonly name: (kind: 'param' | 'metric', key: string) => string;
}

/** The manifest's own params and metrics, as statedApart reads them. */
const inManifest = (manifest: Manifest): StatedBeside => ({
  params: manifest.params,
  metrics: manifest.metrics,
  name: (kind, key) => `${kind === 'param' ? 'params' : 'metrics'}.${key} is`,
});

/**
 * The facts stated twice, once in the manifest's fields for the gateway and once among the params
 * and metrics that modelInfo shows beside them (the manifest's, or for a model loaded from MLflow,
 * its run's), where the two differ (each compared only when both are there). Training writes both
 * from one value; a manifest edited by hand (it carries no checksum of itself) would decide at one
 * threshold while modelInfo's metrics named another.
 */
export function statedApart(manifest: Manifest, beside: StatedBeside = inManifest(manifest)): string[] {
  const apart: string[] = [];
  const metricThreshold = beside.metrics['threshold'];
  if (metricThreshold !== undefined && metricThreshold !== manifest.threshold) {
    apart.push(`threshold is ${manifest.threshold}, but ${beside.name('metric', 'threshold')} ${metricThreshold}`);
  }
  const rule = beside.params['threshold_rule'];
  if (rule !== undefined && rule !== manifest.thresholdRule) {
    apart.push(`thresholdRule is ${JSON.stringify(manifest.thresholdRule)}, but ${beside.name('param', 'threshold_rule')} ${JSON.stringify(rule)}`);
  }
  // A param is text ("462"): the same count in any spelling of the number agrees.
  const rounds = beside.params['n_rounds'];
  if (manifest.explainer && rounds !== undefined && Number(rounds) !== manifest.explainer.trees) {
    apart.push(`explainer.trees is ${manifest.explainer.trees}, but ${beside.name('param', 'n_rounds')} ${JSON.stringify(rounds)} (one tree per boosting round)`);
  }
  // Training writes mediumFrom = threshold × medium_from_fraction rounded to 6 decimals (train.py
  // medium_from): an edited one moved every customer's riskLevel while modelInfo showed the fraction.
  const fraction = beside.params['medium_from_fraction'];
  if (fraction !== undefined && !(Math.abs(manifest.riskBands.mediumFrom - manifest.threshold * Number(fraction)) <= MEDIUM_FROM_ROUNDING)) {
    apart.push(
      `riskBands.mediumFrom is ${manifest.riskBands.mediumFrom}, but ${beside.name('param', 'medium_from_fraction')} ${JSON.stringify(fraction)} of threshold ${manifest.threshold} (${manifest.threshold * Number(fraction)})`,
    );
  }
  return apart;
}

/** How far training's rounding of mediumFrom to 6 decimals may put it from threshold × medium_from_fraction. */
const MEDIUM_FROM_ROUNDING = 1e-6;

/**
 * The largest parity.tolerance (|Δp|) a bundle may declare: training's own limit, TOLERANCE_MAX in
 * model/churn_model/config.py (test/one-source.test.ts keeps the two equal). The replay is what
 * catches onnxruntime's tree-ensemble bugs and an ONNX file that is not the parity file's model;
 * a manifest edited to a looser tolerance would let either through.
 */
export const PARITY_TOLERANCE_MAX = 0.01;

/**
 * The largest explainer.tolerance (log-odds per contribution) a bundle may declare. The reference
 * check is what proves the trees' covers are the model's: covers change no margin, so the sigmoid
 * check passes whatever they are, and the committed model's covers swapped at every root move
 * contributions by up to 0.89 log-odds. Training writes 1e-4 and the gateway's recomputation is
 * within ~1e-6; above this, the check would accept drivers that are not xgboost's while
 * modelInfo.explainer told auditors they had been checked.
 */
const EXPLAINER_TOLERANCE_MAX = 1e-3;

/** The manifest's explainer file, its sha256 and format checked, or null when the manifest names none. */
function explainerOf(manifest: Manifest, raw: RawBundle): ExplainerFile | null {
  const entry = manifest.explainer;
  if (!entry) return null;
  if (entry.tolerance > EXPLAINER_TOLERANCE_MAX) {
    throw new BundleError(
      `explainer.tolerance in ${MANIFEST_FILE} in ${raw.origin} is ${entry.tolerance}; it must be at most ${EXPLAINER_TOLERANCE_MAX} log-odds per contribution: ` +
        "a larger one would accept trees whose covers are not the model's, and risk drivers that are not xgboost's",
    );
  }
  if (raw.explainerJson === null) throw new BundleError(`${entry.file} in ${raw.origin} was not read, but the manifest names it`);
  const sha = sha256Hex(raw.explainerJson);
  if (sha !== entry.sha256) throw new BundleError(`${entry.file} in ${raw.origin} has sha256 ${sha}, but the manifest says ${entry.sha256}`);
  return parseJson(explainerFileSchema, raw.explainerJson, entry.file, raw.origin, 'the explainer format');
}

/** The bundle's group report, its format checked, or null when the bundle has none. */
function groupReportOf(raw: RawBundle): LoadedGroupReport | null {
  if (raw.groupReportJson === null) return null;
  const report = parseJson(groupReportFileSchema, raw.groupReportJson, GROUP_REPORT_FILE, raw.origin, 'the group report format');
  return { report, fileSha256: sha256Hex(raw.groupReportJson) };
}

/** The usual reasons a bundle file cannot be read, in words; the code stays for searching. */
const READ_FAILURES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'a directory, not a file',
  ENOTDIR: 'a path through something that is not a directory',
};

function readFailure(file: string, err: unknown): BundleError {
  const code = (err as NodeJS.ErrnoException).code;
  const words = code === undefined ? undefined : READ_FAILURES[code];
  return new BundleError(`cannot read ${file}: ${words ? `${words} (${code})` : (code ?? (err as Error).message)}`);
}

async function readOrExplain(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw readFailure(file, err);
  }
}

/** A file a bundle may lack: null when it is not there; any other failure to read it explained. */
async function readIfPresent(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw readFailure(file, err);
  }
}

/** Reads a bundle folder (model/bundle or MODEL_DIR). */
export async function readBundleDir(dir: string): Promise<RawBundle> {
  const manifestJson = (await readOrExplain(path.join(dir, MANIFEST_FILE))).toString('utf8');
  // The whole manifest, not only the file names read next: every fault in it is named at once.
  const files = parseJson(manifestSchema, manifestJson, MANIFEST_FILE, dir);
  const [onnx, parity, explainer, groupReport] = await Promise.all([
    readOrExplain(path.join(dir, files.onnx.file)),
    readOrExplain(path.join(dir, files.parity.file)),
    files.explainer ? readOrExplain(path.join(dir, files.explainer.file)) : null,
    readIfPresent(path.join(dir, GROUP_REPORT_FILE)),
  ]);
  return {
    origin: dir,
    manifestJson,
    onnx: new Uint8Array(onnx),
    parityJson: parity.toString('utf8'),
    explainerJson: explainer?.toString('utf8') ?? null,
    groupReportJson: groupReport?.toString('utf8') ?? null,
  };
}
