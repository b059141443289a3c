import { parseArgs } from 'node:util';
import { createLogger, EmbeddedStore, type CommandContext, type CommandHandler, type Platform, type SqlDatabase } from '@gatehouse/core';
import { openTokenVault } from './vault/open-token-vault.ts';
import { openIdentityDatabase } from './identity-database.ts';
import { SecretBox } from './secret-box.ts';
import { UserStore, UsernameTakenError, type PoolRecord } from './user-store.ts';
import { KeyStore } from './key-store.ts';
import { TokenStore } from './token-store.ts';
import { bootstrapPools, newClientId, newClientSecret, newPassword, SERVICE_CLIENTS } from './bootstrap-pools.ts';
import { passwordSecrets } from './user-secrets.ts';
import { CognitoError } from './cognito-error.ts';
import { PerimeterSettings } from './perimeter-settings.ts';

interface Opened {
  readonly database: SqlDatabase;
  readonly box: SecretBox;
  readonly users: UserStore;
  readonly keys: KeyStore;
  readonly tokens: TokenStore;
  readonly pool: PoolRecord;
  close(): Promise<void>;
}

/** Works on identity.db directly (no server needed); brings the declared pools up to date first, as `up` would. */
async function open(context: CommandContext, poolName: string | undefined): Promise<Opened> {
  const database = await openIdentityDatabase({ dataDir: context.dataDir, database: context.config.database });
  const now = Date.now;
  const platform: Platform = { config: context.config, dataDir: context.dataDir, baseUrl: context.baseUrl, logger: createLogger({ level: 'silent' }), clock: now, store: new EmbeddedStore() };
  try {
    const box = await SecretBox.forDatabase(context.dataDir, database);
    const users = new UserStore(database, now);
    const keys = new KeyStore(database, box, now);
    const pools = await bootstrapPools(platform, database, users, keys);
    const pool = poolName ? await users.poolByName(poolName) : pools[0];
    if (!pool) throw new UsageError(`no user pool named "${poolName}" (known: ${(await users.listPools()).map((entry) => entry.name).join(', ')})`);
    return { database, box, users, keys, tokens: new TokenStore(database, now), pool, close: () => database.close() };
  } catch (error) {
    await database.close();
    throw error;
  }
}

class UsageError extends Error {}

/** For the CLI's `perimeter` and `clients create` summaries: the live perimeter settings in identity.db and the default pool. */
export async function openPerimeterStore(context: CommandContext): Promise<{ settings: PerimeterSettings; pool: { id: string; issuer: string }; close(): Promise<void> }> {
  const database = await openIdentityDatabase({ dataDir: context.dataDir, database: context.config.database });
  const platform: Platform = { config: context.config, dataDir: context.dataDir, baseUrl: context.baseUrl, logger: createLogger({ level: 'silent' }), clock: Date.now, store: new EmbeddedStore() };
  try {
    const box = await SecretBox.forDatabase(context.dataDir, database);
    const users = new UserStore(database, Date.now);
    const keys = new KeyStore(database, box, Date.now);
    const pool = (await bootstrapPools(platform, database, users, keys))[0]!;
    return { settings: new PerimeterSettings(database, users, Date.now), pool: { id: pool.id, issuer: `${context.baseUrl}/${pool.id}` }, close: () => database.close() };
  } catch (error) {
    await database.close();
    throw error;
  }
}

function table(rows: readonly Record<string, string>[], columns: readonly string[]): string[] {
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (values: readonly string[]): string => values.map((value, index) => value.padEnd(widths[index]!)).join('  ').trimEnd();
  return [line(columns.map((column) => column.toUpperCase())), ...rows.map((row) => line(columns.map((column) => row[column] ?? '')))];
}

async function run(context: CommandContext, usage: string, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UsageError) {
      context.stderr(`${error.message}\n${usage}`);
      return 2;
    }
    if (error instanceof CognitoError) {
      context.stderr(`${error.code}: ${error.message}`);
      return 1;
    }
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      context.stderr(`${error.message}\n${usage}`);
      return 2;
    }
    throw error;
  }
}

const USERS_USAGE = `usage: gatehouse users create <username> [--password P] [--email E] [--group G]... [--temporary] [--pool NAME]
       gatehouse users set-password <username> [--password P] [--temporary]
       gatehouse users list [--json]
       gatehouse users disable|enable|delete <username>
       gatehouse users add-to-group <username> <group>`;

const users: CommandHandler = (args, context) =>
  run(context, USERS_USAGE, async () => {
    const { values, positionals } = parseArgs({
      args: [...args], allowPositionals: true,
      options: { password: { type: 'string' }, email: { type: 'string' }, group: { type: 'string', multiple: true }, temporary: { type: 'boolean' }, pool: { type: 'string' }, json: { type: 'boolean' } },
    });
    const [verb, username, extra] = positionals;
    if (!verb) throw new UsageError('missing sub-command');
    if (verb !== 'list' && !username) throw new UsageError(`users ${verb} needs a username`);
    const opened = await open(context, values.pool);
    const { pool } = opened;
    try {
      switch (verb) {
        case 'create': {
          const password = values.password ?? newPassword();
          const secrets = await passwordSecrets(pool.id, username!, password);
          const groups = values.group ?? [];
          for (const group of groups) if (!await opened.users.groupExists(pool.id, group)) throw new UsageError(`no group "${group}" in pool ${pool.name}`);
          const attributes: Record<string, string> = values.email ? { email: values.email, email_verified: 'true' } : {};
          try {
            await opened.users.createUser(pool.id, { username: username!, ...secrets, status: values.temporary ? 'FORCE_CHANGE_PASSWORD' : 'CONFIRMED', attributes }, groups);
          } catch (error) {
            if (error instanceof UsernameTakenError) throw new UsageError(`user "${username}" already exists`);
            throw error;
          }
          context.stdout(`created user ${username} in pool ${pool.name} (${pool.id})`);
          if (!values.password) context.stdout(`password (shown once): ${password}`);
          return 0;
        }
        case 'set-password': {
          // the stored name, not the typed one: the SRP verifier is bound to it
          const user = await opened.users.user(pool.id, username!);
          if (!user) throw new UsageError(`no user "${username}"`);
          const password = values.password ?? newPassword();
          await opened.users.setPassword(pool.id, user.username, { secret: await passwordSecrets(pool.id, user.username, password), status: values.temporary ? 'FORCE_CHANGE_PASSWORD' : 'CONFIRMED' });
          context.stdout(`password set for ${username}`);
          if (!values.password) context.stdout(`password (shown once): ${password}`);
          return 0;
        }
        case 'list': {
          const rows = await Promise.all((await opened.users.listUsers(pool.id, 10_000)).map(async (user) => ({
            username: user.username, sub: user.sub, status: user.status, enabled: String(user.enabled), email: user.attributes.email ?? '',
            groups: (await opened.users.groupsOf(pool.id, user.username)).join(','),
          })));
          if (values.json) context.stdout(JSON.stringify(rows, null, 2));
          else for (const line of table(rows, ['username', 'status', 'enabled', 'email', 'groups', 'sub'])) context.stdout(line);
          return 0;
        }
        case 'disable':
        case 'enable': {
          const user = await opened.users.user(pool.id, username!);
          if (!user || !await opened.users.setEnabled(pool.id, user.username, verb === 'enable')) throw new UsageError(`no user "${username}"`);
          if (verb === 'disable') await opened.tokens.revokeUser(pool.id, user.username);
          context.stdout(`${verb}d ${user.username}`);
          return 0;
        }
        case 'delete': {
          const user = await opened.users.user(pool.id, username!);
          if (!user || !await opened.users.deleteUser(pool.id, user.username)) throw new UsageError(`no user "${username}"`);
          context.stdout(`deleted ${user.username}`);
          return 0;
        }
        case 'add-to-group': {
          if (!extra) throw new UsageError('users add-to-group needs a username and a group');
          const user = await opened.users.user(pool.id, username!);
          if (!user) throw new UsageError(`no user "${username}"`);
          if (!await opened.users.groupExists(pool.id, extra)) throw new UsageError(`no group "${extra}" in pool ${pool.name}`);
          await opened.users.addToGroup(pool.id, extra, user.username);
          context.stdout(`added ${user.username} to ${extra}`);
          return 0;
        }
        default:
          throw new UsageError(`unknown sub-command "${verb}"`);
      }
    } finally {
      await opened.close();
    }
  });

const CLIENTS_USAGE = `usage: gatehouse clients create <name> [--secret] [--callback-url URL]... [--scope S]... [--flow code|client_credentials]... [--pool NAME]
       gatehouse clients list [--json] [--pool NAME]`;

const clients: CommandHandler = (args, context) =>
  run(context, CLIENTS_USAGE, async () => {
    const { values, positionals } = parseArgs({
      args: [...args], allowPositionals: true,
      options: {
        secret: { type: 'boolean' }, callback: { type: 'string', multiple: true }, 'callback-url': { type: 'string', multiple: true }, scope: { type: 'string', multiple: true }, flow: { type: 'string', multiple: true },
        pool: { type: 'string' }, json: { type: 'boolean' },
      },
    });
    const [verb, name] = positionals;
    const callbacks = [...(values.callback ?? []), ...(values['callback-url'] ?? [])];
    const opened = await open(context, values.pool);
    const { pool } = opened;
    try {
      if (verb === 'create') {
        if (!name || !/^[\w\s+=,.@-]{1,128}$/.test(name)) throw new UsageError('clients create needs a name (letters, digits, _ . - @)');
        if (await opened.users.clientByName(pool.id, name)) throw new UsageError(`client "${name}" already exists`);
        for (const url of callbacks) if (!URL.canParse(url)) throw new UsageError(`--callback-url ${url} is not a URL`);
        const flows = values.flow ?? ['code'];
        for (const flow of flows) if (flow !== 'code' && flow !== 'client_credentials') throw new UsageError(`--flow must be code or client_credentials (got ${flow})`);
        const secret = values.secret || flows.includes('client_credentials') ? newClientSecret() : undefined;
        const id = newClientId();
        await opened.users.upsertClient({
          id, poolId: pool.id, name, secret, settings: {
            explicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'], allowedOAuthFlows: flows,
            allowedOAuthScopes: values.scope ?? ['openid', 'email', 'profile'], callbackUrls: callbacks, logoutUrls: callbacks,
            accessTokenSeconds: 3600, idTokenSeconds: 3600, refreshTokenSeconds: 30 * 86_400,
          },
        });
        context.stdout(JSON.stringify({ clientName: name, clientId: id, ...(secret ? { clientSecret: secret } : {}), userPoolId: pool.id }, null, 2));
        if (secret) context.stderr('the client secret is shown only this once');
        return 0;
      }
      if (verb === 'list') {
        const rows = (await opened.users.listClients(pool.id)).map((client) => ({
          clientName: client.name, clientId: client.id, secret: client.secret ? 'yes' : 'no', flows: [...client.settings.allowedOAuthFlows].join(','),
          service: Object.values(SERVICE_CLIENTS).includes(client.name as never) ? 'yes' : 'no',
        }));
        if (values.json) context.stdout(JSON.stringify(rows, null, 2));
        else for (const line of table(rows, ['clientName', 'clientId', 'secret', 'flows', 'service'])) context.stdout(line);
        return 0;
      }
      throw new UsageError(verb ? `unknown sub-command "${verb}"` : 'missing sub-command');
    } finally {
      await opened.close();
    }
  });

const KEYS_USAGE = 'usage: gatehouse keys rotate [--pool NAME]';

const keys: CommandHandler = (args, context) =>
  run(context, KEYS_USAGE, async () => {
    const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options: { pool: { type: 'string' } } });
    if (positionals[0] !== 'rotate') throw new UsageError(positionals[0] ? `unknown sub-command "${positionals[0]}"` : 'missing sub-command');
    const opened = await open(context, values.pool);
    try {
      await opened.keys.rotate(opened.pool.id);
      const published = await opened.keys.publicKeys(opened.pool.id);
      context.stdout(`rotated signing keys of pool ${opened.pool.name} (${opened.pool.id}); new tokens use the new keys, old ones stay published for 24 h`);
      for (const key of published) context.stdout(`  kid ${key.kid}`);
      return 0;
    } finally {
      await opened.close();
    }
  });

const VAULT_USAGE = `usage: gatehouse vault list <username> [--pool NAME]
       gatehouse vault disconnect <username> [--provider NAME] [--pool NAME]
  (the user's SaaS connections in the token vault; disconnect forgets them and revokes them at providers declared in gatehouse.yaml)`;

const vault: CommandHandler = (args, context) =>
  run(context, VAULT_USAGE, async () => {
    const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options: { pool: { type: 'string' }, provider: { type: 'string' } } });
    const [verb, username] = positionals;
    if (verb !== 'list' && verb !== 'disconnect') throw new UsageError(verb ? `unknown sub-command "${verb}"` : 'missing sub-command');
    if (!username) throw new UsageError(`vault ${verb} needs a username`);
    const opened = await open(context, values.pool);
    try {
      const user = await opened.users.user(opened.pool.id, username);
      if (!user) throw new UsageError(`no user "${username}" in pool ${opened.pool.name}`);
      const owner = { iss: `${context.baseUrl}/${opened.pool.id}`, sub: user.sub };
      const tokenVault = openTokenVault(context, opened.database, opened.box);
      if (verb === 'list') {
        const rows = await tokenVault.connections(owner);
        if (rows.length === 0) context.stdout(`${username} has no SaaS connections`);
        for (const row of rows) context.stdout(`${row.provider}  workload ${row.workload}  scopes ${row.scopes.join(' ') || '-'}${row.expiresAt ? `  expires ${new Date(row.expiresAt).toISOString()}` : ''}`);
        return 0;
      }
      const count = await tokenVault.disconnect(owner, values.provider);
      context.stdout(`disconnected ${count} connection${count === 1 ? '' : 's'} of ${username}${values.provider ? ` to ${values.provider}` : ''}`);
      return 0;
    } finally {
      await opened.close();
    }
  });

export const identityCommands: { users: CommandHandler; clients: CommandHandler; keys: CommandHandler; vault: CommandHandler } = { users, clients, keys, vault };
