import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { redactText, usesPostgres, type CommandHandler } from '@gatehouse/core';
import { AuditLog } from './audit-log.ts';

/** `gatehouse audit [--user U] [--tool T] [--limit N] [--json]`: the newest tool calls, oldest first. */
export const auditCommand: CommandHandler = async (args, context) => {
  let values: { user?: string | undefined; tool?: string | undefined; limit?: string | undefined; json?: boolean | undefined };
  try {
    ({ values } = parseArgs({ args: [...args], options: { user: { type: 'string' }, tool: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: false }));
  } catch (error) {
    context.stderr(`gatehouse audit: ${(error as Error).message}. Usage: gatehouse audit [--user U] [--tool T] [--limit N] [--json]`);
    return 2;
  }
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    context.stderr(`gatehouse audit: --limit must be a whole number from 1 to 10000 (got ${values.limit})`);
    return 2;
  }
  if (!usesPostgres(context.config.database) && !existsSync(path.join(context.dataDir, 'audit.db'))) {
    context.stderr(`gatehouse audit: no audit records yet in ${context.dataDir} (the gateway writes audit.db on its first tool call)`);
    return values.json ? (context.stdout('[]'), 0) : 0;
  }
  const log = await AuditLog.open({ dataDir: context.dataDir, database: context.config.database });
  try {
    const query: { user?: string; tool?: string; limit: number } = { limit };
    if (values.user) query.user = values.user;
    if (values.tool) query.tool = values.tool;
    const records = await log.query(query);
    if (values.json) {
      context.stdout(redactText(JSON.stringify(records)));
      return 0;
    }
    context.stdout(['time', 'user', 'session', 'tool', 'target', 'decision', 'outcome', 'duration'].join('\t'));
    for (const record of records) {
      context.stdout(redactText([record.time, record.user, record.session || '-', record.tool, record.target, record.decision, record.outcome, `${record.durationMs.toFixed(1)}ms`].join('\t')));
    }
    return 0;
  } finally {
    await log.close();
  }
};
