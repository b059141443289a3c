import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { BrowserContext, Page } from 'playwright-core';
import { listen } from '@gatehouse/core';
import type { Harness } from './runtime-harness.ts';

/** The seeds' browser code (fetch + SSE reader, WebSocket with the bearer subprotocol), shared by the Chromium tests. */

/** A second loopback server that only serves an empty page: the web app's origin. */
export async function pageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>chat</title><body></body>');
  });
  return { server, origin: `http://127.0.0.1:${await listen(server, 0)}` };
}

/** A new tab on the web app's origin: the seeds' code runs from there. */
export async function openTab(context: BrowserContext, origin: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(origin);
  return page;
}

/** The runtime's WebSocket URL for one session, as the seeds build it. */
export function webSocketUrl(harness: Harness, runtimeName: string, sessionId: string): string {
  return `${harness.baseUrl.replace('http', 'ws')}/runtimes/${runtimeName}/ws?X-Amzn-Bedrock-AgentCore-Runtime-Session-Id=${sessionId}`;
}

/** The echo agent's whole answer over SSE: 200, the session header exposed to the page, three deltas and the message. */
export function assertSseAnswer(result: SseResult, expected: { sessionId: string; userId: string }): Record<string, unknown> {
  assert.equal(result.ok, true, result.error);
  assert.equal(result.status, 200);
  assert.equal(result.sessionHeader, expected.sessionId, 'the session header is exposed to the page');
  assert.deepEqual(result.events!.map((event) => event.type), ['text-delta', 'text-delta', 'text-delta', 'message']);
  const message = result.events!.at(-1)!;
  assert.equal(message.userId, expected.userId);
  return message;
}

/** The echo agent's whole answer over the bearer subprotocol, ending in the message for this session. */
export function assertWebSocketAnswer(result: WebSocketResult, sessionId: string): Record<string, unknown> {
  assert.equal(result.opened, true);
  assert.equal(result.protocol, 'base64UrlBearerAuthorization');
  assert.deepEqual(result.frames.map((frame) => frame.type), ['text-delta', 'text-delta', 'text-delta', 'message']);
  const message = result.frames.at(-1)!;
  assert.equal(message.sessionId, sessionId);
  return message;
}

export interface SseResult {
  ok: boolean;
  status?: number;
  sessionHeader?: string | null;
  events?: Record<string, unknown>[];
  error?: string;
}

/** The seeds' browser code: fetch with Bearer + session header, then read the SSE body chunk by chunk. */
export function seedSse(page: Page, args: { url: string; token: string; sessionId: string }): Promise<SseResult> {
  return page.evaluate(async ({ url, token, sessionId }) => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'Content-Type': 'application/json',
          Accept: 'text/event-stream',
          'X-Amzn-Bedrock-AgentCore-Runtime-Session-Id': sessionId,
        },
        body: JSON.stringify({ prompt: 'hello from chromium' }),
      });
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      const events: Record<string, unknown>[] = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop() ?? '';
        for (const block of blocks) {
          const data = block.split('\n').find((line) => line.startsWith('data: '));
          if (data) events.push(JSON.parse(data.slice(6)) as Record<string, unknown>);
        }
      }
      return { ok: true, status: response.status, sessionHeader: response.headers.get('X-Amzn-Bedrock-AgentCore-Runtime-Session-Id'), events };
    } catch (error) {
      return { ok: false, error: String(error) };
    }
  }, args);
}

export interface WebSocketResult {
  opened: boolean;
  protocol?: string;
  frames: Record<string, unknown>[];
  closeCode?: number;
}

/** The seeds' WebSocket code: the token rides in Sec-WebSocket-Protocol, base64url without padding. */
export function seedWebSocket(page: Page, args: { url: string; token: string }): Promise<WebSocketResult> {
  return page.evaluate(({ url, token }) => {
    return new Promise((resolve) => {
      const base64url = btoa(token).replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, '');
      const ws = new WebSocket(url, [`base64UrlBearerAuthorization.${base64url}`, 'base64UrlBearerAuthorization']);
      const frames: Record<string, unknown>[] = [];
      let opened = false;
      ws.onopen = () => {
        opened = true;
        ws.send(JSON.stringify({ prompt: 'over the socket' }));
      };
      ws.onmessage = (event) => {
        const frame = JSON.parse(String(event.data)) as Record<string, unknown>;
        frames.push(frame);
        if (frame.type === 'message') {
          const protocol = ws.protocol;
          ws.close();
          resolve({ opened, protocol, frames });
        }
      };
      ws.onclose = (event) => resolve({ opened, frames, closeCode: event.code });
    });
  }, args);
}
