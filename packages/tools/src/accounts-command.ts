import { parseArgs } from 'node:util';
import { ZodError } from 'zod';
import type { CommandContext, CommandHandler } from '@gatehouse/core';
import { createAccountRegistry, type AccountRegistry } from './account-registry.ts';
import { parseAccount, type Account } from './account.ts';

const USAGE = [
  'usage: gatehouse accounts list [--json]',
  '       gatehouse accounts add <account-id> <name> [--environment ENV] [--role NAME|ARN] [--external-id ID] [--region REGION] [--disabled]',
  '       gatehouse accounts disable|enable|remove <account-id|name>',
];

function table(accounts: readonly Account[]): string[] {
  const rows = [['ACCOUNT ID', 'NAME', 'ENVIRONMENT', 'ROLE', 'REGION', 'ENABLED'], ...accounts.map((account) => [
    account.accountId, account.name, account.environment || '-', account.roleName, account.region ?? '-', account.enabled ? 'yes' : 'no',
  ])];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
}

async function withRegistry(context: CommandContext, work: (registry: AccountRegistry) => Promise<number>): Promise<number> {
  const registry = await createAccountRegistry(context.config.tools.registry, context.dataDir);
  try {
    return await work(registry);
  } finally {
    await registry.close?.();
  }
}

const OPTIONS = {
  json: { type: 'boolean' },
  environment: { type: 'string' },
  role: { type: 'string' },
  'external-id': { type: 'string' },
  region: { type: 'string' },
  disabled: { type: 'boolean' },
} as const;

type Parsed = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof OPTIONS }>>;

/** One verb's run: its options and positionals, parsed. */
interface VerbRequest {
  readonly verb: string;
  readonly values: Parsed['values'];
  readonly positionals: readonly string[];
  readonly context: CommandContext;
}

function usage(context: CommandContext, code: number): number {
  for (const line of USAGE) context.stderr(line);
  return code;
}

/** `gatehouse accounts add|list|disable|enable|remove`: edits the account registry the ops tools read. */
export const accountsCommand: CommandHandler = async (args, context) => {
  const [verb, ...rest] = args;
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, options: OPTIONS });
  } catch (error) {
    context.stderr((error as Error).message);
    return usage(context, 2);
  }
  const request: VerbRequest = { verb: verb ?? '', values: parsed.values, positionals: parsed.positionals, context };
  try {
    switch (verb) {
      case 'list':
        return await listAccounts(request);
      case 'add':
        return await addAccount(request);
      case 'disable':
      case 'enable':
      case 'remove':
        return await changeAccount(request);
      default:
        return usage(context, verb === undefined || verb === 'help' || verb === '--help' ? 0 : 2);
    }
  } catch (error) {
    if (error instanceof ZodError) {
      context.stderr(`Invalid account: ${error.issues.map((issue) => issue.message).join('; ')}`);
      return 2;
    }
    context.stderr(`accounts ${verb}: ${(error as Error).message}`);
    return 1;
  }
};

function listAccounts({ values, context }: VerbRequest): Promise<number> {
  return withRegistry(context, async (registry) => {
    const accounts = await registry.list();
    if (values.json) context.stdout(JSON.stringify(accounts, null, 2));
    else if (accounts.length === 0) context.stdout('No accounts registered. Add one with: gatehouse accounts add <account-id> <name>');
    else for (const line of table(accounts)) context.stdout(line);
    return 0;
  });
}

async function addAccount({ values, positionals, context }: VerbRequest): Promise<number> {
  const [accountId, ...nameParts] = positionals;
  if (!accountId || nameParts.length === 0) return usage(context, 2);
  const account = parseAccount({
    accountId,
    name: nameParts.join(' '),
    environment: values.environment ?? '',
    ...(values.role !== undefined ? { roleName: values.role } : {}),
    ...(values['external-id'] !== undefined ? { externalId: values['external-id'] } : {}),
    ...(values.region !== undefined ? { region: values.region } : {}),
    enabled: !values.disabled,
  });
  return withRegistry(context, async (registry) => {
    await registry.put(account);
    context.stdout(`Saved account ${account.name} (${account.accountId}), role ${account.roleName}${account.enabled ? '' : ', disabled'}`);
    return 0;
  });
}

/** `disable`, `enable` or `remove` one account named by id or name. */
async function changeAccount({ verb, positionals, context }: VerbRequest): Promise<number> {
  const [target] = positionals;
  if (!target || positionals.length > 1) return usage(context, 2);
  return withRegistry(context, async (registry) => {
    const account = await registry.get(target);
    if (!account) {
      const known = (await registry.list()).map((entry) => `${entry.name} (${entry.accountId})`).join(', ') || 'none';
      context.stderr(`No account "${target}". Known accounts: ${known}`);
      return 1;
    }
    if (verb === 'remove') await registry.remove(account.accountId);
    else await registry.setEnabled(account.accountId, verb === 'enable');
    context.stdout(`${verb === 'remove' ? 'Removed' : verb === 'enable' ? 'Enabled' : 'Disabled'} account ${account.name} (${account.accountId})`);
    return 0;
  });
}

export const toolsCommands: { accounts: CommandHandler } = { accounts: accountsCommand };
