import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'rolldown';

/**
 * Bundles one TypeScript/JavaScript module and everything it imports into `{outDir}/{fileName}.mjs`,
 * the one file a Lambda function needs (handler `{fileName}.{export}`). The same module, not a copy:
 * what Gatehouse loads as a function target is what the Lambda runs.
 */
export async function bundleFunction(entry: string, outDir: string, fileName: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, `${fileName}.mjs`);
  await build({
    input: entry,
    platform: 'node',
    logLevel: 'silent',
    output: { file, format: 'esm', codeSplitting: false, minify: false, sourcemap: false },
  });
  return file;
}
