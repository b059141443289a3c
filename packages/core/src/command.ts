import type { GatehouseConfig } from './config/config.ts';

/** What a `gatehouse <verb>` handler gets. Handlers print through `stdout`/`stderr` and return an exit code. */
export interface CommandContext {
  readonly config: Readonly<GatehouseConfig>;
  /** The file `config` was read from, when there was one (relative paths in it start at its directory). */
  readonly configFile?: string | undefined;
  readonly dataDir: string;
  readonly baseUrl: string;
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
}

export type CommandHandler = (args: readonly string[], context: CommandContext) => Promise<number>;
