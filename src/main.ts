/**
 * Process entry point. V8's flags are set first (src/v8-flags.ts); only then is the gateway
 * loaded, by a dynamic import. With static imports, every module of the graph (graphql, yoga,
 * zod, pino, onnxruntime's binding, ...) is loaded and compiled before the first module body
 * runs, so the flags would be set only after those allocations, and V8 had already made
 * pretenuring decisions by then (test/v8-flags.test.ts caught one on a busy machine).
 */
import './v8-flags.js';

await import('./start.js');
