/**
 * Splitting a list of customers into predictBatch requests within this gateway's limits: at most
 * MAX_BATCH rows and BODY_LIMIT_BYTES bytes of body each, both stated by the page's HTML (from the
 * gateway's configuration, src/ui/pages.ts). Used by /ui for a customer's offers and by /ui/batch
 * for a file and its offers: here, in the form's code, so the form's bundle need not carry the file
 * page's.
 */
import type { CustomerInput, RetentionOffersDocument, ScoreFileDocument } from '../../../src/generated/graphql.js';
import { BODY_LIMIT_META, MAX_BATCH_META } from '../../../src/ui/page-meta.js';
import { requestBody, statedNumber } from './gateway-client.js';

export interface Limits {
  /** MAX_BATCH: rows per request. */
  readonly maxBatch: number;
  /** BODY_LIMIT_BYTES: bytes of a request body. */
  readonly bodyLimitBytes: number;
}

/** The gateway's limits as the page states them; null when the page states none (not a page this gateway served). */
export function pageLimits(): Limits | null {
  const maxBatch = statedNumber(MAX_BATCH_META);
  const bodyLimitBytes = statedNumber(BODY_LIMIT_META);
  return maxBatch !== null && bodyLimitBytes !== null ? { maxBatch, bodyLimitBytes } : null;
}

/** Bytes of `text` in UTF-8, as the request sends it. */
function utf8Bytes(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      // A surrogate pair (an emoji): 4 bytes for its 2 units.
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/** An operation that takes the customers of a request as `$customers`. */
type BatchDocument = typeof ScoreFileDocument | typeof RetentionOffersDocument;

/** A request's rows: [start, end) in the list's order. */
export type Span = readonly [number, number];

/**
 * The requests a list of customers is sent in: consecutive rows, each request within MAX_BATCH
 * rows and BODY_LIMIT_BYTES bytes of body, counted exactly as gateway-client serialises it for
 * `document`. A row that alone makes a body over the limit is returned as `tooLarge` (its index).
 */
export function splitIntoRequests(customers: readonly CustomerInput[], limits: Limits, document: BatchDocument): { spans: Span[] } | { tooLarge: number } {
  const empty = utf8Bytes(requestBody(document, { customers: [] }));
  const spans: Span[] = [];
  let start = 0;
  let bytes = empty;
  for (let i = 0; i < customers.length; i++) {
    const row = utf8Bytes(JSON.stringify(customers[i]));
    const withRow = bytes + row + (i > start ? 1 : 0); // the comma before it
    if (i > start && (i - start >= limits.maxBatch || withRow > limits.bodyLimitBytes)) {
      spans.push([start, i]);
      start = i;
      bytes = empty + row;
    } else {
      bytes = withRow;
    }
    if (bytes > limits.bodyLimitBytes) return { tooLarge: i };
  }
  if (start < customers.length) spans.push([start, customers.length]);
  return { spans };
}
