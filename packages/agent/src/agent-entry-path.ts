import { fileURLToPath } from 'node:url';

/** Absolute path of the reference agent's entry, for the runtime's default `agent.command`. */
export const agentEntryPath: string = fileURLToPath(new URL('./main.ts', import.meta.url));
