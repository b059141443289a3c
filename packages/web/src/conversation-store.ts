import { isSessionId, newSessionId } from './session-id.ts';

export type TransportMode = 'sse' | 'websocket';

/**
 * What survives a reload. The conversation id is per user (another user's id would be refused by the
 * runtime anyway) and sits in localStorage; the draft and transcript are per tab (sessionStorage).
 * No token is ever written here.
 */
export class ConversationStore {
  private readonly user: string;

  constructor(user: string) {
    this.user = user;
  }

  sessionId(): string {
    const stored = read(localStorage, this.key('session'));
    if (isSessionId(stored)) return stored;
    return this.newConversation();
  }

  newConversation(): string {
    const id = newSessionId();
    write(localStorage, this.key('session'), id);
    return id;
  }

  transcript<T>(sessionId: string): T | undefined {
    return parse<T>(read(sessionStorage, this.key(`transcript.${sessionId}`)));
  }

  saveTranscript(sessionId: string, value: unknown): void {
    write(sessionStorage, this.key(`transcript.${sessionId}`), JSON.stringify(value));
  }

  accounts<T>(): T | undefined {
    return parse<T>(read(sessionStorage, this.key('accounts')));
  }

  saveAccounts(value: unknown): void {
    write(sessionStorage, this.key('accounts'), JSON.stringify(value));
  }

  private key(name: string): string {
    return `gatehouse.${this.user}.${name}`;
  }
}

export function loadDraft(): string {
  return read(sessionStorage, 'gatehouse.draft') ?? '';
}

export function saveDraft(text: string): void {
  write(sessionStorage, 'gatehouse.draft', text);
}

export function loadTransport(): TransportMode {
  return read(localStorage, 'gatehouse.transport') === 'websocket' ? 'websocket' : 'sse';
}

export function saveTransport(mode: TransportMode): void {
  write(localStorage, 'gatehouse.transport', mode);
}

function parse<T>(stored: string | undefined): T | undefined {
  if (stored === undefined) return undefined;
  try {
    return JSON.parse(stored) as T;
  } catch {
    return undefined;
  }
}

function read(storage: Storage, key: string): string | undefined {
  try {
    return storage.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

function write(storage: Storage, key: string, value: string): void {
  try {
    storage.setItem(key, value);
  } catch {
    // Storage full or disabled (private mode): the app still works, it just forgets on reload.
  }
}
