import type { IncomingMessage } from 'node:http';
import { JsonTooDeepError, checkJsonDepth } from '@gatehouse/core';
import { RuntimeError } from './runtime-error.ts';
import type { RuntimeEntry } from './runtime-registry.ts';

/**
 * The payload is the agent's business, passed through as bytes; but a JSON payload nested thousands
 * deep crashes whatever walks it in the agent (validation, logging, `JSON.stringify`). So a payload sent
 * as JSON (`application/json` or `…+json`) is refused past `limits.maxJsonDepth` before any agent
 * sees it. Other content types are opaque blobs and are not inspected.
 */
export function checkPayloadDepth(runtime: RuntimeEntry, request: IncomingMessage, payload: Buffer): void {
  const limit = runtime.config.limits.maxJsonDepth;
  // Nesting deeper than `limit` takes more than `limit` bytes: a shorter payload needs no look.
  if (payload.length <= limit) return;
  const header = request.headers['content-type'];
  if (header !== 'application/json') {
    const type = (header ?? '').split(';', 1)[0]!.trim().toLowerCase();
    if (type !== 'application/json' && !type.endsWith('+json')) return;
  }
  try {
    checkJsonDepth(payload, limit);
  } catch (error) {
    if (!(error instanceof JsonTooDeepError)) throw error;
    const message = `The JSON payload nests deeper than ${limit} levels (limits.maxJsonDepth of runtime ${runtime.name}); send a flatter document.`;
    throw new RuntimeError('ValidationException', message, { reason: 'FieldValidationFailed', fieldList: [{ name: 'payload', message: `must nest at most ${limit} levels` }] });
  }
}

/**
 * The same cap for WebSocket text frames, which carry JSON by the AgentCore contract: a frame whose
 * first non-blank character opens an object or array is checked; other text is passed through.
 */
export function jsonFrameTooDeep(frame: Buffer, limit: number): boolean {
  let index = 0;
  while (index < frame.length && (frame[index] === 0x20 || frame[index] === 0x09 || frame[index] === 0x0a || frame[index] === 0x0d)) index++;
  if (frame[index] !== 0x7b && frame[index] !== 0x5b) return false;
  try {
    checkJsonDepth(frame, limit);
    return false;
  } catch (error) {
    if (error instanceof JsonTooDeepError) return true;
    throw error;
  }
}
