import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface OutboxMessage {
  readonly at: string;
  readonly to: string;
  readonly username: string;
  readonly subject: string;
  readonly body: string;
}

/** Every message the identity "sent", oldest first, as the operator reads `{dataDir}/outbox.log`. */
export function readOutbox(dataDir: string): OutboxMessage[] {
  const file = path.join(dataDir, 'outbox.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as OutboxMessage);
}

/** The six-digit code of the newest message to `username` (optionally with a subject matching). */
export function lastCode(dataDir: string, username: string, subject?: RegExp): string {
  const message = readOutbox(dataDir).filter((entry) => entry.username === username && (!subject || subject.test(entry.subject))).at(-1);
  const code = message && /(\d{6})/.exec(message.body)?.[1];
  if (!code) throw new Error(`no code for ${username} in the outbox`);
  return code;
}
