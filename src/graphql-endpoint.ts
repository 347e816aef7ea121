/**
 * /graphql over HTTP. Yoga parses, validates (with every limit and plugin) and runs each
 * new document; once a document ran without errors it is compiled (PreparedOperations)
 * and later requests with the same text skip Yoga's per-request pipeline. A compiled run
 * that produces errors is answered by Yoga instead, so error shapes have one source.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Config } from './config.js';
import { describeError } from './errors.js';
import { HttpProblem, readBody } from './http.js';
import type { Logger } from './logger.js';
import type { RequestState } from './request-state.js';
import type { GraphQLContext } from './schema/builder.js';
import { useErrorCodes } from './schema/error-codes.js';
import { schema } from './schema/index.js';
import { limitPlugins } from './schema/limits.js';
import { PreparedOperations, operationLabel } from './schema/prepared-operations.js';

interface ServerContext {
  requestState: RequestState;
}

export interface GraphQLEndpoint {
  readonly yoga: YogaServerInstance<ServerContext, GraphQLContext>;
  handle(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void>;
}

interface GraphQLParams {
  query: string;
  operationName: string | null;
  variables: Record<string, unknown>;
}

/** A well-formed GraphQL-over-HTTP JSON body, or null (Yoga then answers, errors included). */
function graphqlParams(body: Buffer): GraphQLParams | null {
  let payload: unknown;
  try {
    payload = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return null;
  const { query, operationName, variables, extensions } = payload as Record<string, unknown>;
  if (typeof query !== 'string' || extensions !== undefined) return null;
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return null;
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return null;
  return { query, operationName: operationName ?? null, variables: (variables ?? {}) as Record<string, unknown> };
}

function hasErrors(bytes: Buffer): boolean {
  try {
    return (JSON.parse(bytes.toString('utf8')) as { errors?: unknown }).errors !== undefined;
  } catch {
    return true;
  }
}

/** Yoga answers some protocol errors with an empty body: say what was wrong. */
const EMPTY_ERROR_DETAIL: Record<number, string> = {
  405: 'use POST (or GET for queries) on /graphql',
  406: 'the accept header must allow application/json or application/graphql-response+json',
  415: 'content-type must be application/json',
};

export function createGraphQLEndpoint(deps: {
  config: Config;
  log: Logger;
  contextFor: (request: RequestState) => GraphQLContext;
}): GraphQLEndpoint {
  const { config, log, contextFor } = deps;
  const prepared = new PreparedOperations(schema);
  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
    cors: false,
    multipart: false,
    maskedErrors: true,
    logging: {
      debug: (...args) => log.debug({ args: args.map(String) }, 'yoga'),
      info: (...args) => log.info({ args: args.map(String) }, 'yoga'),
      warn: (...args) => log.warn({ args: args.map(String) }, 'yoga'),
      error: (...args) => log.error({ args: args.map((a) => describeError(a)) }, 'yoga error'),
    },
    context: ({ requestState }) => contextFor(requestState),
    plugins: [
      ...limitPlugins(config),
      useErrorCodes(),
      {
        onExecute({ args }: { args: { contextValue: unknown; document: DocumentNode; operationName?: string | null } }) {
          const op = getOperationAST(args.document, args.operationName);
          (args.contextValue as GraphQLContext).request.operation = op ? operationLabel(op) : null;
        },
      },
    ],
  });

  async function handle(req: IncomingMessage, res: ServerResponse, state: RequestState): Promise<void> {
    const method = req.method ?? 'GET';
    const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(req, config.BODY_LIMIT_BYTES);
    const params = body && /^application\/json\b/i.test(req.headers['content-type'] ?? '') ? graphqlParams(body) : null;
    const compiled = params ? prepared.get(params.query, params.operationName) : undefined;
    if (params && compiled) {
      state.operation = compiled.label;
      const result = await compiled.compiled.query(undefined, contextFor(state), params.variables);
      if (!result.errors) {
        if (res.headersSent) return;
        const text = compiled.compiled.stringify(result);
        const type = /application\/graphql-response\+json/.test(req.headers.accept ?? '') ? 'application/graphql-response+json' : 'application/json';
        res.writeHead(200, { 'content-type': `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const response = await yoga.fetch(new URL(req.url ?? '/graphql', 'http://localhost'), { method, headers, ...(body ? { body: body.toString('utf8') } : {}) }, { requestState: state });
    const bytes = Buffer.from(await response.arrayBuffer());
    if (response.status >= 400 && bytes.length === 0) {
      throw new HttpProblem(response.status, response.statusText || 'Bad Request', EMPTY_ERROR_DETAIL[response.status] ?? `GraphQL request refused with status ${response.status}`);
    }
    if (params && !compiled && response.status === 200 && !hasErrors(bytes)) prepared.learn(params.query, params.operationName);
    if (res.headersSent) return;
    const outHeaders: Record<string, string> = {};
    response.headers.forEach((v, k) => (outHeaders[k] = v));
    outHeaders['content-length'] = String(bytes.length);
    res.writeHead(response.status, outHeaders);
    res.end(bytes);
  }

  return { yoga, handle };
}
