import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { ControlPlaneContext } from './control-plane-context.ts';
import { ControlPlaneError } from './control-plane-error.ts';
import { CodeArtifactError, prepareCode, probeCode, runtimeCodeDirectory, type CodeConfiguration, type CodeProbe, type CodeSource } from './code-artifact.ts';
import type { CommandAgent } from './command-agent.ts';
import { RUNTIME_NOT_SERVED } from './runtime-operations.ts';

export interface VersionPreparationOptions {
  readonly context: ControlPlaneContext;
  readonly dataDir: string;
  /** The sandbox S3, when it runs in this process: code zips are read from it. */
  readonly codeSource: CodeSource | undefined;
  readonly probeAgent: CodeProbe | undefined;
  readonly startTimeoutMs: number;
}

/**
 * Runtime versions this instance starts before they are READY (a command probed, a code zip fetched, checked and
 * unpacked), and the unpacked code that goes when its runtime or version is deleted.
 */
export class VersionPreparation {
  readonly #options: VersionPreparationOptions;
  /** Runtimes with a version being started by this instance: updating or deleting them meanwhile is a ConflictException. */
  readonly #preparing = new Set<string>();

  constructor(options: VersionPreparationOptions) {
    this.#options = options;
  }

  /** A runtime (by id or name) whose new version this instance is starting cannot be updated or deleted meanwhile. */
  async refuseWhilePreparing(named: string): Promise<void> {
    const id = (await this.#options.context.store.byName<{ agentRuntimeId: string }>('runtime', named))?.body.agentRuntimeId ?? named;
    if (this.#preparing.has(id)) throw new ControlPlaneError('ConflictException', `Agent runtime ${id} has a version being started (CREATING/UPDATING); retry once GetAgentRuntime shows another status`);
  }

  /**
   * A command or code-zip version written CREATING/UPDATING by the call: start it (a zip fetched, checked and
   * unpacked first) until it answers /ping, then store it READY (marked prepared) or failed with the reason.
   * Nothing is left on disk for a failed version.
   */
  async prepare(result: unknown): Promise<void> {
    const { store } = this.#options.context;
    const answer = result as { agentRuntimeId?: unknown; agentRuntimeVersion?: unknown; status?: unknown } | undefined;
    if (!answer || (answer.status !== 'CREATING' && answer.status !== 'UPDATING')) return;
    const runtimeId = String(answer.agentRuntimeId);
    const versionNumber = String(answer.agentRuntimeVersion);
    const key = `${runtimeId}:${versionNumber}`;
    const stored = await store.get<Record<string, unknown>>('runtime-version', key);
    if (!stored) return;
    const version = stored.body;
    let next: Record<string, unknown>;
    this.#preparing.add(runtimeId);
    try {
      next = { ...version, status: 'READY', gatehouseCode: await this.#start(runtimeId, versionNumber, version) };
    } catch (error) {
      if (!(error instanceof CodeArtifactError)) throw error;
      next = { ...version, status: answer.status === 'CREATING' ? 'CREATE_FAILED' : 'UPDATE_FAILED', failureReason: error.message };
    } finally {
      this.#preparing.delete(runtimeId);
    }
    // Deleted meanwhile: drop what was unpacked for it.
    if (!await store.get('runtime', runtimeId)) {
      await rm(runtimeCodeDirectory(this.#options.dataDir, runtimeId), { recursive: true, force: true });
      return;
    }
    await store.update('runtime-version', key, next);
    (answer as { status: unknown }).status = next.status;
  }

  /** A deleted runtime's unpacked versions go with it (its sessions were ended by followRuntime), a deleted version's its own. */
  async removeCode(result: unknown, version: string | null): Promise<void> {
    const { store } = this.#options.context;
    const { dataDir } = this.#options;
    const id = (result as { agentRuntimeId?: unknown } | undefined)?.agentRuntimeId;
    if (typeof id !== 'string') return;
    if (!await store.get('runtime', id)) await rm(runtimeCodeDirectory(dataDir, id), { recursive: true, force: true });
    // One version deleted (?version=, checked to be a number): its unpacked zip goes too.
    else if (version !== null && !await store.get('runtime-version', `${id}:${version}`)) await rm(path.join(runtimeCodeDirectory(dataDir, id), version), { recursive: true, force: true });
  }

  /** Runs a version's agent once until it answers /ping (a zip is unpacked first); what to mark it with. */
  async #start(runtimeId: string, versionNumber: string, version: Record<string, unknown>): Promise<{ probed: true } | { unpacked: true }> {
    const { codeSource, probeAgent, startTimeoutMs, context } = this.#options;
    const agent = version.gatehouseAgent as CommandAgent | undefined;
    if (agent?.command) {
      const program = agent.command[0] !== undefined && path.isAbsolute(agent.command[0]) ? agent.command[0] : agent.command[1];
      if (program !== undefined && path.isAbsolute(program) && !existsSync(program)) throw new CodeArtifactError(`command not found: ${path.basename(program)} does not exist under its command root; create it, or update the runtime with the right path`);
      await probeCode(agent.command, agent.cwd ?? process.cwd(), { probeAgent, timeoutMs: startTimeoutMs });
      return { probed: true };
    }
    if (!codeSource) throw new CodeArtifactError(RUNTIME_NOT_SERVED);
    await prepareCode({
      source: codeSource,
      dataDir: this.#options.dataDir,
      runtimeId,
      version: versionNumber,
      roleArn: String(version.roleArn),
      configuration: (version.agentRuntimeArtifact as { codeConfiguration: CodeConfiguration }).codeConfiguration,
      nodePath: context.codeHome!.nodePath,
      startTimeoutMs,
      probeAgent,
    });
    return { unpacked: true };
  }
}
