import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, redactText, type CommandContext, type CommandHandler, type GatehouseConfig } from '@gatehouse/core';
import { isAgentError } from './agent-error.ts';
import { createModelProvider } from './create-model-provider.ts';
import { agentEntryPath } from './agent-entry-path.ts';

interface CheckResult {
  readonly ok: boolean;
  readonly text: string;
  readonly fix?: string;
}

const FETCH_TIMEOUT_MS = 5000;

/**
 * `gatehouse doctor [--url <running base url>]`: checks what usually goes wrong, in the order a request
 * meets it, and prints ✓/✗ lines with how to fix each failure. Exit 1 when anything failed.
 */
export const doctorCommand: CommandHandler = async (args, context) => {
  let url: string | undefined;
  try {
    const { values } = parseArgs({ args: [...args], options: { url: { type: 'string' }, help: { type: 'boolean' } }, strict: true, allowPositionals: false });
    if (values.help) {
      context.stdout('Usage: gatehouse doctor [--url http://localhost:8080]\n  Checks configuration, issuer discovery and JWKS, each runtime\'s agent (start + /ping), gateway targets and model access.\n  With --url, also checks the running Gatehouse at that base URL.');
      return 0;
    }
    url = values.url?.replace(/\/+$/, '');
  } catch (error) {
    context.stderr(`gatehouse doctor: ${(error as Error).message}`);
    return 2;
  }
  let failed = false;
  const report = (result: CheckResult): void => {
    if (!result.ok) failed = true;
    context.stdout(`${result.ok ? '✓' : '✗'} ${result.text}`);
    if (!result.ok && result.fix) context.stdout(`    fix: ${result.fix}`);
  };

  const { config } = context;
  const runtimes = config.runtimes ? `${config.runtimes.length} runtime(s)` : 'the default runtime';
  const gateways = config.gateways ? `${config.gateways.length} gateway(s)` : 'the default gateway with the built-in ops tools';
  report({ ok: true, text: `configuration valid (${runtimes}, ${gateways}, model: ${config.model.provider})` });

  for (const result of await checkIssuers(config, url)) report(result);
  for (const result of await checkRuntimes(config, context, url)) report(result);
  for (const result of await checkGateways(config, url)) report(result);
  report(await checkModel(config));
  context.stdout(failed ? 'Some checks failed; see the fixes above.' : 'All checks passed.');
  return failed ? 1 : 0;
};

async function fetchWithTimeout(target: string, init: RequestInit = {}): Promise<Response> {
  return fetch(target, { ...init, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
}

function describeFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  return redactText(cause ?? (error instanceof Error ? error.message : String(error)));
}

async function checkIssuers(config: Readonly<GatehouseConfig>, url: string | undefined): Promise<CheckResult[]> {
  const discoveryUrls = new Set<string>();
  for (const owner of [...(config.runtimes ?? []), ...(config.gateways ?? [])]) {
    const discovery = owner.authorizerConfiguration?.customJWTAuthorizer?.discoveryUrl;
    if (discovery) discoveryUrls.add(discovery);
  }
  if (url) {
    try {
      const response = await fetchWithTimeout(`${url}/config.json`);
      const settings = (await response.json()) as { issuer?: string };
      if (settings.issuer) discoveryUrls.add(`${settings.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
    } catch (error) {
      return [{ ok: false, text: `Gatehouse at ${url} does not answer /config.json (${describeFailure(error)})`, fix: 'Start it with "gatehouse up" or pass the right --url.' }];
    }
  }
  if (discoveryUrls.size === 0) {
    return [{ ok: true, text: 'issuer: built-in (checked only against a running instance; pass --url http://localhost:8080)' }];
  }
  return Promise.all([...discoveryUrls].map((discoveryUrl) => checkIssuer(discoveryUrl)));
}

async function checkIssuer(discoveryUrl: string): Promise<CheckResult> {
  let metadata: { issuer?: string; jwks_uri?: string };
  try {
    const response = await fetchWithTimeout(discoveryUrl);
    if (!response.ok) return { ok: false, text: `issuer discovery ${discoveryUrl} answered HTTP ${response.status}`, fix: 'Check discoveryUrl (it ends with /.well-known/openid-configuration) and that the issuer is running.' };
    metadata = (await response.json()) as typeof metadata;
  } catch (error) {
    return { ok: false, text: `issuer discovery ${discoveryUrl} unreachable (${describeFailure(error)})`, fix: 'Start the identity provider, or fix discoveryUrl in gatehouse.yaml.' };
  }
  if (!metadata.issuer || !metadata.jwks_uri) return { ok: false, text: `issuer discovery ${discoveryUrl} lacks issuer or jwks_uri`, fix: 'Point discoveryUrl at an OpenID Connect discovery document.' };
  try {
    const response = await fetchWithTimeout(metadata.jwks_uri);
    const jwks = (await response.json()) as { keys?: unknown[] };
    if (!response.ok || !Array.isArray(jwks.keys) || jwks.keys.length === 0) {
      return { ok: false, text: `JWKS ${metadata.jwks_uri} has no keys (HTTP ${response.status})`, fix: 'The issuer must publish at least one signing key; for Gatehouse run "gatehouse keys rotate".' };
    }
    return { ok: true, text: `issuer ${metadata.issuer}: discovery and JWKS OK (${jwks.keys.length} key(s))` };
  } catch (error) {
    return { ok: false, text: `JWKS ${metadata.jwks_uri} unreachable (${describeFailure(error)})`, fix: 'Check that jwks_uri in the discovery document is reachable from this machine.' };
  }
}

async function pingUntilHealthy(base: string, deadline: number, exited: () => boolean): Promise<string | undefined> {
  let last = 'no answer';
  while (Date.now() < deadline && !exited()) {
    try {
      const response = await fetchWithTimeout(`${base}/ping`);
      const body = (await response.json()) as { status?: string };
      if (response.ok && (body.status === 'Healthy' || body.status === 'HealthyBusy')) return undefined;
      last = `HTTP ${response.status} ${JSON.stringify(body).slice(0, 80)}`;
    } catch (error) {
      last = describeFailure(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return exited() ? 'the process exited' : last;
}

async function checkRuntimes(config: Readonly<GatehouseConfig>, context: CommandContext, url: string | undefined): Promise<CheckResult[]> {
  const gatewayUrl = `${url ?? context.baseUrl}/mcp`;
  const runtimes = config.runtimes ?? [
    { agentRuntimeName: 'ops_agent (default)', agent: { command: [process.execPath, agentEntryPath], env: {} as Record<string, string> }, environmentVariables: {} as Record<string, string>, limits: { startTimeoutSeconds: 30 } },
  ];
  const results: CheckResult[] = [];
  for (const runtime of runtimes) {
    const name = runtime.agentRuntimeName;
    if ('url' in runtime.agent) {
      const problem = await pingUntilHealthy(runtime.agent.url.replace(/\/+$/, ''), Date.now() + FETCH_TIMEOUT_MS, () => false);
      results.push(problem ? { ok: false, text: `runtime ${name}: agent at ${runtime.agent.url} does not answer /ping (${problem})`, fix: 'Start the agent, or fix agent.url.' } : { ok: true, text: `runtime ${name}: agent at ${runtime.agent.url} is Healthy` });
      continue;
    }
    const [command, ...commandArgs] = runtime.agent.command;
    const port = await freePort();
    const started = Date.now();
    const child = spawn(command!, commandArgs, {
      cwd: 'cwd' in runtime.agent && runtime.agent.cwd ? runtime.agent.cwd : process.cwd(),
      env: { ...process.env, ...runtime.environmentVariables, ...runtime.agent.env, PORT: String(port), GATEHOUSE_MODEL: JSON.stringify(config.model), GATEHOUSE_GATEWAY_URL: gatewayUrl, GATEHOUSE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let exited = false;
    let spawnError: string | undefined;
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    child.on('error', (error) => {
      spawnError = error.message;
      exited = true;
    });
    child.on('exit', () => (exited = true));
    const timeout = Math.min(runtime.limits.startTimeoutSeconds, 30) * 1000;
    const problem = await pingUntilHealthy(`http://127.0.0.1:${port}`, started + timeout, () => exited);
    if (!exited) {
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 3000))]);
      if (!exited) child.kill('SIGKILL');
    }
    const shown = runtime.agent.command.map((part) => (part === process.execPath ? 'node' : path.relative(process.cwd(), part) || part)).join(' ');
    if (problem) {
      const tail = redactText(spawnError ?? stderr.trim().split('\n').slice(-3).join(' | '));
      results.push({ ok: false, text: `runtime ${name}: agent "${shown}" did not become Healthy on PORT ${port} (${problem})${tail ? `: ${tail}` : ''}`, fix: 'Run the command yourself with PORT=8080 and check it serves GET /ping; check agent.command and agent.cwd.' });
    } else {
      results.push({ ok: true, text: `runtime ${name}: agent "${shown}" started and answered /ping in ${Date.now() - started} ms` });
    }
  }
  return results;
}

async function checkGateways(config: Readonly<GatehouseConfig>, url: string | undefined): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  if (url) {
    try {
      const response = await fetchWithTimeout(`${url}/.well-known/oauth-protected-resource/mcp`);
      results.push(response.ok ? { ok: true, text: `gateway at ${url}/mcp publishes its protected-resource metadata` } : { ok: false, text: `gateway at ${url}/mcp: metadata answered HTTP ${response.status}`, fix: 'Check that the gateway is part of this instance (gatehouse up serves it).' });
    } catch (error) {
      results.push({ ok: false, text: `gateway at ${url}/mcp unreachable (${describeFailure(error)})`, fix: 'Start Gatehouse or pass the right --url.' });
    }
  }
  for (const gateway of config.gateways ?? []) {
    for (const target of gateway.targets) {
      const label = `gateway ${gateway.name} target ${target.name}`;
      const mcp = target.targetConfiguration.mcp;
      if ('mcpServer' in mcp) {
        try {
          // Any HTTP answer (even 401) proves the server is there; credentials are the gateway's business.
          const response = await fetchWithTimeout(mcp.mcpServer.endpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
          });
          await response.body?.cancel();
          results.push({ ok: true, text: `${label}: MCP server ${mcp.mcpServer.endpoint} reachable (HTTP ${response.status})` });
        } catch (error) {
          results.push({ ok: false, text: `${label}: MCP server ${mcp.mcpServer.endpoint} unreachable (${describeFailure(error)})`, fix: 'Start that MCP server or fix targetConfiguration.mcp.mcpServer.endpoint.' });
        }
      } else if ('stdioServer' in mcp) {
        const command = mcp.stdioServer.command[0]!;
        const found = path.isAbsolute(command) ? existsSync(command) : (process.env.PATH ?? '').split(path.delimiter).some((directory) => existsSync(path.join(directory, command)));
        results.push(found ? { ok: true, text: `${label}: stdio command "${command}" found` } : { ok: false, text: `${label}: stdio command "${command}" not found`, fix: 'Install it or give its absolute path in stdioServer.command.' });
      } else if ('lambda' in mcp) {
        const builtIn = mcp.lambda.module.startsWith('gatehouse:');
        const found = builtIn || existsSync(path.resolve(mcp.lambda.module));
        results.push(found ? { ok: true, text: `${label}: function ${builtIn ? 'built in' : `module ${mcp.lambda.module} found`}` } : { ok: false, text: `${label}: function module ${mcp.lambda.module} not found`, fix: 'Fix lambda.module (relative to the config file).' });
      } else {
        const source = mcp.openApiSchema;
        const found = 'inlinePayload' in source || existsSync(path.resolve(source.path));
        results.push(found ? { ok: true, text: `${label}: OpenAPI schema present` } : { ok: false, text: `${label}: OpenAPI schema file not found`, fix: 'Fix openApiSchema.path.' });
      }
    }
  }
  return results;
}

async function checkModel(config: Readonly<GatehouseConfig>): Promise<CheckResult> {
  const model = createModelProvider(config.model);
  try {
    return { ok: true, text: `model: ${await model.check()}` };
  } catch (error) {
    if (isAgentError(error)) return { ok: false, text: `model ${model.label}: ${error.message}`, ...(error.fix ? { fix: error.fix } : {}) };
    return { ok: false, text: `model ${model.label}: ${describeFailure(error)}`, fix: 'See the message above.' };
  }
}
