/**
 * Loading and replacing the served model. A candidate is loaded, verified and warmed up
 * beside the current one and swapped in only when all of that succeeded; a candidate
 * that fails leaves the current model serving.
 */
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics.js';
import type { ChurnModel } from './churn-model.js';
import type { ModelSlot } from './model-slot.js';

/** A place models come from (the bundle folder, an MLflow registry). */
export interface ModelSource {
  /** What is being looked for, for logs and errors (a folder, a models:/ URI). */
  readonly description: string;
  /** Identity of what the source would load now (e.g. a registry version), or null when unknown without loading. */
  peek(): Promise<string | null>;
  load(): Promise<ChurnModel>;
}

export interface ReloadResult {
  readonly changed: boolean;
  readonly model: ChurnModel;
  readonly message: string;
}

/** Same model when the ONNX bytes and the lineage's version are the same. */
export function sameModel(a: ChurnModel, b: ChurnModel): boolean {
  return a.manifest.onnx.sha256 === b.manifest.onnx.sha256 && a.modelVersion === b.modelVersion && a.lineage.source === b.lineage.source;
}

export class ModelAdmin {
  private reloading: Promise<ReloadResult> | null = null;

  constructor(
    private readonly slot: ModelSlot,
    private readonly source: ModelSource | null,
    private readonly log: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    slot.onSwap((model) => metrics.setModel(model));
  }

  get sourceDescription(): string | null {
    return this.source?.description ?? null;
  }

  /** Loads from the source and swaps if it is a different model. Concurrent calls share one load. */
  reload(reason: string): Promise<ReloadResult> {
    this.reloading ??= this.doReload(reason).finally(() => (this.reloading = null));
    return this.reloading;
  }

  private async doReload(reason: string): Promise<ReloadResult> {
    const current = this.slot.current;
    if (!this.source) return { changed: false, model: current, message: 'no model source configured; the bundle is served' };
    let candidate: ChurnModel;
    try {
      candidate = await this.source.load();
    } catch (err) {
      this.log.error({ err: describeError(err), source: this.source.description, reason }, 'model reload rejected; the current model keeps serving');
      throw err;
    }
    if (sameModel(candidate, current)) {
      await candidate.release();
      return { changed: false, model: current, message: `model ${current.modelVersion} is already serving` };
    }
    await this.slot.swap(candidate);
    this.log.info({ from: current.modelVersion, to: candidate.modelVersion, source: this.source.description, reason }, 'model swapped');
    return { changed: true, model: candidate, message: `now serving ${candidate.modelVersion} (was ${current.modelVersion})` };
  }
}
