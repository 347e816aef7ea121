import { Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { MLFLOW_TROUBLE_QUERY, SINGLE_PREDICTION_LINE } from './alarms.js';

/**
 * The value the "one request" query looks for: replace it with the x-request-id the caller got
 * (every answer carries one; a caller's own is kept when it is 1–128 of [A-Za-z0-9_.:-]).
 */
export const REQUEST_ID_PLACEHOLDER = 'PASTE-THE-X-REQUEST-ID';

/** Which log group a query reads: the gateway's JSON lines, or the ECS events (EcsEventLog). */
export type QueryLogGroup = 'gateway' | 'ecsEvents';

export interface SavedQuery {
  /** Shown after the stack's name, as `ChurnGateway/<name>`, in Logs Insights' saved queries. */
  readonly name: string;
  readonly logGroup: QueryLogGroup;
  readonly query: logs.QueryStringProps;
}

const quoted = (values: readonly string[]) => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
const single = SINGLE_PREDICTION_LINE;
/** SINGLE_PREDICTION_LINE as a Logs Insights filter: the lines the single-prediction metric is made of. */
const SINGLE_PREDICTION_FILTER =
  `msg = ${JSON.stringify(single.msg)} and route in ${quoted(single.routes)} and rows = ${single.rows} ` +
  `and status >= ${single.statusFrom} and status < ${single.statusBelow}`;

/**
 * Messages of the gateway's lines about a request that failed on its side (src/app.ts answerError
 * and its timeout, src/schema/prediction.ts): `code` is the GatewayError's (503 on REST, the
 * GraphQL error's extensions.code), a timeout says whether the request had arrived in full (503) or
 * not (408), an unexpected error is the 500 (REST's; GraphQL's is `graphql resolver failed`, a field
 * answered "Unexpected error." with HTTP 200, so in no 5xx count: `path` names the field). And the requests answered before they were routed
 * (src/app.ts handleClientError, `code` node's: a 408 to headers that did not arrive within
 * HEADERS_TIMEOUT_MS, ERR_HTTP_REQUEST_TIMEOUT; 400 or 431 from node's parser, HPE_*): they have no
 * access line and are in no /metrics series, so this is where they show. The 503s of the two budgets
 * of what is held at once (`code` OVERLOADED: the risk drivers being explained, with
 * `driversInFlight` and `capacity`; the request bodies, with `inUse` and `max`), and of the shutdown's
 * deadline (src/app.ts answerUnanswered), each have a line of their own too.
 */
export const FAILURE_MESSAGES = [
  'request failed',
  'prediction failed',
  'request timed out',
  'unexpected error',
  'graphql resolver failed',
  'explanation refused: too many risk drivers being explained at once',
  'request body refused: MAX_BODY_BYTES_IN_FLIGHT full',
  'shutdown timeout: request answered 503 before its work ended',
  'request refused before routing',
] as const;

/**
 * Messages of the gateway's lines about MLflow not providing the model it names (src/model/startup.ts,
 * src/model/model-admin.ts): the start-up load failed and the packaged bundle serves (`source`,
 * `modelDir`, `err`); a promotion check failed (`source`, `err`, `kind`: `not_found` when MLflow answered
 * that the alias or version is not there, `unavailable` when it gave no usable answer; logged when the
 * failure begins or its cause changes) and when the source answers again (`kind`, `failedChecks`,
 * `failingSince`); a candidate
 * rejected, by reloadModel (with its `reqId` and `client`) or the poller (`candidate` the version, `reason` who asked, `err` why:
 * `MODEL_BUNDLE_INVALID`, not found, unreachable, no answer in time), or cancelled after its deadline;
 * the serving model's run (or its experiment) deleted in MLflow or removed by `mlflow gc`, and
 * restored (`modelVersion`, `runId`, the `notice` in full, as modelInfo.noticeDetail shows it, or the `clearedNotice`).
 * A refused start under MLFLOW_STRICT is a `cannot start` line ("why a task did not start").
 */
export const MLFLOW_TROUBLE_MESSAGES = [
  'MLflow model unavailable at start-up; serving the packaged bundle',
  'model source check failed; the current model keeps serving (repeats of this failure are logged at debug, and a line says when the source answers again)',
  'model source answers again',
  'model reload rejected; the current model keeps serving',
  'model reload cancelled after its deadline; the current model keeps serving',
  "the serving model's record in the model source is going away; it keeps serving",
  "the serving model's record in the model source is kept again",
] as const;

/**
 * What operators and auditors ask the logs, on the lines the gateway writes (src/logger.ts
 * accessLog: reqId, method, route, operation, status, latencyMs, modelVersion, modelRunId, rows, client,
 * userAgent, msg "request"; every other line about a request carries its reqId and client; src/start.ts "cannot start"; src/server.ts "ready"; src/model/model-admin.ts "model
 * swapped", MLFLOW_TROUBLE_MESSAGES) and on the ECS events. test/saved-queries.test.ts runs the real gateway and checks
 * every field and message each query names against the lines it writes.
 */
export const SAVED_QUERIES: readonly SavedQuery[] = [
  {
    name: 'one request by x-request-id',
    logGroup: 'gateway',
    query: {
      // Who sent it: `client` (the address the ALB appended to X-Forwarded-For) and `userAgent`.
      fields: ['@timestamp', '@logStream', 'level', 'msg', 'method', 'route', 'operation', 'status', 'latencyMs', 'rows', 'modelVersion', 'modelRunId', 'client', 'userAgent', 'code', 'err', 'err.message'],
      filterStatements: [`reqId = ${JSON.stringify(REQUEST_ID_PLACEHOLDER)}`],
      sort: '@timestamp asc',
    },
  },
  {
    name: 'why a task did not start',
    logGroup: 'gateway',
    query: {
      fields: ['@timestamp', '@logStream', 'msg', 'err', 'revision', 'problems.0.variable', 'problems.0.problem', 'problems.0.sent', 'problems.1.variable', 'problems.1.problem'],
      filterStatements: [`msg in ${quoted(['cannot start', 'uncaught exception; exiting'])}`],
      sort: '@timestamp desc',
      limit: 50,
    },
  },
  {
    name: 'stopped tasks and why (ECS events)',
    logGroup: 'ecsEvents',
    query: {
      fields: ['@timestamp', 'detail.taskArn', 'detail.taskDefinitionArn', 'detail.stopCode', 'detail.stoppedReason', 'detail.containers.0.exitCode', 'detail.containers.0.reason'],
      filterStatements: ['`detail-type` = "ECS Task State Change" and detail.lastStatus = "STOPPED"'],
      sort: '@timestamp desc',
      limit: 50,
    },
  },
  {
    name: 'deployments and rollbacks (ECS events)',
    logGroup: 'ecsEvents',
    query: {
      fields: ['@timestamp', '`detail-type`', 'detail.eventType', 'detail.eventName', 'detail.deploymentId', 'detail.reason'],
      filterStatements: [`\`detail-type\` in ${quoted(['ECS Deployment State Change', 'ECS Service Action'])}`],
      sort: '@timestamp desc',
      limit: 100,
    },
  },
  {
    name: 'models served: start-ups and swaps',
    logGroup: 'gateway',
    query: {
      fields: [
        '@timestamp', '@logStream', 'msg', 'version', 'runId', 'onnxSha256', 'explainerSha256', 'source', 'revision',
        'from', 'to', 'fromRunId', 'toRunId', 'fromOnnxSha256', 'toOnnxSha256', 'fromExplainerSha256', 'toExplainerSha256', 'fromSource', 'toSource', 'reason', 'notice',
        // Who asked for a swap: the reloadModel request (a poll's has neither).
        'reqId', 'client',
      ],
      filterStatements: [`msg in ${quoted(['ready', 'model swapped'])}`],
      sort: '@timestamp desc',
      limit: 100,
    },
  },
  {
    name: MLFLOW_TROUBLE_QUERY,
    logGroup: 'gateway',
    query: {
      fields: ['@timestamp', '@logStream', 'level', 'msg', 'source', 'candidate', 'reason', 'reqId', 'client', 'err', 'kind', 'modelDir', 'failedChecks', 'failingSince', 'modelVersion', 'runId', 'notice', 'clearedNotice'],
      filterStatements: [`msg in ${quoted(MLFLOW_TROUBLE_MESSAGES)}`],
      sort: '@timestamp desc',
      limit: 100,
    },
  },
  {
    name: '5xx answers by route and status',
    logGroup: 'gateway',
    query: {
      filterStatements: ['msg = "request" and status >= 500'],
      // How many callers got them, and the latest: one caller's oversized batches refused 503 show as clients 1.
      statsStatements: ['count(*) as answers, count_distinct(client) as clients, latest(client) as lastClient by route, operation, status'],
      sort: 'answers desc',
    },
  },
  {
    name: 'failed requests by reason',
    logGroup: 'gateway',
    query: {
      filterStatements: [`msg in ${quoted(FAILURE_MESSAGES)}`],
      // A request refused before routing behind the ALB names no client (its headers were not read): only the ALB node, `proxy`.
      statsStatements: ['count(*) as requests, count_distinct(client) as clients, latest(client) as lastClient, latest(reqId) as lastRequestId by msg, code, requestComplete'],
      sort: 'requests desc',
    },
  },
  {
    name: 'slowest single predictions',
    logGroup: 'gateway',
    query: {
      fields: ['@timestamp', '@logStream', 'reqId', 'route', 'operation', 'status', 'rows', 'latencyMs', 'modelVersion', 'modelRunId'],
      filterStatements: [SINGLE_PREDICTION_FILTER],
      sort: 'latencyMs desc',
      limit: 50,
    },
  },
  {
    name: 'single-prediction latency by task',
    logGroup: 'gateway',
    query: {
      filterStatements: [SINGLE_PREDICTION_FILTER],
      statsStatements: ['count(*) as predictions, pct(latencyMs, 50) as p50, pct(latencyMs, 99) as p99, max(latencyMs) as slowest by @logStream'],
      sort: 'p99 desc',
    },
  },
];

export interface GatewayQueriesProps {
  readonly gatewayLogGroup: logs.ILogGroup;
  readonly ecsEventsLogGroup: logs.ILogGroup;
}

/** SAVED_QUERIES as Logs Insights query definitions, each on its log group, named `<stack>/<name>`. */
export class GatewayQueries extends Construct {
  /** The query definitions by SavedQuery name. */
  public readonly definitions: ReadonlyMap<string, logs.QueryDefinition>;
  /** The names they are saved under. */
  public readonly names: readonly string[];

  constructor(scope: Construct, id: string, props: GatewayQueriesProps) {
    super(scope, id);
    const prefix = Stack.of(this).stackName;
    const groups: Record<QueryLogGroup, logs.ILogGroup> = { gateway: props.gatewayLogGroup, ecsEvents: props.ecsEventsLogGroup };
    const definitions = new Map<string, logs.QueryDefinition>();
    for (const q of SAVED_QUERIES) {
      // The construct id from the name (stable when the list is reordered): "5xx answers by route" → Q5xxAnswersByRoute.
      const constructId = `Q${q.name.split(/[^A-Za-z0-9]+/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')}`;
      definitions.set(
        q.name,
        new logs.QueryDefinition(this, constructId, {
          queryDefinitionName: `${prefix}/${q.name}`,
          queryString: new logs.QueryString(q.query),
          logGroups: [groups[q.logGroup]],
        }),
      );
    }
    this.definitions = definitions;
    this.names = SAVED_QUERIES.map((q) => `${prefix}/${q.name}`);
  }
}
