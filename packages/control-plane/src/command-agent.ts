import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fieldError } from './control-plane-error.ts';

/** Interpreters taken by bare name (found on PATH); the script after them is what must lie under a root. */
const INTERPRETERS: ReadonlySet<string> = new Set(['node', 'python3', 'python', 'sh', 'bash']);

const FIX = 'list the directory in gatehouse.yaml controlPlane.commandRoots, or give gatehouseAgent.url';

/** A local command agent as stored and run: absolute paths only. */
export interface CommandAgent {
  readonly command: readonly string[];
  readonly cwd: string;
}

/** The path as it really is (symlinks followed) when it exists, else as written: a missing program fails at start, saying so. */
function real(file: string): string {
  return existsSync(file) ? realpathSync(file) : path.resolve(file);
}

function inside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

/** The configured roots, resolved once (relative ones against the directory Gatehouse started in). */
export function commandRoots(roots: readonly string[]): string[] {
  return roots.map((root) => real(path.resolve(root)));
}

/**
 * Gatehouse's `gatehouseAgent: {"command": [...], "cwd"?: ...}` checked against `controlPlane.commandRoots`: the
 * program (or, for `node`/`python3`/`python`/`sh`/`bash` by bare name, the script after it — never a flag such as
 * `-c`) and the working directory must resolve, symlinks followed, inside one root. Returns the command with that
 * path made absolute, and the working directory (default: the program's or script's directory).
 */
export function checkCommand(value: unknown, cwdValue: unknown, roots: readonly string[]): CommandAgent {
  if (roots.length === 0) throw fieldError('gatehouseAgent.command', `local commands are off on this Gatehouse: ${FIX}`);
  if (!Array.isArray(value) || value.length === 0 || value.length > 64 || !value.every((item) => typeof item === 'string' && item.length > 0 && item.length <= 4096)) {
    throw fieldError('gatehouseAgent.command', 'must be a list of 1 to 64 non-empty strings: the program and its arguments, e.g. ["python3", "/srv/agents/echo/main.py"]');
  }
  if (cwdValue !== undefined && (typeof cwdValue !== 'string' || !path.isAbsolute(cwdValue))) throw fieldError('gatehouseAgent.cwd', 'must be an absolute directory path');
  const command = [...value] as string[];
  const index = INTERPRETERS.has(command[0]!) ? 1 : 0;
  const subject = command[index];
  if (subject === undefined || subject.startsWith('-')) {
    throw fieldError('gatehouseAgent.command', `${command[0]!} must be followed by the script to run (a path under controlPlane.commandRoots), not by a flag`);
  }
  if (!path.isAbsolute(subject) && cwdValue === undefined) throw fieldError('gatehouseAgent.command', `${subject} is relative: give an absolute path, or gatehouseAgent.cwd`);
  const file = real(path.resolve((cwdValue as string | undefined) ?? '/', subject));
  const root = roots.find((entry) => inside(entry, file));
  if (!root) throw fieldError('gatehouseAgent.command', `${subject} is outside the directories this Gatehouse may run programs from: ${FIX}`);
  const cwd = cwdValue === undefined ? path.dirname(file) : real(cwdValue as string);
  if (cwd !== root && !inside(root, cwd)) throw fieldError('gatehouseAgent.cwd', `must be inside the same command root as the program (${root})`);
  command[index] = file;
  return { command, cwd };
}

/** Whether a stored command agent may still run here (the roots of this instance may differ from the one that stored it). */
export function commandAllowed(agent: CommandAgent, roots: readonly string[]): boolean {
  try {
    const checked = checkCommand(agent.command, agent.cwd, roots);
    return checked.command.join('\0') === agent.command.join('\0') && checked.cwd === agent.cwd;
  } catch {
    return false;
  }
}
