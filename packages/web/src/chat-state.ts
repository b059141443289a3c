import type { ChatError } from './chat-error.ts';
import type { StreamEvent } from './stream-event.ts';

export interface ToolActivity {
  readonly id: string;
  readonly name: string;
  readonly arguments: Record<string, unknown>;
  readonly status: 'running' | 'ok' | 'refused' | 'unfinished';
  readonly summary?: string;
  readonly result?: unknown;
}

export interface ErrorNote {
  readonly code: string;
  readonly title: string;
  readonly message: string;
  readonly fix?: string;
  readonly action: 'sign-in' | 'retry' | 'none';
  readonly errorType?: string;
}

export type Part =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'tool'; readonly tool: ToolActivity }
  | { readonly kind: 'error'; readonly error: ErrorNote };

export interface Entry {
  readonly id: string;
  readonly role: 'user' | 'assistant';
  readonly parts: readonly Part[];
  /** For assistant entries: the prompt it answers, so a failed turn can be retried. */
  readonly prompt?: string;
  readonly done: boolean;
}

export type ChatAction =
  | { readonly type: 'ask'; readonly prompt: string }
  | { readonly type: 'event'; readonly event: StreamEvent }
  | { readonly type: 'fail'; readonly error: ChatError }
  | { readonly type: 'finish' }
  | { readonly type: 'load'; readonly entries: readonly Entry[] };

let counter = 0;
const nextId = (): string => `${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** The transcript as a pure reducer, so every stream event has exactly one effect. */
export function chatReducer(entries: readonly Entry[], action: ChatAction): readonly Entry[] {
  switch (action.type) {
    case 'load':
      // A transcript saved mid-stream (reload) comes back finished, without tools left spinning.
      return action.entries.map((entry) => (entry.done ? entry : { ...entry, parts: settleTools(entry.parts), done: true }));
    case 'ask':
      return [
        ...entries,
        { id: nextId(), role: 'user', parts: [{ kind: 'text', text: action.prompt }], done: true },
        { id: nextId(), role: 'assistant', parts: [], prompt: action.prompt, done: false },
      ];
    case 'event':
      return updateLast(entries, (parts) => applyEvent(parts, action.event));
    case 'fail':
      return updateLast(entries, (parts) => [...settleTools(parts), { kind: 'error', error: toNote(action.error) }], true);
    case 'finish':
      return updateLast(entries, settleTools, true);
  }
}

/** A turn that ends leaves no tool spinning: one without a result is marked unfinished. */
function settleTools(parts: readonly Part[]): readonly Part[] {
  return parts.map((part) => (part.kind === 'tool' && part.tool.status === 'running' ? { kind: 'tool', tool: { ...part.tool, status: 'unfinished' } } : part));
}

function updateLast(entries: readonly Entry[], change: (parts: readonly Part[]) => readonly Part[], done = false): readonly Entry[] {
  const last = entries.at(-1);
  if (!last || last.role !== 'assistant') return entries;
  return [...entries.slice(0, -1), { ...last, parts: change(last.parts), done: done || last.done }];
}

function applyEvent(parts: readonly Part[], event: StreamEvent): readonly Part[] {
  const last = parts.at(-1);
  switch (event.type) {
    case 'text-delta':
      if (last?.kind === 'text') return [...parts.slice(0, -1), { kind: 'text', text: last.text + event.delta }];
      return [...parts, { kind: 'text', text: event.delta }];
    case 'tool-call':
      return [...parts, { kind: 'tool', tool: { id: event.id, name: event.name, arguments: event.arguments, status: 'running' } }];
    case 'tool-result': {
      const index = parts.findIndex((part) => part.kind === 'tool' && part.tool.id === event.id);
      const base: ToolActivity =
        index >= 0 && parts[index]?.kind === 'tool' ? parts[index].tool : { id: event.id, name: event.name, arguments: {}, status: 'running' };
      const tool: ToolActivity = {
        ...base,
        name: base.name || event.name,
        status: event.ok ? 'ok' : 'refused',
        summary: event.summary,
        ...('result' in event ? { result: event.result } : {}),
      };
      if (index < 0) return [...parts, { kind: 'tool', tool }];
      return parts.map((part, i) => (i === index ? { kind: 'tool', tool } : part));
    }
    case 'message': {
      // The final answer repeats what the deltas streamed; only add what was not already shown.
      const streamed = parts.filter((part) => part.kind === 'text').map((part) => part.text).join('');
      if (streamed.trim() === event.text.trim()) return parts;
      if (last?.kind === 'text' && event.text.startsWith(last.text)) return [...parts.slice(0, -1), { kind: 'text', text: event.text }];
      if (streamed.trim() !== '' && event.text.trim().endsWith(streamed.trim())) return parts;
      return [...parts, { kind: 'text', text: event.text }];
    }
    case 'error':
      return [
        ...settleTools(parts),
        {
          kind: 'error',
          error: {
            code: event.code,
            title: 'The agent reported a problem',
            message: event.message,
            ...(event.fix === undefined ? {} : { fix: event.fix }),
            action: 'retry',
            errorType: event.code,
          },
        },
      ];
  }
}

function toNote(error: ChatError): ErrorNote {
  return {
    code: error.code,
    title: error.title,
    message: error.message,
    action: error.action,
    ...(error.fix === undefined ? {} : { fix: error.fix }),
    ...(error.errorType === undefined ? {} : { errorType: error.errorType }),
  };
}

/** Splits `target___tool` (the gateway's naming) for display. */
export function splitToolName(name: string): { target: string | undefined; tool: string } {
  const at = name.indexOf('___');
  return at < 0 ? { target: undefined, tool: name } : { target: name.slice(0, at), tool: name.slice(at + 3) };
}

/** The account a tool call acts in, from its arguments (`account`, `accountName`, `accountId`). */
export function toolAccount(args: Record<string, unknown>): string | undefined {
  for (const key of ['account', 'accountName', 'account_name', 'accountId', 'account_id']) {
    const value = args[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/**
 * A one-line summary for a tool card. Agents sometimes pass raw JSON as the summary; then the first
 * list in the result is described instead ("3 items: a, b, c…"), and the JSON stays under Details.
 */
export function displaySummary(summary: string | undefined, result: unknown): string | undefined {
  const text = summary?.trim();
  if (text && !/^[[{]/.test(text)) return text;
  const source = result ?? (text ? safeParse(text) : undefined);
  const list = firstList(source, 0);
  if (!list) return text ? 'Returned data (see Details).' : undefined;
  const names = list.slice(0, 5).map(itemName).filter((name): name is string => name !== undefined);
  const count = `${list.length} item${list.length === 1 ? '' : 's'}`;
  if (names.length === 0) return count;
  return `${count}: ${names.join(', ')}${list.length > names.length ? ', …' : ''}`;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function firstList(value: unknown, depth: number): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (typeof value !== 'object' || value === null || depth > 3) return undefined;
  for (const child of Object.values(value)) {
    const found = firstList(child, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function itemName(item: unknown): string | undefined {
  if (typeof item === 'string') return item;
  if (typeof item !== 'object' || item === null) return undefined;
  const record = item as Record<string, unknown>;
  const name = ['name', 'Name', 'key', 'Key', 'id', 'Id'].map((field) => record[field]).find((value) => typeof value === 'string');
  return typeof name === 'string' ? name : undefined;
}
