import { inflateRawSync, crc32 } from 'node:zlib';

/** Why a code zip was refused; the message names the entry or the limit and is safe to show the caller. */
export class CodeZipError extends Error {
  readonly code = 'invalid_code_zip';
}

export interface ZipLimits {
  /** Sum of the entries' uncompressed sizes. */
  readonly maxUncompressedBytes: number;
  readonly maxEntries: number;
}

export interface ZipFile {
  /** Normalized relative path with `/` separators. */
  readonly name: string;
  readonly data: Buffer;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const UNIX = 3;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/**
 * A relative path that stays inside the directory it is unpacked into, or a refusal naming the entry:
 * no absolute paths, drive letters, backslashes, NUL, or `.`/`..` segments.
 */
export function safeEntryName(raw: string): string {
  const shown = JSON.stringify(raw.slice(0, 200));
  if (raw.includes('\0') || raw.includes('\\')) throw new CodeZipError(`zip entry ${shown} contains a backslash or NUL; use plain relative paths`);
  if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw)) throw new CodeZipError(`zip entry ${shown} is an absolute path; entries must be relative to the zip's root`);
  const segments = raw.split('/').filter((segment, index, all) => !(segment === '' && index === all.length - 1));
  if (segments.length === 0 || segments.some((segment) => segment === '..' || segment === '.' || segment === '')) {
    throw new CodeZipError(`zip entry ${shown} leaves the unpack directory (path traversal: "..", "." or empty segments); rebuild the zip from inside the project directory`);
  }
  return segments.join('/');
}

/**
 * Reads every file of a zip held in memory, checking all of it before anything is written: entry names
 * (`safeEntryName`), no symlinks, no encryption or zip64, only stored/deflated entries, the declared sizes within
 * the limits, and each entry's inflated size and CRC-32 as declared (inflation is capped at the declared size,
 * so a zip bomb stops at the limit). Node's zlib does the inflating; see docs/dependencies.md.
 */
export function readZip(zip: Buffer, limits: ZipLimits): ZipFile[] {
  const end = findEndOfCentralDirectory(zip);
  const count = zip.readUInt16LE(end + 10);
  const directorySize = zip.readUInt32LE(end + 12);
  const directoryOffset = zip.readUInt32LE(end + 16);
  if (count === 0xffff || directoryOffset === 0xffffffff || directorySize === 0xffffffff) throw new CodeZipError('zip64 archives are not accepted; the code zip must stay under 100 MB');
  if (count > limits.maxEntries) throw new CodeZipError(`the zip has ${count} entries; at most ${limits.maxEntries} are accepted`);
  if (directoryOffset + directorySize > end) throw new CodeZipError('the zip is damaged (central directory out of bounds); rebuild it');
  const files: ZipFile[] = [];
  const seen = new Set<string>();
  let total = 0;
  let at = directoryOffset;
  for (let index = 0; index < count; index++) {
    if (at + 46 > end || zip.readUInt32LE(at) !== CENTRAL_ENTRY) throw new CodeZipError('the zip is damaged (bad central directory entry); rebuild it');
    const madeBy = zip.readUInt16LE(at + 4) >> 8;
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const externalAttributes = zip.readUInt32LE(at + 38);
    const localOffset = zip.readUInt32LE(at + 42);
    const rawName = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    const name = safeEntryName(rawName);
    if (madeBy === UNIX && ((externalAttributes >>> 16) & S_IFMT) === S_IFLNK) throw new CodeZipError(`zip entry ${JSON.stringify(rawName)} is a symbolic link; symlinks are not accepted (zip with --symlinks off)`);
    if (rawName.endsWith('/')) continue;
    if (flags & 1) throw new CodeZipError(`zip entry ${JSON.stringify(rawName)} is encrypted; upload an unencrypted zip`);
    if (method !== 0 && method !== 8) throw new CodeZipError(`zip entry ${JSON.stringify(rawName)} uses compression method ${method}; only stored and deflated entries are accepted`);
    if (seen.has(name)) throw new CodeZipError(`zip entry ${JSON.stringify(rawName)} appears twice`);
    seen.add(name);
    total += size;
    if (total > limits.maxUncompressedBytes) throw new CodeZipError(`the zip unpacks to more than ${limits.maxUncompressedBytes} bytes; at most that is accepted`);
    if (localOffset + 30 > directoryOffset || zip.readUInt32LE(localOffset) !== LOCAL_HEADER) throw new CodeZipError(`zip entry ${JSON.stringify(rawName)} is damaged; rebuild the zip`);
    const dataStart = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    if (dataStart + compressedSize > directoryOffset) throw new CodeZipError(`zip entry ${JSON.stringify(rawName)} is damaged; rebuild the zip`);
    const stored = zip.subarray(dataStart, dataStart + compressedSize);
    let data: Buffer;
    try {
      data = method === 0 ? Buffer.from(stored) : inflateRawSync(stored, { maxOutputLength: Math.max(size, 1) });
    } catch {
      throw new CodeZipError(`zip entry ${JSON.stringify(rawName)} does not inflate to its declared size; rebuild the zip`);
    }
    if (data.length !== size || crc32(data) !== crc) throw new CodeZipError(`zip entry ${JSON.stringify(rawName)} is damaged (size or CRC-32 differs from the zip's directory); rebuild the zip`);
    files.push({ name, data });
  }
  return files;
}

function findEndOfCentralDirectory(zip: Buffer): number {
  const earliest = Math.max(0, zip.length - 22 - 0xffff);
  for (let at = zip.length - 22; at >= earliest; at--) {
    if (zip.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY) return at;
  }
  throw new CodeZipError('the object is not a zip archive (no end of central directory); upload a .zip');
}
