import { S3Error } from './s3-error.ts';
import { escapeXml } from './xml.ts';

/*
 * s3rver 3.7 builds ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node ≥ 17) no longer offers, so
 * any truncated V2 listing fails there. The front asks s3rver for a V1 (marker) listing instead and answers in V2
 * shape, with its own opaque continuation token (the last key returned, base64url).
 */
const TOKEN_PREFIX = 'gh1:';

export function listV2AsV1(query: URLSearchParams): URLSearchParams {
  const upstream = new URLSearchParams();
  for (const [name, value] of query) {
    if (!['list-type', 'continuation-token', 'start-after', 'fetch-owner'].includes(name)) upstream.append(name, value);
  }
  const token = query.get('continuation-token');
  let marker = query.get('start-after') ?? undefined;
  if (token) {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    if (!decoded.startsWith(TOKEN_PREFIX)) throw new S3Error('InvalidRequest', 'The continuation token provided is incorrect');
    marker = decoded.slice(TOKEN_PREFIX.length);
  }
  if (marker) upstream.set('marker', marker);
  return upstream;
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|apos|quot);/g, (_whole, name: string) => ({ lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' })[name] ?? '');
}

export function v1ListingAsV2(xml: string, query: URLSearchParams): string {
  const keys = [...xml.matchAll(/<Contents>\s*<Key>([^<]*)<\/Key>/g)].map((match) => unescapeXml(match[1] ?? ''));
  const prefixes = [...xml.matchAll(/<CommonPrefixes>\s*<Prefix>([^<]*)<\/Prefix>/g)].map((match) => unescapeXml(match[1] ?? ''));
  const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
  const last = [...keys, ...prefixes].sort().at(-1);
  const token = query.get('continuation-token');
  const startAfter = query.get('start-after');
  const extra = `<KeyCount>${keys.length + prefixes.length}</KeyCount>`
    + (token ? `<ContinuationToken>${escapeXml(token)}</ContinuationToken>` : '')
    + (startAfter && !token ? `<StartAfter>${escapeXml(startAfter)}</StartAfter>` : '')
    + (truncated && last !== undefined ? `<NextContinuationToken>${Buffer.from(TOKEN_PREFIX + last).toString('base64url')}</NextContinuationToken>` : '');
  return xml
    .replace(/<Marker>[^<]*<\/Marker>/, '')
    .replace(/<NextMarker>[^<]*<\/NextMarker>/, '')
    .replace(/<Owner>\s*<ID>[^<]*<\/ID>\s*<DisplayName>[^<]*<\/DisplayName>\s*<\/Owner>/g, '')
    .replace(/(<ListBucketResult[^>]*>)/, `$1${extra}`);
}
