import path from 'node:path';
import { build } from 'vite';

/**
 * Bundles a browser entry module (and the npm packages it imports) into one ES module, in memory, with
 * the Vite the web UI already builds with. Test pages use it to load real client libraries unchanged.
 */
export async function bundlePage(entry: string): Promise<string> {
  const result = await build({
    configFile: false,
    logLevel: 'silent',
    root: path.dirname(entry),
    build: { write: false, minify: false, target: 'es2022', rollupOptions: { input: entry, output: { format: 'es', codeSplitting: false } } },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as { output: { type: string; code?: string; isEntry?: boolean }[] }[];
  const chunk = outputs.flatMap((output) => output.output).find((item) => item.type === 'chunk' && item.isEntry);
  if (!chunk?.code) throw new Error(`bundling ${entry} produced no entry chunk`);
  return chunk.code;
}
