import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Vite from 'vite';

/** The web UI's sources in this checkout (absent in an install that ships only `dist`). */
export const webSourceDirectory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');

export type WebUiState = 'present' | 'built' | 'unavailable';

/**
 * Makes sure `distDirectory/index.html` exists before `gatehouse up` serves it: a fresh clone has only
 * the sources, so the UI is built here with the Vite already installed by `npm install` (no network).
 * The build goes to a temporary sibling and is renamed into place, so two instances starting at once
 * never serve a half-written directory. Without Vite or sources it reports why and `/` explains.
 */
export async function ensureWebUi(distDirectory: string, report: (line: string) => void, sourceDirectory = webSourceDirectory): Promise<WebUiState> {
  if (existsSync(path.join(distDirectory, 'index.html'))) return 'present';
  const configFile = path.join(sourceDirectory, 'vite.config.ts');
  const manual = 'run `npm run build -w @gatehouse/web` in the Gatehouse checkout';
  if (!existsSync(configFile)) {
    report(`The web UI is not built and its sources are not here (${manual}); the APIs work without it.`);
    return 'unavailable';
  }
  let vite: typeof Vite;
  try {
    vite = await import('vite');
  } catch {
    report(`The web UI is not built and Vite is not installed (run \`npm install\`, then ${manual}); the APIs work without it.`);
    return 'unavailable';
  }
  report('Building the web UI (first start, a few seconds)…');
  const parent = path.dirname(distDirectory);
  const staging = mkdtempSync(path.join(parent, `.${path.basename(distDirectory)}-building-`));
  try {
    await vite.build({ root: sourceDirectory, configFile, logLevel: 'warn', build: { outDir: staging, emptyOutDir: true } });
    if (existsSync(path.join(distDirectory, 'index.html'))) return 'present';
    rmSync(distDirectory, { recursive: true, force: true });
    renameSync(staging, distDirectory);
    return 'built';
  } catch (error) {
    report(`Building the web UI failed (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); ${manual} to see why. The APIs work without it.`);
    return 'unavailable';
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
