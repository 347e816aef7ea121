/**
 * `Expect: 100-continue` (curl sends it for bodies over 1 MB): the caller holds its body back
 * until told `100 Continue`. The gateway says so only for a request it will read; one it refuses
 * anyway is answered its final status at once, and the body is never sent. Raw sockets, so what
 * was sent, and when, is seen as the caller sees it.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyLimitAdvice } from '../src/http.js';
import { DEFAULT_SETTINGS } from '../src/rest/openapi.js';
import { NotReadyError } from '../src/errors.js';
import { LEGACY_PAYLOAD, startTestGateway, type TestGateway } from './helpers/index.js';

const LIMIT = 1024;
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ BODY_LIMIT_BYTES: String(LIMIT), LOG_LEVEL: 'warn' });
});
afterAll(() => gw.close());

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const PREDICT_BODY = JSON.stringify(LEGACY_PAYLOAD);
const GRAPHQL_BODY = JSON.stringify({ query: '{ modelInfo { name } }' });

/**
 * How long a caller that sent only its headers waits for an answer before the test calls it none.
 * Every wait here ends as soon as the answer expected is complete, so this is only a deadline: the
 * gateway in this process answers in milliseconds, but a loaded machine can hold a first answer
 * (its first prediction, its first GraphQL document) for a good part of the 1.5 s this was. (A
 * gateway that never answers fails a test of four cases in 40 s, inside the 60 s test timeout.)
 */
const WAIT_MS = 10_000;

interface Exchange {
  /** Everything received before the body was sent (or before giving up, when it was not). */
  readonly beforeBody: string;
  /** Everything received after the body was sent ('' when it was not). */
  readonly afterBody: string;
}

/** Bytes received on `socket` until `done` holds for them, the socket closes, or WAIT_MS passes. */
function receive(socket: Socket, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const finish = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', finish);
      resolve(text);
    };
    const onData = (d: Buffer) => {
      text += d.toString('utf8');
      if (done(text)) finish();
    };
    const timer = setTimeout(finish, WAIT_MS);
    socket.on('data', onData);
    socket.once('close', finish);
  });
}

/** A whole answer: its head and, by its content-length, its body. */
const complete = (text: string): boolean => {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
  return text.length - end - 4 >= Number(length?.[1] ?? 0);
};

/**
 * Sends the head; sends `body` only once `100 Continue` has come (as curl does), and then reads the
 * final answer. The caller neither closes nor sends the body otherwise.
 */
async function exchange(head: string, body: string): Promise<Exchange> {
  const socket = connect(Number(new URL(gw.url).port), '127.0.0.1');
  socket.on('error', () => undefined);
  try {
    socket.write(head);
    const beforeBody = await receive(socket, (text) => text === CONTINUE || complete(text));
    if (beforeBody !== CONTINUE) return { beforeBody, afterBody: '' };
    socket.write(body);
    return { beforeBody, afterBody: await receive(socket, complete) };
  } finally {
    socket.destroy();
  }
}

const head = (requestLine: string, headers: Record<string, string | number>): string =>
  `${requestLine}\r\nHost: gateway\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

const json = { 'Content-Type': 'application/json', Expect: '100-continue' };

/** The status line, headers (lower case) and problem of an answer. */
function parse(text: string): { status: string; headers: string; body: Record<string, unknown> | null } {
  const end = text.indexOf('\r\n\r\n');
  const bodyText = text.slice(end + 4);
  return { status: text.slice(0, text.indexOf('\r\n')), headers: text.slice(0, end).toLowerCase(), body: bodyText ? (JSON.parse(bodyText) as Record<string, unknown>) : null };
}

describe('a request sent with Expect: 100-continue', () => {
  it('over BODY_LIMIT_BYTES by its content-length gets the 413 naming the limit at once, with no 100 Continue', async () => {
    for (const path of ['/predict', '/graphql']) {
      const { beforeBody, afterBody } = await exchange(head(`POST ${path} HTTP/1.1`, { ...json, 'Content-Length': 8_000_000 }), '');
      expect(beforeBody, path).not.toContain('100 Continue');
      const answer = parse(beforeBody);
      expect(answer.status, path).toBe('HTTP/1.1 413 Payload Too Large');
      expect(answer.headers).toContain('content-type: application/problem+json');
      expect(answer.headers).toContain('connection: close');
      expect(answer.body).toMatchObject({ status: 413, detail: `request body is 8000000 bytes; the limit is ${LIMIT} bytes (BODY_LIMIT_BYTES); ${bodyLimitAdvice(LIMIT, DEFAULT_SETTINGS.MAX_BATCH)}` });
      expect(afterBody).toBe('');
    }
  });

  it('that will be read gets 100 Continue, and its answer once the body is sent: POST /predict and POST /graphql', async () => {
    for (const [path, body, expected] of [
      ['/predict', PREDICT_BODY, '"prediction":'],
      ['/graphql', GRAPHQL_BODY, '{"data":{"modelInfo":{"name":"telco-churn"}}}'],
    ] as const) {
      const { beforeBody, afterBody } = await exchange(head(`POST ${path} HTTP/1.1`, { ...json, 'Content-Length': Buffer.byteLength(body) }), body);
      expect(beforeBody, path).toBe(CONTINUE);
      expect(parse(afterBody).status, path).toBe('HTTP/1.1 200 OK');
      expect(afterBody).toContain(expected);
      // Read in full: the connection is kept for the next request.
      expect(parse(afterBody).headers).not.toContain('connection: close');
    }
  });

  it('with a content-type, charset or encoding not read gets the 415 naming it at once, with no 100 Continue', async () => {
    const cases: [string, Record<string, string>, string][] = [
      ['/predict', { 'Content-Type': 'text/plain' }, 'POST /predict takes content-type: application/json; got text/plain'],
      ['/graphql', { 'Content-Type': 'application/json; charset=iso-8859-1' }, 'POST /graphql takes JSON in UTF-8; got charset=iso-8859-1'],
      ['/predict', { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, 'POST /predict takes an uncompressed body; got content-encoding: gzip'],
      ['/graphql', {}, 'POST /graphql takes content-type: application/json; got none'],
    ];
    for (const [path, headers, detail] of cases) {
      const { beforeBody, afterBody } = await exchange(head(`POST ${path} HTTP/1.1`, { ...headers, Expect: '100-continue', 'Content-Length': 100 }), '');
      expect(beforeBody, detail).not.toContain('100 Continue');
      expect(parse(beforeBody).status, detail).toBe('HTTP/1.1 415 Unsupported Media Type');
      expect(parse(beforeBody).body).toMatchObject({ status: 415, detail });
      expect(parse(beforeBody).headers.includes('\r\naccept-encoding: identity\r\n'), detail).toBe('Content-Encoding' in headers);
      expect(afterBody).toBe('');
    }
  });

  it('to a method or path that takes no body gets its 405 (with Allow) or 404 at once, with no 100 Continue', async () => {
    const cases: [string, string, string][] = [
      ['PUT /predict HTTP/1.1', 'HTTP/1.1 405 Method Not Allowed', 'allow: post'],
      ['POST / HTTP/1.1', 'HTTP/1.1 405 Method Not Allowed', 'allow: get, head'],
      ['PUT /graphql HTTP/1.1', 'HTTP/1.1 405 Method Not Allowed', ''],
      ['POST /predictions HTTP/1.1', 'HTTP/1.1 404 Not Found', ''],
    ];
    for (const [requestLine, status, header] of cases) {
      const { beforeBody, afterBody } = await exchange(head(requestLine, { ...json, 'Content-Length': 100 }), '');
      expect(beforeBody, requestLine).not.toContain('100 Continue');
      expect(parse(beforeBody).status, requestLine).toBe(status);
      expect(parse(beforeBody).headers).toContain(header);
      expect(afterBody).toBe('');
    }
  });

  it('while no model is loaded gets the 503 MODEL_NOT_READY with Retry-After at once, with no 100 Continue', async () => {
    // The gateway listens before its first model is loaded: every model lookup answers MODEL_NOT_READY.
    Object.defineProperty(gw.slot, 'current', {
      configurable: true,
      get: () => {
        throw new NotReadyError();
      },
    });
    try {
      for (const [path, body] of [['/predict', PREDICT_BODY], ['/graphql', GRAPHQL_BODY]] as const) {
        const { beforeBody } = await exchange(head(`POST ${path} HTTP/1.1`, { ...json, 'Content-Length': Buffer.byteLength(body) }), body);
        expect(beforeBody, path).not.toContain('100 Continue');
        expect(parse(beforeBody).status, path).toBe('HTTP/1.1 503 Service Unavailable');
        expect(parse(beforeBody).headers).toContain('retry-after: 1');
        expect(parse(beforeBody).body).toMatchObject({ detail: 'MODEL_NOT_READY: the gateway is still starting: its model is not loaded yet; repeat the request in a few seconds' });
      }
    } finally {
      Reflect.deleteProperty(gw.slot, 'current');
    }
  });

  it('with another expectation gets 417 as a problem with its request id, naming the Expect sent and the one served, and the connection closes', async () => {
    for (const path of ['/predict', '/graphql', '/nowhere']) {
      const { beforeBody } = await exchange(head(`POST ${path} HTTP/1.1`, { 'Content-Type': 'application/json', Expect: 'something-else', 'x-request-id': 'unmet-1', 'Content-Length': 100 }), '');
      const answer = parse(beforeBody);
      expect(answer.status, path).toBe('HTTP/1.1 417 Expectation Failed');
      // node answered it bare: no body, no x-request-id.
      expect(answer.headers).toContain('content-type: application/problem+json');
      expect(answer.headers).toContain('x-request-id: unmet-1');
      expect(answer.headers).toContain('cache-control: no-store');
      expect(answer.headers).toContain('connection: close');
      expect(answer.body).toMatchObject({ status: 417, requestId: 'unmet-1', detail: 'Expect: "something-else" cannot be met; the only expectation served is Expect: 100-continue (or send no Expect)' });
    }
  });
});

describe('a request sent without Expect', () => {
  it('gets no 100 Continue: one sent whole is answered as before, and one over the limit gets its 413', async () => {
    const socket = connect(Number(new URL(gw.url).port), '127.0.0.1');
    try {
      socket.write(`${head('POST /predict HTTP/1.1', { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(PREDICT_BODY) })}${PREDICT_BODY}`);
      const answer = await receive(socket, complete);
      expect(parse(answer).status).toBe('HTTP/1.1 200 OK');
      expect(answer).not.toContain('100 Continue');
    } finally {
      socket.destroy();
    }
    const { beforeBody } = await exchange(head('POST /predict HTTP/1.1', { 'Content-Type': 'application/json', 'Content-Length': 8_000_000 }), '');
    expect(parse(beforeBody).status).toBe('HTTP/1.1 413 Payload Too Large');
  });
});

describe('a request sent with Expect: 100-continue while draining', () => {
  it('gets 503 with Retry-After and connection: close at once, with no 100 Continue, so it is sent to another task', async () => {
    const draining = await startTestGateway({ LOG_LEVEL: 'warn' });
    try {
      draining.app.startDraining();
      const socket = connect(Number(new URL(draining.url).port), '127.0.0.1');
      try {
        socket.write(head('POST /predict HTTP/1.1', { ...json, 'Content-Length': Buffer.byteLength(PREDICT_BODY) }));
        const answer = await receive(socket, (text) => text === CONTINUE || complete(text));
        expect(answer).not.toContain('100 Continue');
        expect(parse(answer).status).toBe('HTTP/1.1 503 Service Unavailable');
        expect(parse(answer).headers).toContain('retry-after: 1');
        expect(parse(answer).headers).toContain('connection: close');
        expect(parse(answer).body).toMatchObject({ code: 'SHUTTING_DOWN', detail: 'SHUTTING_DOWN: the gateway is shutting down; send the request again (its body was not read)' });
      } finally {
        socket.destroy();
      }
    } finally {
      await draining.close();
    }
  });
});
