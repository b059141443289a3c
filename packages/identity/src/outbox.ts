import { appendFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Gatehouse sends no e-mail: messages a user would receive (sign-up codes) are appended to
 * `{dataDir}/outbox.log` (mode 0600), where the local operator reads them.
 */
export function deliver(dataDir: string, message: { to: string; username: string; subject: string; body: string }, now: number): void {
  const line = JSON.stringify({ at: new Date(now).toISOString(), ...message });
  appendFileSync(path.join(dataDir, 'outbox.log'), `${line}\n`, { mode: 0o600 });
}
