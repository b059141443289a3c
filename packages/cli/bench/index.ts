import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { parseConfig, type BenchSection } from '@gatehouse/core';
import { startTestPostgres } from '@gatehouse/core/test-postgres';
import { identityCommands } from '@gatehouse/identity';
import { AuditLog } from '../../gateway/src/audit-log.ts';
import { startIdentity } from '@gatehouse/testing/start-identity';

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function timed(count: number, run: (index: number) => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let index = 0; index < count; index++) {
    const started = performance.now();
    await run(index);
    samples.push(performance.now() - started);
  }
  return median(samples);
}

interface EngineFigures {
  readonly signIn: number;
  readonly refresh: number;
  readonly audit: number;
}

async function measure(database: string | undefined): Promise<EngineFigures> {
  const running = await startIdentity(database ? { database } : {});
  const cognito = new CognitoIdentityProviderClient({ endpoint: running.baseUrl, region: 'local', credentials: { accessKeyId: 'AKIAUNUSED00000000000', secretAccessKey: 'unused' } });
  const auditDir = mkdtempSync(path.join(tmpdir(), 'gh-bench-audit-'));
  const audit = await AuditLog.open({ dataDir: auditDir, database });
  try {
    const quiet = { config: parseConfig(database ? { database } : {}), dataDir: running.dataDir, baseUrl: running.baseUrl, stdout: () => {}, stderr: () => {} };
    await identityCommands.users(['create', 'bench', '--password', 'Bench-Password-1'], quiet);
    const clientId = running.identity.defaultPool.webClientId;
    const signIn = () => cognito.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'bench', PASSWORD: 'Bench-Password-1' } }));
    let refreshToken = (await signIn()).AuthenticationResult!.RefreshToken!;
    const refresh = async (): Promise<void> => {
      const result = await cognito.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: clientId, AuthParameters: { REFRESH_TOKEN: refreshToken } }));
      refreshToken = result.AuthenticationResult?.RefreshToken ?? refreshToken;
    };
    await timed(5, refresh);
    const row = (index: number) => ({
      time: new Date().toISOString(), gateway: 'default', user: 'bench', issuer: 'https://issuer', clientId: 'c', session: 's', tool: 'ops___call_aws',
      target: 'ops', decision: 'allow' as const, outcome: 'ok' as const, durationMs: index, detail: '',
    });
    return { signIn: await timed(30, signIn), refresh: await timed(200, refresh), audit: await timed(500, (index) => audit.record(row(index))) };
  } finally {
    cognito.destroy();
    await audit.close();
    await running.close();
    rmSync(auditDir, { recursive: true, force: true });
  }
}

/** Sign-in, token refresh and a tool call's audit write on SQLite (data dir) and PostgreSQL (loopback, fsync on), one after the other. */
export async function bench(): Promise<BenchSection[]> {
  const server = await startTestPostgres({ durable: true });
  try {
    const sqlite = await measure(undefined);
    const postgres = await measure(await server.createDatabase('bench'));
    const rows = (name: string, pick: (figures: EngineFigures) => number, note: string) => [
      { name: `${name}, SQLite`, value: pick(sqlite), unit: 'ms p50', note },
      { name: `${name}, PostgreSQL`, value: pick(postgres), unit: 'ms p50', note: `${(pick(postgres) / pick(sqlite)).toFixed(2)}× SQLite` },
    ];
    return [{
      title: 'Durable state: SQLite vs PostgreSQL (issue 19)',
      rows: [
        ...rows('sign-in (InitiateAuth USER_PASSWORD_AUTH, HTTP)', (figures) => figures.signIn, 'scrypt password check dominates'),
        ...rows('token refresh (REFRESH_TOKEN_AUTH, rotation in one transaction)', (figures) => figures.refresh, 'SERIALIZABLE on PostgreSQL'),
        ...rows('audit write of one tool call (committed before the answer)', (figures) => figures.audit, 'SQLite WAL synchronous=NORMAL; PostgreSQL commit with fsync'),
      ],
      notes: ['PostgreSQL 15 from Debian on the same machine over loopback (a throwaway initdb, fsync on); sequential calls, one client.'],
    }];
  } finally {
    await server.dispose();
  }
}
