/**
 * Per-row work on a large request, a chunk at a time: the event loop gets a turn between
 * chunks, so other callers (the load balancer's GET / included) are not held behind a
 * 10,000-row batch. Small requests never come here: their work stays in one synchronous piece.
 */

/**
 * Rows handled between two turns of the event loop: about 1 ms of checking. Checking all
 * 10,000 rows of a full batch at once held the event loop 16-27 ms (REST) on top of the
 * body's JSON.parse.
 */
export const CHUNK_ROWS = 500;

/** Whether `rows` rows are handled in chunks (forEachInChunks) rather than at once. */
export const handledInChunks = (rows: number): boolean => rows > CHUNK_ROWS;

/** Resolves in the event loop's check phase (setImmediate). */
const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Calls `step(i)` for i = 0 … rows - 1, in order, giving the event loop a turn after every
 * CHUNK_ROWS rows (the I/O and timers that came meanwhile run before the next chunk); stops
 * after the first step that returns false. `checkpoint` runs after each turn: it throws to
 * stop the work (what came during the turn may have made it pointless, e.g. the caller left).
 *
 * The first chunk usually runs in the poll phase (continuing a request body's 'end'), and an
 * immediate set there runs in the same loop iteration's check phase, before any new I/O is
 * polled: the first turn is two immediates, so it reaches the next iteration's poll. Later
 * chunks run in the check phase, where one immediate already waits for the next iteration.
 */
export async function forEachInChunks(rows: number, step: (i: number) => boolean, checkpoint?: () => void): Promise<void> {
  for (let i = 0; i < rows; i++) {
    if (!step(i)) return;
    if ((i + 1) % CHUNK_ROWS === 0 && i + 1 < rows) {
      if (i + 1 === CHUNK_ROWS) await immediate();
      await immediate();
      checkpoint?.();
    }
  }
}
