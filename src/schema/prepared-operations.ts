/**
 * Compiled (graphql-jit) documents for the GraphQL hot path, keyed by document text. Only
 * documents Yoga has validated and run (without errors, or with errors that stand: see
 * graphql-endpoint) are learned, and only side-effect-free scoring and read fields qualify (a
 * compiled run whose errors do not stand is re-run by Yoga; see graphql-endpoint).
 * A document's first run is compiled too, inside Yoga's pipeline once Yoga validated it
 * (prepare; graphql-endpoint's onExecute), and the same compiled query is learned.
 */
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { BREAK, Kind, OperationTypeNode, getOperationAST, parse, visit, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { admissionFor } from './fast-path-admission.js';

/** Root fields whose repeat execution is harmless (Yoga re-runs a request that errored). */
const FAST_ROOT_FIELDS = new Set(['predict', 'predictBatch', 'modelInfo']);

export interface PreparedOperation {
  readonly compiled: CompiledQuery;
  /** Whether a request with these variables may run compiled (fast-path-admission.ts); if not, Yoga answers it. */
  readonly admits: (variables: Readonly<Record<string, unknown>>) => boolean;
  /** Operation name, or "<kind> <fields>" for anonymous ones: what logs and metrics show. */
  readonly label: string;
  /** The operation compiled, as parsed then: its root fields say which errors of a run stand (graphql-endpoint). */
  readonly operation: OperationDefinitionNode;
}

/** Operation name, or "<kind> <root fields>" for anonymous operations: what logs and metrics show. */
/** Longest operation label kept (metrics label, access log); a longer one is cut with "…". */
export const MAX_OPERATION_LABEL_CHARS = 64;

export function operationLabel(op: OperationDefinitionNode): string {
  return cutOperationLabel(op.name?.value ?? `${op.operation} ${op.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : '…')).join(',')}`);
}

/** `label` cut to MAX_OPERATION_LABEL_CHARS (with "…"): also the label of a request's operationName before its document is parsed. */
export function cutOperationLabel(label: string): string {
  return label.length > MAX_OPERATION_LABEL_CHARS ? `${label.slice(0, MAX_OPERATION_LABEL_CHARS - 1)}…` : label;
}

function hasConditionalSelection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (node.name.value === 'skip' || node.name.value === 'include') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

export class PreparedOperations {
  private readonly cache = new Map<string, PreparedOperation>();

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly maxEntries = 256,
  ) {}

  private static key(query: string, operationName: string | null | undefined): string {
    return operationName ? `${operationName}\u0000${query}` : query;
  }

  /** Documents compiled now (at most maxEntries: the oldest learned goes first). */
  get size(): number {
    return this.cache.size;
  }

  get(query: string, operationName: string | null | undefined): PreparedOperation | undefined {
    return this.cache.get(PreparedOperations.key(query, operationName));
  }

  /**
   * The operation compiled, when it may run compiled: a query or mutation of scoring and read
   * fields only, without @skip / @include, whose request `variables` (when given) are admitted
   * (fast-path-admission.ts). Not kept: learn keeps it once Yoga answered it without errors.
   */
  prepare(document: DocumentNode, operationName: string | null | undefined, variables?: Readonly<Record<string, unknown>>): PreparedOperation | undefined {
    const op = getOperationAST(document, operationName);
    if (!op || op.operation === OperationTypeNode.SUBSCRIPTION) return undefined;
    const fields = op.selectionSet.selections;
    if (!fields.every((s) => s.kind === Kind.FIELD && FAST_ROOT_FIELDS.has(s.name.value))) return undefined;
    // graphql-jit gets conditional selections wrong: a fragment spread skipped once is dropped
    // at its next spread too, and keys keep their static order when their first occurrence
    // is skipped. Documents with @skip / @include anywhere stay with Yoga.
    if (hasConditionalSelection(document)) return undefined;
    const admits = admissionFor(op);
    // Before compiling: a request sent to Yoga's executor anyway need not pay for it.
    if (variables && !admits(variables)) return undefined;
    const compiled = compileQuery(this.schema, document, operationName ?? undefined);
    if (!isCompiledQuery(compiled)) return undefined;
    return { compiled, label: operationLabel(op), admits, operation: op };
  }

  /**
   * Call only after Yoga validated and executed this exact document (without errors, or with a
   * compiled run's errors that stand). `prepared`: what prepare gave for Yoga's parse of the same
   * text on that run (the document is compiled once).
   */
  learn(query: string, operationName: string | null | undefined, prepared?: PreparedOperation): void {
    const key = PreparedOperations.key(query, operationName);
    if (this.cache.has(key)) return;
    const operation = prepared ?? this.prepare(parse(query), operationName);
    if (!operation) return;
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, operation);
  }
}
