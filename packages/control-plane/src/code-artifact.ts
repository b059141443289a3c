import { spawn } from 'node:child_process';
import { mkdir, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { freePort } from '@gatehouse/core';
import path from 'node:path';
import { CodeZipError, readZip, safeEntryName } from './code-zip.ts';

/** Reads an object of the local sandbox S3 (bounded), as the account that owns the bucket. */
export interface CodeSource {
  getObject(accountId: string, bucket: string, key: string, maxBytes: number): Promise<Buffer>;
}

/** A refusal to unpack or run a code zip; its message becomes the version's failureReason. */
export class CodeArtifactError extends Error {
  readonly code = 'code_artifact_failed';
}

const MAX_ZIP_BYTES = 100 * 1024 * 1024;
const MAX_UNPACKED_BYTES = 500 * 1024 * 1024;
const MAX_ENTRIES = 20_000;
const PING_TIMEOUT_MS = 15_000;

export interface CodeConfiguration {
  readonly code: { readonly s3: { readonly bucket: string; readonly prefix: string } };
  readonly runtime: string;
  readonly entryPoint: readonly string[];
}

/** How a prepared version is run: Gatehouse's own field on the stored version (never taken from a caller). */
export interface PreparedCode {
  readonly command: readonly string[];
  readonly cwd: string;
}

/** `{dataDir}/runtime-code/{runtimeId}`: every unpacked version of one runtime, removed with it. */
export function runtimeCodeDirectory(dataDir: string, runtimeId: string): string {
  return path.join(dataDir, 'runtime-code', runtimeId);
}

/** The command and directory of an unpacked version: the project's node for NODE_* runtimes, python3 for PYTHON_*. */
export function codeCommand(configuration: CodeConfiguration, home: { readonly dataDir: string; readonly nodePath: string }, runtimeId: string, version: string): PreparedCode {
  const entry = safeEntryName(configuration.entryPoint[configuration.entryPoint.length - 1] ?? '');
  const command = configuration.runtime.startsWith('NODE_') ? [home.nodePath, entry] : ['python3', entry];
  return { command, cwd: path.join(runtimeCodeDirectory(home.dataDir, runtimeId), version) };
}

/**
 * Fetches the version's zip from the sandbox S3 (the bucket of the account named in roleArn, as AWS reads it
 * with the execution role), checks it, unpacks it into `runtime-code/{id}/{version}` (0700) and starts the entry
 * point once to see it answer GET /ping. Any failure removes what was written and throws a CodeArtifactError
 * naming the cause.
 */
export async function prepareCode(options: {
  readonly source: CodeSource;
  readonly dataDir: string;
  readonly runtimeId: string;
  readonly version: string;
  readonly roleArn: string;
  readonly configuration: CodeConfiguration;
  readonly nodePath: string;
  /** How long the agent has to answer GET /ping; default 15 s. */
  readonly startTimeoutMs?: number;
  readonly probeAgent?: CodeProbe | undefined;
}): Promise<void> {
  const { configuration } = options;
  const accountId = /^arn:aws[^:]*:iam::([0-9]{12}):/.exec(options.roleArn)?.[1];
  if (!accountId) throw new CodeArtifactError('roleArn names no account: give arn:aws:iam::{sandbox account}:role/{name}, the account whose bucket holds the code zip');
  const { bucket, prefix } = configuration.code.s3;
  let zip: Buffer;
  try {
    zip = await options.source.getObject(accountId, bucket, prefix, MAX_ZIP_BYTES);
  } catch (error) {
    throw new CodeArtifactError(`could not read s3://${bucket}/${prefix} in account ${accountId}: ${(error as Error).message}`);
  }
  const entry = configuration.entryPoint[configuration.entryPoint.length - 1] ?? '';
  let entryName: string;
  let files;
  try {
    entryName = safeEntryName(entry);
    files = readZip(zip, { maxUncompressedBytes: MAX_UNPACKED_BYTES, maxEntries: MAX_ENTRIES });
  } catch (error) {
    if (error instanceof CodeZipError) throw new CodeArtifactError(`code zip s3://${bucket}/${prefix} refused: ${error.message}`);
    throw error;
  }
  if (!files.some((file) => file.name === entryName)) throw new CodeArtifactError(`entry point ${JSON.stringify(entry)} is not a file in s3://${bucket}/${prefix}; put it at the zip's root or name its path inside the zip`);

  const runtimeDirectory = runtimeCodeDirectory(options.dataDir, options.runtimeId);
  const target = path.join(runtimeDirectory, options.version);
  const partial = path.join(runtimeDirectory, `.partial-${options.version}`);
  const { command } = codeCommand(configuration, options, options.runtimeId, options.version);
  try {
    // The runtime's directory stays private; inside it the code is world-readable, because an isolated agent
    // runs as an unprivileged user that sees only its own version directory (mounted back into its namespace).
    await mkdir(runtimeDirectory, { recursive: true, mode: 0o700 });
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { mode: 0o755 });
    for (const file of files) {
      const destination = path.join(partial, ...file.name.split('/'));
      await mkdir(path.dirname(destination), { recursive: true, mode: 0o755 });
      await writeFile(destination, file.data, { mode: 0o644, flag: 'wx' });
    }
    await probeCode(command, partial, { probeAgent: options.probeAgent, timeoutMs: options.startTimeoutMs });
    await rm(target, { recursive: true, force: true });
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    await removeIfEmpty(runtimeDirectory);
    if (error instanceof CodeArtifactError) throw error;
    throw new CodeArtifactError(`could not unpack the code zip into the data dir (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

async function removeIfEmpty(directory: string): Promise<void> {
  try {
    if ((await readdir(directory)).length === 0) await rmdir(directory);
  } catch {
    // Already gone, or still holding other versions.
  }
}

/** Starts an agent in a sandbox until GET /ping answers; resolves false when sandboxes are unavailable here. */
export type CodeProbe = (command: readonly string[], cwd: string, timeoutMs: number) => Promise<boolean>;

/**
 * In the runtime's sandbox where there is one, so an agent that binds 0.0.0.0:8080 (as AgentCore agents do) is
 * READY; else on PORT. Only the first sentence of a failure is kept: the agent's output carries this host's paths.
 */
export async function probeCode(command: readonly string[], cwd: string, options: { readonly probeAgent?: CodeProbe | undefined; readonly timeoutMs?: number | undefined }): Promise<void> {
  const timeoutMs = options.timeoutMs ?? PING_TIMEOUT_MS;
  const sandboxProbe = options.probeAgent;
  if (sandboxProbe) {
    try {
      if (await sandboxProbe(command, cwd, timeoutMs)) return;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const exited = /exited with code (\S+) before GET \/ping answered/.exec(message);
      if (exited) throw new CodeArtifactError(`the agent exited (code ${exited[1]}) before answering GET /ping in its sandbox; run the entry point locally to see why`);
      if (message.includes('time exceeded')) throw new CodeArtifactError(`the agent never answered GET /ping within ${timeoutMs / 1000} s in its sandbox; it must listen on port 8080 (or $PORT) and answer /ping with 200`);
      throw new CodeArtifactError(`the agent could not be started in its sandbox: ${message.split(' Last lines of its stderr')[0]!.replace(/^Runtime initialization failed: /, '')}`);
    }
  }
  await probe(command, cwd, timeoutMs);
}

/**
 * Starts the agent with PORT set (and only host basics in its environment) until GET /ping answers 200, then stops it.
 * Throws a CodeArtifactError naming the cause: not found, exited, or never answered.
 */
async function probe(command: readonly string[], cwd: string, timeoutMs = PING_TIMEOUT_MS): Promise<void> {
  const port = await freePort();
  const env: Record<string, string> = { PORT: String(port) };
  for (const name of ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR']) if (process.env[name]) env[name] = process.env[name];
  const child = spawn(command[0]!, command.slice(1), { cwd, env, stdio: 'ignore' });
  let exited: number | null | undefined;
  let spawnError: NodeJS.ErrnoException | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  child.on('error', (error) => {
    spawnError = error;
  });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (spawnError?.code === 'ENOENT') throw new CodeArtifactError(`command not found: ${path.basename(command[0]!)} (ENOENT); is it installed on the Gatehouse host, at that path?`);
      if (spawnError) throw new CodeArtifactError(`could not start ${path.basename(command[0]!)} (${spawnError.code ?? 'error'}); is it an executable file?`);
      // Its output is not quoted: tracebacks carry this host's paths.
      if (exited !== undefined) throw new CodeArtifactError(`the agent exited (code ${exited}) before answering GET /ping; run the entry point locally with PORT set to see why`);
      const answered = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(1000) }).then((response) => response.status === 200, () => false);
      if (answered) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new CodeArtifactError(`the agent never answered GET /ping on $PORT within ${timeoutMs / 1000} s; it must listen on 127.0.0.1:$PORT and answer /ping with 200`);
  } finally {
    if (exited === undefined && !spawnError) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
  }
}
