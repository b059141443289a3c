// The code-zip reader refuses hostile archives before anything is written, and reads honest ones byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { CodeZipError, readZip } from '../src/code-zip.ts';

const LIMITS = { maxUncompressedBytes: 1024 * 1024, maxEntries: 100 };

/**
 * A zip made by Python's zipfile from a list of [name, content, unixMode?] (names written as given, so hostile
 * ones can be made), deflated.
 */
function pythonZip(entries: readonly (readonly [string, string, number?])[]): Buffer {
  const script = [
    'import io, json, sys, zipfile',
    'buffer = io.BytesIO()',
    'with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:',
    '    for entry in json.loads(sys.stdin.read()):',
    '        info = zipfile.ZipInfo("x")',
    '        info.filename = entry[0]',
    '        info.compress_type = zipfile.ZIP_DEFLATED',
    '        if len(entry) > 2:',
    '            info.create_system = 3',
    '            info.external_attr = entry[2] << 16',
    '        z.writestr(info, entry[1])',
    'sys.stdout.buffer.write(buffer.getvalue())',
  ].join('\n');
  return execFileSync('python3', ['-c', script], { input: JSON.stringify(entries), maxBuffer: 64 * 1024 * 1024 });
}

test('an honest zip is read with its nested paths and exact contents (positive control)', () => {
  const files = readZip(pythonZip([['main.py', 'print(1)'], ['pkg/mod.py', 'x = 2'], ['pkg/', '']]), LIMITS);
  assert.deepEqual(files.map((file) => [file.name, file.data.toString()]), [['main.py', 'print(1)'], ['pkg/mod.py', 'x = 2']]);
});

for (const [label, name, pattern] of [
  ['a ../ entry', '../evil', /path traversal/],
  ['a nested ../ entry', 'pkg/../../evil', /path traversal/],
  ['an absolute entry', '/tmp/evil', /absolute path/],
  ['a drive-letter entry', 'C:/evil', /absolute path/],
  ['a backslash entry', '..\\evil', /backslash/],
] as const) {
  test(`${label} is refused, naming the entry`, () => {
    assert.throws(() => readZip(pythonZip([['main.py', 'ok'], [name, 'owned']]), LIMITS), (error: unknown) => error instanceof CodeZipError && pattern.test(error.message) && error.message.includes(JSON.stringify(name)));
  });
}

test('a symlink entry is refused', () => {
  assert.throws(() => readZip(pythonZip([['main.py', 'ok'], ['link', '/etc/passwd', 0o120777]]), LIMITS), /symbolic link/);
  // A regular file with Unix mode bits is fine.
  assert.equal(readZip(pythonZip([['main.py', 'ok', 0o100644]]), LIMITS).length, 1);
});

test('a zip unpacking past the bound is refused before inflating (a zip bomb stops at the limit)', () => {
  const bomb = pythonZip([['a.bin', '0'.repeat(700 * 1024)], ['b.bin', '0'.repeat(700 * 1024)]]);
  assert.ok(bomb.length < 20 * 1024, 'highly compressed');
  assert.throws(() => readZip(bomb, LIMITS), /unpacks to more than 1048576 bytes/);
  assert.throws(() => readZip(pythonZip([['a', '1'], ['b', '2'], ['c', '3']]), { ...LIMITS, maxEntries: 2 }), /at most 2 are accepted/);
});

test('an entry whose data does not match its directory (size or CRC) is refused; so is a non-zip', () => {
  const zip = pythonZip([['main.py', 'print("hello")']]);
  const tampered = Buffer.from(zip);
  // Flip a byte of the compressed data (right after the 30-byte local header and the 7-byte name).
  tampered[30 + 7 + 2] = tampered[30 + 7 + 2]! ^ 0xff;
  assert.throws(() => readZip(tampered, LIMITS), CodeZipError);
  assert.throws(() => readZip(Buffer.from('not a zip at all, just text'), LIMITS), /not a zip archive/);
});
