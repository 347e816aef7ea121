/**
 * Float literals written in a document that graphql-js would read as 0 although they are not
 * zero (`monthlyCharges: 1e-400`): refused while the document is validated, as request bodies'
 * numbers are (json-body.ts), because a charge of 0 is a valid customer and the caller would be
 * scored as one they did not write. Int literals cannot underflow (no exponent, no fraction).
 * Those too large for a 64-bit number (`1e400`), which graphql-js reads as Infinity, are refused
 * here too, quoted as written rather than as the Infinity a later message would name.
 */
import { GraphQLError, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { OVERFLOW_REASON, UNDERFLOW_REASON, quotedNumber } from '../json-body.js';
import { underflows } from '../number-text.js';

const RepresentableFloatsRule: ValidationRule = (context) => ({
  FloatValue(node) {
    if (underflows(node.value)) context.reportError(new GraphQLError(`Float literal ${quotedNumber(node.value)} is ${UNDERFLOW_REASON}`, { nodes: node }));
    else if (!Number.isFinite(Number(node.value))) context.reportError(new GraphQLError(`Float literal ${quotedNumber(node.value)} is ${OVERFLOW_REASON}`, { nodes: node }));
  },
});

/** Adds RepresentableFloatsRule to Yoga's validation (run once per document text: Yoga caches the result). */
export function useRepresentableFloats(): Plugin {
  return { onValidate: ({ addValidationRule }) => addValidationRule(RepresentableFloatsRule) };
}
