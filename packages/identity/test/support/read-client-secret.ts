import { DatabaseSync } from 'node:sqlite';
import path from 'node:path';

/** Tests read a generated client secret straight from identity.db, as an operator would with `clients create`. */
export function readClientSecret(dataDir: string, clientId: string): string {
  const database = new DatabaseSync(path.join(dataDir, 'identity.db'), { readOnly: true });
  try {
    const row = database.prepare('SELECT secret FROM clients WHERE id = ?').get(clientId) as { secret: string } | undefined;
    if (!row) throw new Error(`no client ${clientId}`);
    return row.secret;
  } finally {
    database.close();
  }
}
