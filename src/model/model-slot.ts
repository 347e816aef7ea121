/**
 * Holds the model being served. A request takes `current` once and uses that model for
 * all of its rows, so a swap never mixes models inside one answer; the old model is
 * released only after its in-flight predictions finish.
 */
import { NotReadyError } from '../errors.js';
import type { ChurnModel } from './churn-model.js';

/** What a request gets once the gateway has released its model (ModelSlot.close, at shutdown), and its reloads (model-admin.ts). */
export const SHUTTING_DOWN = 'the gateway is shutting down';

export class ModelSlot {
  private model: ChurnModel | null = null;
  private closed = false;
  private readonly listeners = new Set<(model: ChurnModel) => void>();

  get current(): ChurnModel {
    // After close, NotReadyError's default ("still starting … repeat in a few seconds") would be false.
    if (!this.model) throw this.closed ? new NotReadyError(SHUTTING_DOWN) : new NotReadyError();
    return this.model;
  }

  get loaded(): ChurnModel | null {
    return this.model;
  }

  /**
   * Serves `next` from the moment it is called (the switch is synchronous); the promise
   * resolves once the previous model is released.
   */
  swap(next: ChurnModel): Promise<void> {
    const previous = this.model;
    this.model = next;
    for (const listener of this.listeners) listener(next);
    return previous && previous !== next ? previous.release() : Promise.resolve();
  }

  onSwap(listener: (model: ChurnModel) => void): void {
    this.listeners.add(listener);
  }

  async close(): Promise<void> {
    const previous = this.model;
    this.model = null;
    this.closed = true;
    await previous?.release();
  }
}
