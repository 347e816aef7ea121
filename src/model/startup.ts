/**
 * Chooses and loads the first model: the bundle in MODEL_DIR.
 */
import { readBundleDir, verifyBundle } from '../bundle/load.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { ChurnModel } from './churn-model.js';

export async function loadBundleModel(dir: string, notice: string | null = null): Promise<ChurnModel> {
  const bundle = verifyBundle(await readBundleDir(dir));
  const { lineageFromManifest } = await import('./churn-model.js');
  return ChurnModel.create(bundle, lineageFromManifest(bundle.manifest, notice));
}

export async function loadInitialModel(config: Config, log: Logger): Promise<ChurnModel> {
  log.info({ modelDir: config.MODEL_DIR }, 'loading model bundle');
  return loadBundleModel(config.MODEL_DIR);
}
