import type { ConversationMessage } from './model-provider.ts';

/**
 * Conversation memory per runtime session id, in the agent process (as on AgentCore, where a session's
 * microVM holds it). Bounded: the least recently used sessions are forgotten first, and turns of one
 * session run one after another so two invocations never interleave their history.
 */
export class SessionMemory {
  readonly #histories = new Map<string, readonly ConversationMessage[]>();
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #maxSessions: number;
  readonly #maxMessages: number;

  constructor(maxSessions = 200, maxMessages = 60) {
    this.#maxSessions = maxSessions;
    this.#maxMessages = maxMessages;
  }

  get(sessionId: string): readonly ConversationMessage[] {
    return this.#histories.get(sessionId) ?? [];
  }

  set(sessionId: string, history: readonly ConversationMessage[]): void {
    this.#histories.delete(sessionId);
    this.#histories.set(sessionId, trim(history, this.#maxMessages));
    while (this.#histories.size > this.#maxSessions) {
      const oldest = this.#histories.keys().next().value;
      if (oldest === undefined) break;
      this.#histories.delete(oldest);
    }
  }

  /** Runs `work` after every earlier turn of the same session has finished. */
  async serialize<T>(sessionId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(sessionId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.#queues.set(sessionId, settled);
    try {
      return await next;
    } finally {
      if (this.#queues.get(sessionId) === settled) this.#queues.delete(sessionId);
    }
  }
}

/** Drops whole turns from the front: a kept history always starts at a user's text, never at a tool result. */
function trim(history: readonly ConversationMessage[], max: number): readonly ConversationMessage[] {
  if (history.length <= max) return history;
  let start = history.length - max;
  while (start < history.length) {
    const message = history[start]!;
    if (message.role === 'user' && message.content.some((block) => block.type === 'text')) break;
    start += 1;
  }
  return history.slice(start);
}
