import type { IncomingMessage } from 'node:http';
import { BodyTooLargeError, ClientClosedError } from '@gatehouse/core';

/**
 * The request body, refused past `limit` bytes without buffering the rest (the rest is drained, so the
 * connection stays usable for the error answer). Event-based rather than
 * `for await`: this runs once per invocation, and the async-iterator machinery showed in profiles.
 */
export function readPayload(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    request.resume();
    return Promise.reject(new BodyTooLargeError(limit));
  }
  // Closed while the request was authenticated, before this step: its 'close' has been and gone, so waiting for it would never end.
  if (request.destroyed) return Promise.reject(new ClientClosedError());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        settled = true;
        request.off('data', onData);
        request.resume();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    request.once('close', () => {
      if (settled) return;
      settled = true;
      reject(new ClientClosedError());
    });
    request.once('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
  });
}
