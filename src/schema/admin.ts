/**
 * reloadModel: an operator forces the gateway to check its model source now. Only with
 * the admin token (ADMIN_TOKEN, sent as `Authorization: Bearer <token>`).
 */
import { createGraphQLError } from 'graphql-yoga';
import type { GraphQLError } from 'graphql';
import { GatewayError } from '../errors.js';
import type { ChurnModel } from '../model/churn-model.js';
import { ReloadTimeoutError } from '../model/model-admin.js';
import { builder } from './builder.js';
import { requireAdmin } from './admin-access.js';
import { gatewayFailure } from './errors.js';
import { ModelInfo } from './model-info.js';

/**
 * A rejected candidate is not an outage: the gateway is healthy and keeps serving, so it is
 * 422 (the candidate is unprocessable) rather than 503. MLflow failing (not found, refused,
 * unreachable, too slow for the reload's deadline) is 502 (upstream).
 */
const RELOAD_STATUS: Readonly<Record<string, number>> = { MODEL_BUNDLE_INVALID: 422, MLFLOW_NOT_FOUND: 502, MLFLOW_UNAVAILABLE: 502 };

/**
 * What happened, before the message says why: "rejected" for a candidate found invalid only; a
 * reload that ran out of time was not judged, and one that others still wait for may swap in yet.
 */
function reloadOutcome(err: GatewayError): string {
  if (err instanceof ReloadTimeoutError) return err.goesOn ? 'reload timed out for this call' : 'reload timed out, the current model keeps serving';
  return err.code === 'MODEL_BUNDLE_INVALID' ? 'reload rejected, the current model keeps serving' : 'reload failed, the current model keeps serving';
}

function reloadFailure(err: GatewayError, requestId: string): GraphQLError {
  const status = RELOAD_STATUS[err.code];
  if (status !== undefined) {
    // No originalError: Yoga masks any GraphQLError whose originalError chain ends in a non-GraphQL error.
    return createGraphQLError(`${reloadOutcome(err)}: ${err.message}`, {
      extensions: { code: err.code, requestId, http: { status } },
    });
  }
  return gatewayFailure(err, requestId);
}

const ReloadResult = builder
  .objectRef<{ changed: boolean; message: string; model: ChurnModel }>('ReloadResult')
  .implement({
    description: 'Outcome of reloadModel.',
    fields: (t) => ({
      changed: t.exposeBoolean('changed', { description: 'Whether a different model is now serving.' }),
      message: t.exposeString('message', { description: 'What happened, for the operator.' }),
      model: t.field({ type: ModelInfo, description: 'The model serving after the reload.', resolve: (r) => r.model }),
    }),
  });

builder.mutationField('reloadModel', (t) =>
  t.field({
    type: ReloadResult,
    description: [
      'Admin only (Authorization: Bearer ADMIN_TOKEN). Checks the model source now, answering before REQUEST_TIMEOUT_MS:',
      '- MLflow configured (MLFLOW_TRACKING_URI and MODEL_URI): loads the model MODEL_URI names now, verifies it and warms it up beside ' +
        'the serving one, and swaps it in if it is another model: other ONNX bytes, registry version or MLflow run (changed: true).',
      '- Serving the packaged bundle (no MLflow configured): changes nothing (changed: false). MODEL_DIR is read at start-up only: ' +
        'restart the gateway to serve a rebuilt bundle.',
      // One list: a line after a list item, without a blank line, would continue that item.
      '- Errors, after which the serving model keeps serving: MODEL_BUNDLE_INVALID, HTTP 422, when the new model fails verification; ' +
        'MLFLOW_NOT_FOUND or MLFLOW_UNAVAILABLE, HTTP 502, when MLflow cannot provide it (not found; unreachable, refused, or too slow ' +
        'for the deadline); FORBIDDEN (HTTP 403) without the admin token, the message saying why (none sent, a header that is not Bearer <token>, ' +
        'a token that is not the admin token, or no ADMIN_TOKEN on this gateway); MODEL_NOT_READY (HTTP 503) while the gateway starts or shuts down.',
    ].join('\n'),
    resolve: async (_root, _args, ctx) => {
      requireAdmin(ctx.request, 'reloadModel');
      try {
        // Within a deadline below REQUEST_TIMEOUT_MS (counted from the request's start), so the
        // caller gets the reload's own answer and nothing is swapped in after a failure answer.
        return await ctx.admin.reloadNow('reloadModel mutation', ctx.request.startedAt, { reqId: ctx.request.id, client: ctx.request.client });
      } catch (err) {
        if (err instanceof GatewayError) throw reloadFailure(err, ctx.request.id);
        throw err;
      }
    },
  }),
);
