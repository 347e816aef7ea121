/**
 * Which operation of a document to run, said plainly when it cannot be told: Yoga answers
 * every such case "Could not determine what operation to execute.", naming neither the
 * operationName sent nor the operations the document has.
 */
import { GraphQLError, Kind, getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const quoted = (names: readonly string[]): string => names.map((n) => JSON.stringify(n)).join(', ');

/** Why `operationName` picks no operation of `document`, or null when it picks one. */
export function operationProblem(document: DocumentNode, operationName: string | null | undefined): string | null {
  if (getOperationAST(document, operationName) !== null) return null;
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const named = operations.flatMap((o) => (o.name ? [o.name.value] : []));
  const anonymous = operations.length - named.length;
  const has =
    operations.length === 0
      ? 'it has no operation, only fragments'
      : `it has ${[named.length > 0 ? quoted(named) : '', anonymous > 0 ? `${anonymous} without a name` : ''].filter(Boolean).join(' and ')}`;
  if (operationName === '') return `operationName is empty: ${operations.length > 1 ? 'name the operation to run' : 'leave it out, or name the operation'}; ${has}`;
  if (operationName !== null && operationName !== undefined) return `operationName ${JSON.stringify(operationName)} names no operation of the document; ${has}`;
  if (operations.length === 0) return 'the document has no operation to run, only fragments';
  return `the document has ${operations.length} operations, so operationName must name the one to run; ${has}${anonymous > 0 ? ' (an operation without a name cannot be chosen: name it)' : ''}`;
}

/**
 * Refuses, after parsing and before Yoga's own check (user plugins run first), a request whose
 * operationName picks no operation, with the same code and status Yoga gives.
 */
export function useOperationNameCheck(): Plugin {
  return {
    onParse() {
      // Yoga puts the request's GraphQL parameters in the context, as its own check reads them.
      return ({ result, context }) => {
        if (typeof result !== 'object' || result === null || (result as { kind?: unknown }).kind !== Kind.DOCUMENT) return;
        // A GET's `operationName=` (empty) is not there for Yoga's GET reading: left out, as the
        // GraphQL-over-HTTP spec's GET section says. A POST's empty string is refused (operationProblem).
        const { params } = context as { params?: { operationName?: string | null } };
        const problem = operationProblem(result as DocumentNode, params?.operationName);
        if (problem) throw new GraphQLError(problem, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } });
      };
    },
  };
}
