/** The deepest nesting accepted in one MCP message (the message itself is level 1): the same cap as every other JSON surface. */
export { MAX_JSON_DEPTH } from '@gatehouse/core';

export interface DepthLimitedJson {
  /** The text to parse: the original when it nests at most `limit` deep, else with every deeper container replaced by `null`. */
  readonly text: string;
  readonly exceeded: boolean;
}

/**
 * Measures how deep a JSON text nests before it is parsed, in one loop (no recursion, so no depth
 * can exhaust the stack). A text nested deeper than `limit` comes back with each container that
 * starts below the limit cut out as `null`: what is left still parses (cheaply: a 6 MB body of
 * `[[[[…` would cost JSON.parse seconds of CPU) and still carries the message's id, method and tool
 * name, so the refusal can answer the request and name the tool in the audit. Brackets inside
 * strings do not count; whether the text is valid JSON is JSON.parse's to judge afterwards.
 */
export function limitJsonDepth(text: string, limit: number): DepthLimitedJson {
  const kept: string[] = [];
  let depth = 0;
  let inString = false;
  let cutFrom = -1;
  let keptUntil = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c) index++; // backslash: the next character is escaped, whatever it is
      else if (char === 0x22) inString = false;
      continue;
    }
    if (char === 0x22) {
      inString = true;
    } else if (char === 0x7b || char === 0x5b) {
      depth++;
      if (depth === limit + 1 && cutFrom < 0) cutFrom = index;
    } else if (char === 0x7d || char === 0x5d) {
      if (depth === limit + 1 && cutFrom >= 0) {
        kept.push(text.slice(keptUntil, cutFrom), 'null');
        keptUntil = index + 1;
        cutFrom = -1;
      }
      depth--;
    }
  }
  if (kept.length === 0 && cutFrom < 0) return { text, exceeded: false };
  // an unclosed deep container stays cut: the rest is not JSON, and JSON.parse says so
  kept.push(cutFrom >= 0 ? text.slice(keptUntil, cutFrom) : text.slice(keptUntil));
  return { text: kept.join(''), exceeded: true };
}
