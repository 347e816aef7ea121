/**
 * reloadModel: an operator forces the gateway to check its model source now. Only with
 * the admin token (ADMIN_TOKEN, sent as `Authorization: Bearer <token>`).
 */
import { GatewayError } from '../errors.js';
import type { ChurnModel } from '../model/churn-model.js';
import { builder } from './builder.js';
import { forbidden, gatewayFailure } from './errors.js';
import { ModelInfo } from './model-info.js';

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
    description:
      'Admin only (Authorization: Bearer ADMIN_TOKEN). Checks the model source now; a new model is loaded, verified and warmed up ' +
      'beside the current one, then swapped in. A model that fails verification is rejected and the current one keeps serving.',
    resolve: async (_root, _args, ctx) => {
      if (!ctx.request.isAdmin) throw forbidden('reloadModel needs the admin token: send Authorization: Bearer <ADMIN_TOKEN> (and set ADMIN_TOKEN on the gateway)');
      try {
        return await ctx.admin.reload('reloadModel mutation');
      } catch (err) {
        if (err instanceof GatewayError) throw gatewayFailure(err, ctx.request.id);
        throw err;
      }
    },
  }),
);
