/**
 * A cap on JSON nesting for every surface that reads JSON from a client. `JSON.parse` itself copes
 * with deep input, but everything after it that walks the value (schema validation, `JSON.stringify`,
 * audit serialisation, a tool's own code) recurses, and 10,000 levels overflow the stack there. So
 * depth is measured first, by an iterative scan of the raw text, and deep input never gets parsed.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Thrown for JSON nested deeper than the limit. A plain error, not a wire error: each surface maps it
 * to its own shape (AgentCore/Cognito `ValidationException`/`InvalidParameterException`, MCP -32600).
 */
export class JsonTooDeepError extends Error {
  readonly code = 'JsonTooDeep';
  readonly limit: number;
  constructor(limit: number) {
    super(`JSON nesting exceeds ${limit} levels; send a flatter document`);
    this.name = 'JsonTooDeepError';
    this.limit = limit;
  }
}

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Throws `JsonTooDeepError` when objects/arrays nest deeper than `maxDepth`; otherwise does nothing
 * (syntax is left to `JSON.parse`). Works on bytes as well as text: in UTF-8 every byte of a multi-byte
 * character is ≥ 0x80, so it never looks like a bracket, quote or backslash.
 */
export function checkJsonDepth(input: string | Uint8Array, maxDepth: number = MAX_JSON_DEPTH): void {
  const text = typeof input === 'string';
  const length = input.length;
  let depth = 0;
  let inString = false;
  for (let index = 0; index < length; index++) {
    const code = text ? input.charCodeAt(index) : input[index]!;
    if (inString) {
      if (code === BACKSLASH) index++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
      if (++depth > maxDepth) throw new JsonTooDeepError(maxDepth);
    } else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) {
      depth--;
    }
  }
}

/** `JSON.parse` after the depth check: `JsonTooDeepError` for deep input, `SyntaxError` for malformed. */
export function parseJson(input: string | Uint8Array, maxDepth: number = MAX_JSON_DEPTH): unknown {
  checkJsonDepth(input, maxDepth);
  return JSON.parse(typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8')) as unknown;
}
