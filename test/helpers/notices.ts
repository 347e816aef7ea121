/**
 * Reading what a gateway says about its serving model (modelInfo's notice, GET /'s), as each kind
 * of caller does: an operator gets the detail (modelInfo.noticeDetail with the admin token, GET /
 * on OPS_PORT), anyone else the summary. Every read checks the summary against the detail given in
 * the same answer: both or neither, and no URL, address or MLflow answer in the summary.
 */
import { ModelNoticeDocument } from '../../src/generated/graphql.js';
import type { Gateway } from '../../src/server.js';
import { gql } from './gateway.js';

interface Health {
  version?: string;
  notice?: string;
  noticeDetail?: string;
}

/** What a summary never holds: a URL, an IP address, an errno (MLflow's answers and the tracking server are the detail's). */
const NOT_IN_SUMMARY = /https?:\/\/|\b\d{1,3}(?:\.\d{1,3}){3}\b|\bE[A-Z]{4,}\b|\bmlflow (?:runs|experiments) restore\b/;

function checkPair(where: string, summary: string | null, detail: string | null): void {
  if ((summary === null) !== (detail === null)) throw new Error(`${where}: a summary without its detail, or a detail without its summary: ${JSON.stringify({ summary, detail })}`);
  if (summary === null) return;
  if (NOT_IN_SUMMARY.test(summary)) throw new Error(`${where}: the summary, which anyone reads, names what only operators may read: ${summary}`);
  if (summary === detail) throw new Error(`${where}: the detail says nothing more than the summary: ${summary}`);
}

/**
 * The notice as an operator reads it: modelInfo.noticeDetail with `adminToken`, and GET / on
 * OPS_PORT (`gw` started with OPS_PORT 0). `notice`/`health.notice` are the details, the summaries beside them.
 */
export async function operatorNotice(gw: Pick<Gateway, 'url' | 'opsUrl'>, adminToken: string) {
  const res = await gql(gw.url, ModelNoticeDocument, {}, { authorization: `Bearer ${adminToken}` });
  const info = res.body.data?.modelInfo;
  if (!info || res.body.errors) throw new Error(`modelInfo with the admin token: ${JSON.stringify(res.body)}`);
  if (gw.opsUrl === null) throw new Error('the gateway has no operations port: start it with OPS_PORT 0');
  const ops = (await (await fetch(`${gw.opsUrl}/`)).json()) as Health;
  checkPair('modelInfo', info.notice ?? null, info.noticeDetail ?? null);
  checkPair('GET / on OPS_PORT', ops.notice ?? null, ops.noticeDetail ?? null);
  return {
    version: info.version,
    source: info.source,
    notice: info.noticeDetail ?? null,
    summary: info.notice ?? null,
    health: { version: ops.version, notice: ops.noticeDetail ?? null, summary: ops.notice ?? null },
  };
}

/**
 * The notice as anyone reads it: modelInfo without a token (its noticeDetail refused FORBIDDEN,
 * the rest answered, HTTP 200) and GET / on PORT (no noticeDetail).
 */
export async function publicNotice(url: string) {
  const res = await gql(url, ModelNoticeDocument);
  const refused = res.body.errors?.map((e) => ({ code: e.extensions?.['code'], path: e.path?.join('.') }));
  if (res.status !== 200 || JSON.stringify(refused) !== JSON.stringify([{ code: 'FORBIDDEN', path: 'modelInfo.noticeDetail' }]) || res.body.data?.modelInfo.noticeDetail !== null) {
    throw new Error(`modelInfo without a token: noticeDetail is not refused alone: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const health = (await (await fetch(`${url}/`)).json()) as Health;
  if ('noticeDetail' in health) throw new Error(`GET / on PORT gives the notice's detail: ${JSON.stringify(health)}`);
  for (const summary of [res.body.data.modelInfo.notice ?? null, health.notice ?? null]) {
    if (summary !== null && NOT_IN_SUMMARY.test(summary)) throw new Error(`a summary names what only operators may read: ${summary}`);
  }
  return { version: res.body.data.modelInfo.version, notice: res.body.data.modelInfo.notice ?? null, health: { version: health.version, notice: health.notice ?? null } };
}
