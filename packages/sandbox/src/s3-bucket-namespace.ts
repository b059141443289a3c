// The bucket namespace: one s3rver holds every account's buckets as `{accountId}-{bucket}`.

/** Namespaced bucket name in the one s3rver: accounts never see each other's buckets. */
export function storedBucketName(accountId: string, bucket: string): string {
  return `${accountId}-${bucket}`;
}

/** Keeps only the caller's account's buckets in a ListAllMyBuckets answer, under their own names. */
export function onlyAccountBuckets(xml: string, accountId: string): string {
  const prefix = `${accountId}-`;
  return xml.replace(/<Bucket>\s*<Name>([^<]*)<\/Name>([\s\S]*?)<\/Bucket>/g, (_whole, name: string, rest: string) =>
    name.startsWith(prefix) ? `<Bucket><Name>${name.slice(prefix.length)}</Name>${rest}</Bucket>` : '');
}
