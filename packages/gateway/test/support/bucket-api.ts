import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { closeServer, listen } from '@gatehouse/core';

export interface BucketApi {
  readonly url: string;
  readonly apiKey: string;
  readonly requests: { method: string; path: string }[];
  readonly puts: { bucket: string; key: string; content: string; apiKey: string | undefined; authorization: string | undefined }[];
  close(): Promise<void>;
}

export const BUCKET_OPENAPI = JSON.stringify({
  openapi: '3.0.3',
  info: { title: 'Buckets', version: '1' },
  paths: {
    '/buckets/{bucket}/objects': {
      parameters: [{ name: 'bucket', in: 'path', required: true, schema: { type: 'string' } }],
      get: { operationId: 'bucket_objects_list', summary: 'List the objects in a bucket' },
    },
    '/buckets/{bucket}/objects/{key}': {
      parameters: [{ name: 'bucket', in: 'path', required: true, schema: { type: 'string' } }, { name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
      put: {
        operationId: 'bucket_objects_put',
        summary: 'Put an object into a bucket',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { content: { type: 'string' } } } } } },
      },
    },
  },
});

/** A small S3-like JSON API that requires its API key, recording every request it receives. */
export async function startBucketApi(): Promise<BucketApi> {
  const apiKey = randomBytes(16).toString('hex');
  const objects = new Map<string, Map<string, string>>([['reports', new Map([['q1.csv', 'a,b']])]]);
  const requests: BucketApi['requests'] = [];
  const puts: BucketApi['puts'] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ method: request.method ?? '', path: request.url ?? '' });
      response.setHeader('content-type', 'application/json');
      if (request.headers['x-api-key'] !== apiKey) return void response.writeHead(403).end('{"error":"AccessDenied"}');
      const parts = new URL(request.url ?? '/', 'http://x').pathname.split('/').map(decodeURIComponent);
      const bucket = objects.get(parts[2] ?? '');
      if (!bucket) return void response.writeHead(404).end('{"error":"NoSuchBucket"}');
      if (request.method === 'GET' && parts.length === 4) return void response.end(JSON.stringify({ bucket: parts[2], keys: [...bucket.keys()] }));
      if (request.method === 'PUT' && parts.length === 5) {
        const content = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { content: string }).content;
        bucket.set(parts[4]!, content);
        puts.push({ bucket: parts[2]!, key: parts[4]!, content, apiKey: request.headers['x-api-key'] as string, authorization: request.headers.authorization });
        return void response.end(JSON.stringify({ ok: true }));
      }
      response.writeHead(405).end('{"error":"MethodNotAllowed"}');
    });
  });
  const port = await listen(server, 0);
  return { url: `http://127.0.0.1:${port}`, apiKey, requests, puts, close: () => closeServer(server) };
}
