import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type CommandContext, type CommandHandler } from '@gatehouse/core';
import type { ComponentName } from './start-gatehouse.ts';

const USAGE = `Usage: gatehouse <command> [options]

Serve:
  up                    the whole local stack on one port (identity, runtime, gateway, sandbox accounts, web UI)
  identity | runtime | gateway
                        one component alone (scale-out: share --data-dir and store: redis://…)
  Options: --port N (default 8080, GATEHOUSE_PORT)  --host H (default 127.0.0.1)
           --data-dir D (default .gatehouse)  --config F (default gatehouse.yaml if present)
           --public-url URL (default http://localhost:{port})
           --https  serve HTTPS with a local CA made in {data-dir}/tls (or https: true in gatehouse.yaml)

Administer (work on --data-dir directly):
  users create|set-password|list|disable|delete|add-to-group …
  clients create|list …  (create prints what a new app needs: client id, issuer, runtime ARN, gateway URL)
  perimeter show|allow-client|deny-client|allow-origin|deny-origin … runtime:NAME|gateway:NAME
                        which app clients and browser origins each runtime and gateway accepts, changed live
  keys rotate
  vault list|disconnect <username> [--provider P]
                        a user's SaaS connections in the token vault; disconnect forgets and revokes them
  accounts add|list|disable|remove …
  audit [--user U] [--tool T] [--limit N] [--json]
  db migrate|status      apply or show the schema versions (SQLite in the data dir, or database: postgres://…)
  db copy --to URL       copy this data dir's SQLite state into an empty PostgreSQL database
  doctor [--url URL]     check config, issuer, agents, targets and model access

Runtimes, gateways, targets, workload identities, credential providers: the AgentCore control plane API, one path
for scripts, SDKs and the AWS CLI (admin key in {data-dir}/admin-credentials):
  AWS_SHARED_CREDENTIALS_FILE=.gatehouse/admin-credentials aws bedrock-agentcore-control list-agent-runtimes --endpoint-url URL

Deploy to AWS (AgentCore, Cognito, S3 + CloudFront; offline until diff/deploy):
  deploy synth [--config F] [--out D]   write the CloudFormation templates of the CDK app to D (default cdk.out)
  deploy diff|deploy [--out D]          synthesize, then run the AWS CDK CLI on it (needs AWS credentials)

Run \`gatehouse <command> --help\` for a command's own options.`;

const SERVE: Record<string, readonly ComponentName[]> = {
  up: ['identity', 'runtime', 'gateway'],
  identity: ['identity'],
  runtime: ['runtime'],
  gateway: ['gateway'],
};

// Loaded on use: a verb pulls in only its own component (and its SDKs), so `gatehouse audit` starts fast.
const VERBS: Record<string, () => Promise<CommandHandler>> = {
  users: async () => (await import('@gatehouse/identity')).identityCommands.users,
  clients: async () => (await import('./perimeter-command.ts')).clientsCommand,
  perimeter: async () => (await import('./perimeter-command.ts')).perimeterCommand,
  keys: async () => (await import('@gatehouse/identity')).identityCommands.keys,
  vault: async () => (await import('@gatehouse/identity')).identityCommands.vault,
  accounts: async () => (await import('@gatehouse/tools')).toolsCommands.accounts,
  audit: async () => (await import('@gatehouse/gateway')).gatewayCommands.audit,
  db: async () => (await import('./db-command.ts')).dbCommand,
  doctor: async () => (await import('@gatehouse/agent')).agentCommands.doctor,
  deploy: async () => (await import('@gatehouse/deploy')).deployCommand,
};

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  try {
    const serve = SERVE[command];
    if (serve) return await serveCommand(serve, rest, command === 'up');
    const verb = VERBS[command];
    if (verb) return await verbCommand(await verb(), rest);
    if (command === 'runtimes' || command === 'gateways') {
      const list = command === 'runtimes' ? 'list-agent-runtimes' : 'list-gateways';
      console.error(`gatehouse ${command}: ${command} are managed through the AgentCore control plane API, not a gatehouse verb: AWS_SHARED_CREDENTIALS_FILE=.gatehouse/admin-credentials aws bedrock-agentcore-control ${list} --endpoint-url http://localhost:8080 (or any AWS SDK's BedrockAgentCoreControlClient)`);
      return 2;
    }
    console.error(`gatehouse: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 78; // EX_CONFIG
    }
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      const { address, port } = error as NodeJS.ErrnoException & { address?: string; port?: number };
      console.error(
        `gatehouse ${command}: ${code === 'EADDRINUSE' ? `port ${port} on ${address} is already in use (another Gatehouse?)` : `no permission to listen on port ${port}`}; ` +
          'stop the other process or choose a port with --port N (or GATEHOUSE_PORT, or port: in gatehouse.yaml; 0 picks a free one).',
      );
      return 69; // EX_UNAVAILABLE
    }
    const message = error instanceof Error ? error.message : String(error);
    console.error(`gatehouse ${command}: ${message}`);
    return 1;
  }
}

const SHARED_OPTIONS = {
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  'public-url': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  https: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

async function serveCommand(components: readonly ComponentName[], args: readonly string[], servesWebUi: boolean): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: SHARED_OPTIONS, strict: true, allowPositionals: false });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const port = values.port === undefined ? (process.env.GATEHOUSE_PORT ? Number(process.env.GATEHOUSE_PORT) : undefined) : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    console.error(`--port must be an integer 0–65535 (got ${values.port ?? process.env.GATEHOUSE_PORT})`);
    return 2;
  }
  const { startGatehouse } = await import('./start-gatehouse.ts');
  // The whole stack serves the web UI: a fresh clone has only its sources, so build it now (offline, once).
  const webDistDirectory = process.env.GATEHOUSE_WEB_DIST ? path.resolve(process.env.GATEHOUSE_WEB_DIST) : (await import('./web-component.ts')).webDistDirectory;
  if (servesWebUi) {
    const { ensureWebUi } = await import('./build-web-ui.ts');
    await ensureWebUi(webDistDirectory, (line) => console.error(line));
  }
  const running = await startGatehouse({
    webDistDirectory,
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : process.env.GATEHOUSE_DATA_DIR ? { dataDir: process.env.GATEHOUSE_DATA_DIR } : {}),
    ...(values.config ? { configFile: values.config } : {}),
    ...(values['public-url'] ? { publicUrl: values['public-url'] } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(values.host ? { host: values.host } : {}),
    ...(values.https ? { https: true } : {}),
    only: components,
  });
  const lines = [
    `Gatehouse is running at ${running.url}  (${components.join(', ')})`,
    `  web UI            ${running.url}/`,
    `  issuer            ${running.settings.issuer}`,
    `  runtime ARN       ${running.settings.runtimeArn}`,
    `  MCP gateway       ${running.settings.gatewayUrl}`,
    `  data directory    ${running.dataDir}`,
    `  admin SigV4 key   ${running.adminCredentialsFile}  (AWS shared-credentials format, profile default)`,
  ];
  if (running.caCertificateFile) {
    lines.push(
      `  local CA          ${running.caCertificateFile}`,
      '                    trust it for development only: browser/OS certificate settings, NODE_EXTRA_CA_CERTS, AWS_CA_BUNDLE',
    );
  }
  if (running.firstRun) {
    lines.push(
      '',
      'First start: an admin user was created. This password is shown only once:',
      `  username: ${running.firstRun.username}`,
      `  password: ${running.firstRun.password}`,
    );
  }
  console.log(lines.join('\n'));
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      console.log(`\n${signal}: stopping (draining open streams)…`);
      void running.close().then(resolve, resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}

async function verbCommand(handler: CommandHandler, args: readonly string[]): Promise<number> {
  // Shared options may appear anywhere; the rest belongs to the verb.
  const rest: string[] = [];
  let dataDir = process.env.GATEHOUSE_DATA_DIR;
  let configFile: string | undefined;
  let publicUrl: string | undefined;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    const next = (): string => {
      const value = args[++index];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      return value;
    };
    if (arg === '--data-dir') dataDir = next();
    else if (arg.startsWith('--data-dir=')) dataDir = arg.slice('--data-dir='.length);
    else if (arg === '--config') configFile = next();
    else if (arg === '--public-url') publicUrl = next();
    else rest.push(arg);
  }
  const { config, source } = loadConfig({ file: configFile ?? 'gatehouse.yaml', required: configFile !== undefined });
  const resolvedDataDir = path.resolve(dataDir ?? config.dataDir ?? '.gatehouse');
  trustLocalCa(resolvedDataDir);
  const context: CommandContext = {
    config,
    configFile: source,
    dataDir: resolvedDataDir,
    baseUrl: (publicUrl ?? config.publicUrl ?? lastServedUrl(resolvedDataDir) ?? `http://localhost:${config.port ?? 8080}`).replace(/\/+$/, ''),
    stdout: (line) => console.log(line),
    stderr: (line) => console.error(line),
  };
  return handler(rest, context);
}

/** The public URL the last `gatehouse up` on this data dir served (written by startGatehouse). */
function lastServedUrl(dataDir: string): string | undefined {
  try {
    const recorded = JSON.parse(readFileSync(path.join(dataDir, 'server.json'), 'utf8')) as { baseUrl?: unknown };
    return typeof recorded.baseUrl === 'string' ? recorded.baseUrl : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A verb that talks to the server on this data dir (`doctor --url https://localhost:8080`) trusts the CA
 * `gatehouse up --https` made there, as the server itself does; it is name-constrained to local names.
 */
function trustLocalCa(dataDir: string): void {
  const caFile = path.join(dataDir, 'tls', 'ca.pem');
  if (!existsSync(caFile)) return;
  const caPem = readFileSync(caFile, 'utf8');
  const trusted = getCACertificates('default');
  if (!trusted.includes(caPem)) setDefaultCACertificates([...trusted, caPem]);
}
