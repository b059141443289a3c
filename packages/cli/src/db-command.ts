import path from 'node:path';
import { parseArgs } from 'node:util';
import { openSqlDatabase, usesPostgres, type CommandHandler, type Migration, type SqlDatabase } from '@gatehouse/core';
import type { SecretBox as SecretBoxType } from '@gatehouse/identity';

const USAGE =
  'usage: gatehouse db migrate|status [--data-dir D]   (database: `database:` in gatehouse.yaml or GATEHOUSE_DATABASE_URL)\n' +
  '       gatehouse db copy --to postgres://… [--data-dir D]   (this data dir\'s SQLite files into an empty PostgreSQL database)';

interface Concern {
  readonly name: string;
  /** The SQLite file in the data dir when no PostgreSQL is configured. */
  readonly file: string;
  readonly ownerOnly: boolean;
  readonly migrations: () => Promise<readonly Migration[]>;
}

/** Every concern whose durable state is on the SqlDatabase boundary. */
const CONCERNS: readonly Concern[] = [
  { name: 'identity', file: 'identity.db', ownerOnly: true, migrations: async () => (await import('@gatehouse/identity')).IDENTITY_MIGRATIONS },
  { name: 'audit', file: 'audit.db', ownerOnly: false, migrations: async () => (await import('@gatehouse/gateway')).AUDIT_MIGRATIONS },
  { name: 'sandbox-credentials', file: 'sandbox.db', ownerOnly: true, migrations: async () => (await import('@gatehouse/sandbox')).SANDBOX_CREDENTIAL_MIGRATIONS },
  { name: 'control-plane', file: 'control-plane.db', ownerOnly: false, migrations: async () => (await import('@gatehouse/control-plane')).CONTROL_PLANE_MIGRATIONS },
];

/**
 * `gatehouse db migrate`: applies every pending migration (what `up` does at start, under the same lock), so an
 * operator can upgrade the schema before rolling instances. `gatehouse db status`: the versions applied per concern
 * and the newest this build knows.
 */
export const dbCommand: CommandHandler = async (args, context) => {
  let verb: string | undefined;
  let to: string | undefined;
  try {
    ({ positionals: [verb], values: { to } } = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: { to: { type: 'string' } } }));
  } catch (error) {
    context.stderr(`gatehouse db: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (verb === 'copy') return copyCommand(context, to);
  if (verb !== 'migrate' && verb !== 'status') {
    context.stderr(`gatehouse db: ${verb ? `unknown sub-command "${verb}"` : 'missing sub-command'}\n${USAGE}`);
    return 2;
  }
  const where = usesPostgres(context.config.database) ? 'PostgreSQL' : context.dataDir;
  for (const concern of CONCERNS) {
    const database: SqlDatabase = await openSqlDatabase({ database: context.config.database, file: path.join(context.dataDir, concern.file), ownerOnly: concern.ownerOnly });
    try {
      const migrations = await concern.migrations();
      if (verb === 'migrate') await database.migrate(concern.name, migrations);
      const applied = (await database.status()).filter((row) => row.concern === concern.name);
      const known = Math.max(...migrations.map((migration) => migration.version));
      const current = Math.max(0, ...applied.map((row) => row.version));
      const state = current === known ? 'up to date' : current < known ? `${known - current} pending (gatehouse db migrate, or start Gatehouse)` : 'NEWER than this build: run a newer Gatehouse';
      context.stdout(`${concern.name}\t${database.location}\tversion ${current} of ${known}\t${state}`);
    } finally {
      await database.close();
    }
  }
  if (verb === 'migrate') context.stdout(`migrated (${where})`);
  return 0;
};

/**
 * `gatehouse db copy --to postgres://…`: moves a laptop stack to a server. Every concern's rows go from the data
 * dir's SQLite files into the (empty) PostgreSQL database; identity's signing and admin keys are opened with the
 * data dir's identity-master.key and sealed again with the shared sealing key (GATEHOUSE_STORE_KEY), in memory only.
 */
async function copyCommand(context: Parameters<CommandHandler>[1], to: string | undefined): Promise<number> {
  if (!to || !usesPostgres(to)) {
    context.stderr(`gatehouse db copy: --to must be a postgres:// URL\n${USAGE}`);
    return 2;
  }
  const { SecretBox } = await import('@gatehouse/identity');
  for (const concern of CONCERNS) {
    const target = await openSqlDatabase({ database: to, file: 'unused' });
    try {
      await target.migrate(concern.name, await concern.migrations());
      const reseal = concern.name === 'identity' ? await resealer(SecretBox, context.dataDir, target) : undefined;
      const { copyConcern } = await import('./db-copy.ts');
      const copied = await copyConcern({ concern: concern.name, dataDir: context.dataDir, file: concern.file, target, reseal });
      context.stdout(`${concern.name}\t${copied} rows copied to ${target.location}`);
    } finally {
      await target.close();
    }
  }
  return 0;
}

async function resealer(box: typeof SecretBoxType, dataDir: string, target: SqlDatabase): Promise<{ open: (sealed: string) => string; seal: (plain: string) => string }> {
  const from = box.open(dataDir);
  const into = await box.forDatabase(dataDir, target);
  return { open: (sealed) => from.open(sealed), seal: (plain) => into.seal(plain) };
}
