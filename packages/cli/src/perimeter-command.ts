import { parseArgs } from 'node:util';
import type { CommandContext, CommandHandler } from '@gatehouse/core';
import { identityCommands, openPerimeterStore, originOf, type PerimeterResource } from '@gatehouse/identity';
import { DEFAULT_GATEWAY_NAME, DEFAULT_RUNTIME_NAME } from './default-config.ts';
import { perimeterDeclarations } from './perimeter-declarations.ts';

const USAGE = `usage: gatehouse perimeter show [runtime:NAME|gateway:NAME] [--json]
       gatehouse perimeter allow-client|deny-client|reset-client runtime:NAME|gateway:NAME <clientId>
       gatehouse perimeter allow-origin|deny-origin|reset-origin runtime:NAME|gateway:NAME <origin>
Changes apply to a running Gatehouse on this data dir within a second; no restart, no config edit.`;

const VERBS = new Set(['allow-client', 'deny-client', 'reset-client', 'allow-origin', 'deny-origin', 'reset-origin']);

/** `gatehouse perimeter …`: which app clients and browser origins each runtime and gateway accepts, changed live. */
export const perimeterCommand: CommandHandler = async (args, context) => {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options: { json: { type: 'boolean' } }, strict: true });
  const [verb, resourceArgument, value] = positionals;
  if (!verb || (verb !== 'show' && !VERBS.has(verb))) {
    context.stderr(`${verb ? `unknown sub-command "${verb}"` : 'missing sub-command'}\n${USAGE}`);
    return 2;
  }
  const store = await openPerimeterStore(context);
  try {
    const declarations = perimeterDeclarations(context.config, store.pool.id, context.baseUrl);
    const resources = [...declarations.keys()];
    if (resourceArgument !== undefined && !declarations.has(resourceArgument as PerimeterResource)) {
      context.stderr(`no runtime or gateway "${resourceArgument}" in this configuration (known: ${resources.join(', ')})\n${USAGE}`);
      return 2;
    }
    if (verb === 'show') {
      const shown = resourceArgument ? [resourceArgument as PerimeterResource] : resources;
      const rows = await Promise.all(shown.map(async (resource) => {
        const effective = await store.settings.effective(resource, declarations.get(resource)!);
        return {
          resource,
          clients: effective.clients === undefined ? 'any client of the issuer' : [...effective.clients].sort(),
          origins: [...effective.origins].sort(),
          mode: declarations.get(resource)!.poolClients === undefined ? 'configured' : 'every app client of the default pool',
        };
      }));
      if (values.json) context.stdout(JSON.stringify(rows, null, 2));
      else for (const row of rows) context.stdout(`${row.resource}  (${row.mode})\n  clients: ${Array.isArray(row.clients) ? row.clients.join(', ') || '(none)' : row.clients}\n  origins: ${row.origins.join(', ')}`);
      return 0;
    }
    if (!resourceArgument || !value) {
      context.stderr(`${verb} needs a runtime:NAME or gateway:NAME and a value\n${USAGE}`);
      return 2;
    }
    const resource = resourceArgument as PerimeterResource;
    const [action, kind] = verb.split('-') as ['allow' | 'deny' | 'reset', 'client' | 'origin'];
    if (kind === 'client' && declarations.get(resource)!.allowedClients === undefined && declarations.get(resource)!.poolClients === undefined) {
      context.stderr(`${resource} checks no client (no allowedClients in its config): it accepts every client of its issuer. Declare allowedClients to restrict it.`);
      return 1;
    }
    let normalized = value;
    if (kind === 'origin') {
      try {
        normalized = originOf(value);
      } catch (error) {
        context.stderr((error as Error).message);
        return 2;
      }
    }
    if (action === 'reset') {
      const removed = await store.settings.reset(resource, kind, normalized);
      context.stdout(removed ? `${resource}: ${kind} ${normalized} follows the configuration again` : `${resource}: no change had been made for ${kind} ${normalized}`);
    } else {
      await store.settings.set(resource, kind, normalized, action);
      context.stdout(`${resource}: ${kind} ${normalized} ${action === 'allow' ? 'allowed' : 'refused'} (a running Gatehouse applies it within a second)`);
    }
    return 0;
  } finally {
    await store.close();
  }
};

/**
 * `gatehouse clients …` as identity defines it; after `create`, also what the new app needs and
 * whether its callback origins may call the default runtime and gateway.
 */
export const clientsCommand: CommandHandler = async (args, context) => {
  const lines: string[] = [];
  const capture: CommandContext = { ...context, stdout: (line) => lines.push(line) };
  const code = await identityCommands.clients(args, capture);
  if (code !== 0 || args[0] !== 'create' || lines.length === 0) {
    for (const line of lines) context.stdout(line);
    return code;
  }
  const created = JSON.parse(lines.join('\n')) as { clientId: string; userPoolId: string; clientName: string; clientSecret?: string };
  const store = await openPerimeterStore(context);
  try {
    const declarations = perimeterDeclarations(context.config, store.pool.id, context.baseUrl);
    const runtimeName = context.config.runtimes?.[0]?.agentRuntimeName ?? DEFAULT_RUNTIME_NAME;
    const gatewayName = context.config.gateways?.[0]?.name ?? DEFAULT_GATEWAY_NAME;
    const runtime = `runtime:${runtimeName}` as const;
    const gateway = `gateway:${gatewayName}` as const;
    const callbackOrigins = [...new Set(callbackUrls(args).map((url) => originOf(url)))];
    const check = async (resource: PerimeterResource): Promise<{ clientAllowed: boolean; origins: Record<string, boolean> }> => {
      const declaration = declarations.get(resource);
      if (!declaration) return { clientAllowed: false, origins: {} };
      const effective = await store.settings.effective(resource, declaration);
      return {
        clientAllowed: effective.clients === undefined || effective.clients.has(created.clientId),
        origins: Object.fromEntries(callbackOrigins.map((origin) => [origin, effective.origins.has(origin)])),
      };
    };
    const region = context.config.region;
    const summary = {
      ...created,
      issuer: `${context.baseUrl}/${created.userPoolId}`,
      region,
      runtimeArn: `arn:aws:bedrock-agentcore:${region}:${context.config.accountId}:runtime/${runtimeName}`,
      gatewayUrl: gatewayName === DEFAULT_GATEWAY_NAME ? `${context.baseUrl}/mcp` : `${context.baseUrl}/gateways/${gatewayName}/mcp`,
      accepted: { [runtime]: await check(runtime), [gateway]: await check(gateway) },
    };
    context.stdout(JSON.stringify(summary, null, 2));
    for (const [resource, result] of Object.entries(summary.accepted)) {
      if (!result.clientAllowed) context.stderr(`${resource} does not accept this client yet: gatehouse perimeter allow-client ${resource} ${created.clientId}`);
      for (const [origin, allowed] of Object.entries(result.origins)) {
        if (!allowed) context.stderr(`${resource} does not accept browser calls from ${origin} yet: gatehouse perimeter allow-origin ${resource} ${origin}`);
      }
    }
    return 0;
  } finally {
    await store.close();
  }
};

function callbackUrls(args: readonly string[]): string[] {
  const urls: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if ((arg === '--callback-url' || arg === '--callback') && args[index + 1] !== undefined) urls.push(args[++index]!);
    else if (arg.startsWith('--callback-url=')) urls.push(arg.slice('--callback-url='.length));
    else if (arg.startsWith('--callback=')) urls.push(arg.slice('--callback='.length));
  }
  return urls;
}
