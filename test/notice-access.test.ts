/**
 * modelInfo.noticeDetail is for operators: without the admin token it is refused alone, FORBIDDEN
 * with the reason (as reloadModel's), and the rest of modelInfo is answered with HTTP 200, so a
 * frontend or auditor that asks for it learns why instead of losing the answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelNoticeDocument } from '../src/generated/graphql.js';
import { gql, startTestGateway, type TestGateway } from './helpers/index.js';

const ADMIN_TOKEN = 'notice-admin-token-0123456789';
let gw: TestGateway;
let off: TestGateway;

beforeAll(async () => {
  [gw, off] = await Promise.all([startTestGateway({ ADMIN_TOKEN }), startTestGateway({})]);
});

afterAll(async () => {
  await Promise.all([gw?.close(), off?.close()]);
});

describe('modelInfo.noticeDetail', () => {
  const ask = (target: TestGateway, authorization?: string) => gql(target.url, ModelNoticeDocument, {}, authorization === undefined ? {} : { authorization });

  it('is answered to the admin token: null when nothing is to be said, as notice is', async () => {
    const res = await ask(gw, `Bearer ${ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { modelInfo: { modelVersion: expect.any(String), version: expect.any(String), source: 'BUNDLE', notice: null, noticeDetail: null } } });
  });

  it.each([
    ['no token', () => gw, undefined, 'modelInfo.noticeDetail needs the admin token: send Authorization: Bearer <ADMIN_TOKEN>'],
    ['a header that is not Bearer <token>', () => gw, `Basic ${ADMIN_TOKEN}`, 'modelInfo.noticeDetail needs the admin token as Authorization: Bearer <ADMIN_TOKEN>; the Authorization header sent is not "Bearer" followed by a token'],
    ['a token that is not the admin token', () => gw, 'Bearer not-the-admin-token-0123', "the bearer token sent is not the admin token: send this gateway's ADMIN_TOKEN as Authorization: Bearer <ADMIN_TOKEN>"],
    ['a gateway without ADMIN_TOKEN', () => off, `Bearer ${ADMIN_TOKEN}`, 'modelInfo.noticeDetail is off on this gateway: it has no admin token (its operator enables modelInfo.noticeDetail by setting ADMIN_TOKEN)'],
  ])('is refused alone with %s: FORBIDDEN saying why, the rest answered, HTTP 200', async (_case, target, authorization, message) => {
    const res = await ask(target(), authorization);
    expect(res.status).toBe(200);
    expect(res.body.data?.modelInfo).toMatchObject({ source: 'BUNDLE', notice: null, noticeDetail: null });
    expect(res.body.errors).toEqual([expect.objectContaining({ message, path: ['modelInfo', 'noticeDetail'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
  });

  it('is not in GET / on PORT, which the load balancer exposes', async () => {
    const health = (await (await fetch(`${gw.url}/`)).json()) as Record<string, unknown>;
    expect(health['status']).toBe('ok');
    expect(Object.keys(health)).not.toContain('noticeDetail');
  });
});
