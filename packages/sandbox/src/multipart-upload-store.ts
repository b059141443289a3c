import { openPrivateDatabase, type Database } from '@gatehouse/core';

/** A multipart upload the sandbox S3 started, bound to the account, bucket and key it was started for. */
export interface MultipartUpload {
  readonly uploadId: string;
  readonly accountId: string;
  readonly bucket: string;
  readonly key: string;
  /** Epoch milliseconds. */
  readonly initiated: number;
  /** The ARN of the caller who started it (S3's Initiator). */
  readonly initiator: string;
}

export interface UploadedPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly size: number;
  /** Epoch milliseconds. */
  readonly lastModified: number;
}

interface UploadRow {
  upload_id: string;
  account_id: string;
  bucket: string;
  object_key: string;
  initiated: number;
  initiator: string;
}

interface PartRow {
  part_number: number;
  etag: string;
  size: number;
  last_modified: number;
}

function upload(row: UploadRow): MultipartUpload {
  return { uploadId: row.upload_id, accountId: row.account_id, bucket: row.bucket, key: row.object_key, initiated: row.initiated, initiator: row.initiator };
}

/**
 * The sandbox's record of open multipart uploads (in `{dataDir}/sandbox.db`). s3rver stores the parts but
 * neither lists uploads or parts nor aborts, and it binds an upload id to no bucket owner: this record answers
 * ListMultipartUploads and ListParts, and an upload id is honoured only for the account, bucket and key it
 * was started for.
 */
export class MultipartUploadStore {
  readonly #database: Database;
  readonly #insert;
  readonly #find;
  readonly #list;
  readonly #recordPart;
  readonly #parts;
  readonly #finish;

  constructor(file: string) {
    this.#database = openPrivateDatabase(file);
    this.#database.exec(`CREATE TABLE IF NOT EXISTS multipart_uploads (
      upload_id TEXT PRIMARY KEY,
      account_id TEXT NOT NULL,
      bucket TEXT NOT NULL,
      object_key TEXT NOT NULL,
      initiated INTEGER NOT NULL,
      initiator TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS multipart_parts (
      upload_id TEXT NOT NULL REFERENCES multipart_uploads (upload_id) ON DELETE CASCADE,
      part_number INTEGER NOT NULL,
      etag TEXT NOT NULL,
      size INTEGER NOT NULL,
      last_modified INTEGER NOT NULL,
      PRIMARY KEY (upload_id, part_number)
    )`);
    // Prepared once: every multipart request of the S3 front runs one or two of these.
    this.#insert = this.#database.prepare('INSERT INTO multipart_uploads VALUES (?, ?, ?, ?, ?, ?)');
    this.#find = this.#database.prepare('SELECT * FROM multipart_uploads WHERE upload_id = ? AND account_id = ? AND bucket = ? AND object_key = ?');
    this.#list = this.#database.prepare('SELECT * FROM multipart_uploads WHERE account_id = ? AND bucket = ? AND substr(object_key, 1, length(?)) = ? ORDER BY object_key, initiated');
    this.#recordPart = this.#database.prepare('INSERT OR REPLACE INTO multipart_parts VALUES (?, ?, ?, ?, ?)');
    this.#parts = this.#database.prepare('SELECT part_number, etag, size, last_modified FROM multipart_parts WHERE upload_id = ? ORDER BY part_number');
    this.#finish = this.#database.prepare('DELETE FROM multipart_uploads WHERE upload_id = ?');
  }

  start(started: MultipartUpload): void {
    this.#insert.run(started.uploadId, started.accountId, started.bucket, started.key, started.initiated, started.initiator);
  }

  /** The upload, only if it was started in this account and bucket (and for this key, when one is given). */
  find(uploadId: string, accountId: string, bucket: string, key: string): MultipartUpload | undefined {
    const row = this.#find.get(uploadId, accountId, bucket, key) as UploadRow | undefined;
    return row ? upload(row) : undefined;
  }

  list(accountId: string, bucket: string, prefix: string): MultipartUpload[] {
    const rows = this.#list.all(accountId, bucket, prefix, prefix) as unknown as UploadRow[];
    return rows.map(upload);
  }

  recordPart(uploadId: string, part: UploadedPart): void {
    this.#recordPart.run(uploadId, part.partNumber, part.etag, part.size, part.lastModified);
  }

  parts(uploadId: string): UploadedPart[] {
    const rows = this.#parts.all(uploadId) as unknown as PartRow[];
    return rows.map((row) => ({ partNumber: row.part_number, etag: row.etag, size: row.size, lastModified: row.last_modified }));
  }

  finish(uploadId: string): void {
    this.#finish.run(uploadId);
  }

  close(): void {
    if (this.#database.isOpen) this.#database.close();
  }
}
