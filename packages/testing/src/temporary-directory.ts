/**
 * A scratch directory for the tests of one file or one describe block, removed when they are done.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

/**
 * A fresh directory under the system temp dir (`prefix` plus random characters), removed after the tests of the
 * file, or of the describe block whose body calls it. Call it at the top level or in a describe body, not in a test.
 */
export function temporaryDirectory(prefix: string): string {
  const directory = mkdtempSync(path.join(tmpdir(), prefix));
  after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}
