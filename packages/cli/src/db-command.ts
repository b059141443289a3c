import path from 'node:path';
import { parseArgs } from 'node:util';
import { openSqlDatabase, usesPostgres, type CommandHandler, type Migration, type SqlDatabase } from '@gatehouse/core';

const USAGE = 'usage: gatehouse db migrate|status [--data-dir D]   (database: `database:` in gatehouse.yaml or GATEHOUSE_DATABASE_URL)';

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
  { name: 'sandbox-credentials', file: 'sandbox.db', ownerOnly: true, migrations: async () => (await import('@gatehouse/tools')).SANDBOX_CREDENTIAL_MIGRATIONS },
  { name: 'control-plane', file: 'control-plane.db', ownerOnly: false, migrations: async () => (await import('@gatehouse/control-plane')).CONTROL_PLANE_MIGRATIONS },
];

/**
 * `gatehouse db migrate`: applies every pending migration (what `up` does at start, under the same lock), so an
 * operator can upgrade the schema before rolling instances. `gatehouse db status`: the versions applied per concern
 * and the newest this build knows.
 */
export const dbCommand: CommandHandler = async (args, context) => {
  let verb: string | undefined;
  try {
    ({ positionals: [verb] } = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: {} }));
  } catch (error) {
    context.stderr(`gatehouse db: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
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
