/**
 * Loading and replacing the served model. A candidate is loaded, verified and warmed up
 * beside the current one and swapped in only when all of that succeeded; a candidate
 * that fails leaves the current model serving.
 */
import { BundleError, describeError } from '../errors.js';
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
  /** The identity peek() would report for `model`, or null when the model did not come from this source. */
  identify?(model: ChurnModel): string | null;
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

export interface PollResult {
  readonly checked: boolean;
  readonly reloaded: ReloadResult | null;
}

export class ModelAdmin {
  private reloading: Promise<ReloadResult> | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private closed = false;
  /** The last identity the poller saw rejected, so a bad version is not reloaded every interval. */
  private rejectedIdentity: string | null = null;

  constructor(
    private readonly slot: ModelSlot,
    private readonly source: ModelSource | null,
    private readonly log: Logger,
    private readonly metrics: GatewayMetrics,
  ) {
    slot.onSwap((model) => metrics.setModel(model));
  }


  /** Loads from the source and swaps if it is a different model. Concurrent calls share one load. */
  reload(reason: string): Promise<ReloadResult> {
    this.reloading ??= this.doReload(reason).finally(() => (this.reloading = null));
    return this.reloading;
  }

  /**
   * One promotion check: a cheap peek at the source (e.g. alias → version); a reload only
   * when it names something other than what is serving. Never throws: a failed check or a
   * rejected candidate is logged and the current model keeps serving.
   */
  async checkForUpdate(): Promise<PollResult> {
    if (!this.source) return { checked: false, reloaded: null };
    let wanted: string | null;
    try {
      wanted = await this.source.peek();
    } catch (err) {
      this.log.warn({ err: describeError(err), source: this.source.description }, 'model source check failed; the current model keeps serving');
      return { checked: false, reloaded: null };
    }
    const serving = this.slot.loaded;
    const identity = serving && this.source.identify ? this.source.identify(serving) : null;
    if (wanted !== null && wanted === identity) return { checked: true, reloaded: null };
    if (wanted !== null && wanted === this.rejectedIdentity) return { checked: true, reloaded: null };
    try {
      return { checked: true, reloaded: await this.reload(`poll: source names ${wanted ?? 'an unknown version'}, serving ${identity ?? serving?.modelVersion ?? 'nothing'}`) };
    } catch (err) {
      // doReload logged why. A candidate that failed verification will fail again: skip it until
      // the source names another one (reloadModel still retries it on demand).
      if (err instanceof BundleError) this.rejectedIdentity = wanted;
      return { checked: true, reloaded: null };
    }
  }

  /** Checks the source every `intervalMs` (0 = never). The timer never keeps the process alive. */
  startPolling(intervalMs: number): void {
    if (!this.source || intervalMs <= 0 || this.pollTimer || this.polling) return;
    this.polling = true;
    const tick = () => {
      this.pollTimer = setTimeout(() => {
        void this.checkForUpdate().finally(() => {
          if (this.polling) tick();
        });
      }, intervalMs);
      this.pollTimer.unref();
    };
    tick();
    this.log.info({ source: this.source.description, intervalMs }, 'polling the model source for promotions');
  }

  stopPolling(): void {
    this.polling = false;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  /** Shutdown: no more polls, and a reload still loading releases its candidate instead of swapping it in. */
  close(): void {
    this.closed = true;
    this.stopPolling();
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
    this.rejectedIdentity = null;
    if (this.closed) {
      await candidate.release();
      return { changed: false, model: current, message: 'shutting down; the candidate was not swapped in' };
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
