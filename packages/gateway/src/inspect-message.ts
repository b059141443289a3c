import { CallToolRequestSchema, type CallToolRequest } from '@modelcontextprotocol/sdk/types.js';
import { MAX_JSON_DEPTH } from './limit-json-depth.ts';

/** Why the gateway refused a JSON-RPC message before any handler saw it. */
export type MessageRefusalCode = 'JsonTooDeep' | 'ReservedKey' | 'InvalidToolCall';

/** JSON-RPC error code per refusal; a new code that is not mapped does not compile. */
const rpcCodeByRefusal: Record<MessageRefusalCode, number> = {
  JsonTooDeep: -32600, // Invalid Request: the message as a whole is refused
  ReservedKey: -32602, // Invalid params
  InvalidToolCall: -32602,
};

/** Keys that name JavaScript's prototype machinery: accepted nowhere in a message, so none can reach a merge or a lookup. */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export class MessageRefusal extends Error {
  readonly code: MessageRefusalCode;
  readonly rpcCode: number;

  constructor(code: MessageRefusalCode, message: string) {
    super(message);
    this.name = 'MessageRefusal';
    this.code = code;
    this.rpcCode = rpcCodeByRefusal[code];
  }
}

/** The `id` of a JSON-RPC request, when the body is one request with a usable id. */
export function requestIdOf(body: unknown): string | number | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const id = (body as { id?: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

/** For a tools/call (alone or in a batch): the tool name as sent ('' when it is not a string), else undefined. */
export function toolCallOf(body: unknown): string | undefined {
  for (const message of Array.isArray(body) ? (body as unknown[]) : [body]) {
    if (typeof message !== 'object' || message === null || (message as { method?: unknown }).method !== 'tools/call') continue;
    const params = (message as { params?: unknown }).params;
    const name = typeof params === 'object' && params !== null ? (params as { name?: unknown }).name : undefined;
    return typeof name === 'string' ? name.slice(0, 256) : '';
  }
  return undefined;
}

/** Shortens what a client sent before it is echoed in a message. */
function shown(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/**
 * The first own key named `__proto__`, `constructor` or `prototype` anywhere in a parsed value, with
 * its path (`params.arguments.a[0].__proto__`). Walks with its own stack, never recursion; JSON.parse
 * made such keys own data properties, so finding them here means they were never applied as prototypes.
 */
function findReservedKey(root: unknown): string | undefined {
  interface Node {
    readonly value: object;
    readonly parent: Node | undefined;
    readonly step: string;
  }
  const pathOf = (node: Node | undefined, last: string): string => {
    const steps = [last];
    for (let at = node; at; at = at.parent) if (at.step) steps.push(at.step);
    return steps.reverse().join('').replace(/^\./, '');
  };
  if (typeof root !== 'object' || root === null) return undefined;
  const stack: Node[] = [{ value: root, parent: undefined, step: '' }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (Array.isArray(node.value)) {
      node.value.forEach((item: unknown, index) => {
        if (typeof item === 'object' && item !== null) stack.push({ value: item, parent: node, step: `[${index}]` });
      });
      continue;
    }
    for (const key of Object.keys(node.value)) {
      if (RESERVED_KEYS.has(key)) return pathOf(node, `.${key}`);
      const item = (node.value as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) stack.push({ value: item, parent: node, step: `.${key}` });
    }
  }
  return undefined;
}

/** A message the checks passed (with its tools/call when the body is one, parsed once here), or why it was refused. */
export type MessageInspection = { readonly refusal: MessageRefusal } | { readonly refusal: undefined; readonly toolCall: CallToolRequest | undefined };

/**
 * The gateway's checks on a parsed message, before any handler (its own or the SDK's) sees it:
 * nesting within MAX_JSON_DEPTH (measured on the text, `exceededDepth`), no prototype keys, and for
 * tools/call params of the shape the SDK's schema accepts. A refusal has a short message that names
 * the limit or the key and the fix — never a schema or zod's issue list.
 */
export function inspectMessage(body: unknown, exceededDepth: boolean): MessageInspection {
  if (exceededDepth) return { refusal: new MessageRefusal('JsonTooDeep', `JSON nested deeper than ${MAX_JSON_DEPTH} levels is refused; send flatter tool arguments (the JSON-RPC message counts as level 1)`) };
  const reserved = findReservedKey(body);
  if (reserved !== undefined) {
    const key = reserved.slice(reserved.lastIndexOf('.') + 1);
    return { refusal: new MessageRefusal('ReservedKey', `The key "${key}" (at ${shown(reserved)}) is not accepted in a message; rename it`) };
  }
  let toolCall: CallToolRequest | undefined;
  for (const message of Array.isArray(body) ? (body as unknown[]) : [body]) {
    if (typeof message !== 'object' || message === null || (message as { method?: unknown }).method !== 'tools/call') continue;
    const parsed = CallToolRequestSchema.safeParse(message);
    if (parsed.success) {
      if (message === body) toolCall = parsed.data;
      continue;
    }
    // the path of the first problem only; zod's own messages and issue list stay inside the gateway
    const path = parsed.error.issues[0]?.path.map((step) => (typeof step === 'number' ? `[${step}]` : `.${String(step)}`)).join('').replace(/^\./, '') ?? 'params';
    return { refusal: new MessageRefusal('InvalidToolCall', `Invalid tools/call params at ${shown(path || 'params')}: send {"name": "<a tool from tools/list>", "arguments": {<an object>}}`) };
  }
  return { refusal: undefined, toolCall };
}
