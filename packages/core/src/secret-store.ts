import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Secrets for API keys and client secrets: environment variable `GATEHOUSE_SECRET_<NAME>` (name
 * upper-cased, other characters as `_`) first, then `{dataDir}/secrets.json` (`{"name": "value"}`).
 * Read per call so a rotated secret takes effect without a restart.
 */
export function readSecret(name: string, dataDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const envName = `GATEHOUSE_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  const fromEnv = env[envName];
  if (fromEnv) return fromEnv;
  try {
    const secrets = JSON.parse(readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as unknown;
    if (secrets && typeof secrets === 'object' && !Array.isArray(secrets)) {
      const value = (secrets as Record<string, unknown>)[name];
      if (typeof value === 'string' && value.length > 0) return value;
    }
  } catch {
    // no secrets file, or not JSON: treated as "secret absent", which fails the call closed
  }
  return undefined;
}
