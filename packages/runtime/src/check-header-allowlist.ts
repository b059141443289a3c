import { ConfigError, type GatehouseConfig } from '@gatehouse/core';

const CUSTOM_PREFIX = 'x-amzn-bedrock-agentcore-runtime-custom-';
/** AgentCore's restricted request headers (REFERENCE §1.8): never forwardable, whatever the allowlist says. */
const RESTRICTED = new Set([
  'proxy-authorization', 'www-authenticate', 'connection', 'keep-alive', 'upgrade', 'host', 'user-agent', 'referer', 'from', 'range', 'te',
  'transfer-encoding', 'trailer', 'server', 'date', 'location', 'retry-after', 'cookie', 'set-cookie', 'origin', 'via', 'forwarded', 'x-real-ip',
  'x-requested-with', 'x-csrf-token', 'x-cache', 'x-served-by', 'link', 'cache-control', 'pragma', 'expires', 'etag', 'last-modified',
  'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range', 'age', 'vary', 'strict-transport-security',
  'content-security-policy', 'x-frame-options', 'x-content-type-options', 'x-xss-protection', 'referrer-policy', 'permissions-policy',
]);
const RESTRICTED_PREFIXES = ['accept', 'content-', 'access-control-', 'sec-', 'x-forwarded-', 'cf-', 'x-amz-', 'proxy-', ':'];

/**
 * Validates `requestHeaderAllowlist` at start with AgentCore's rules, so a header that must never
 * reach an agent (Cookie, Host, X-Amz-*, …) is a configuration error naming the entry, not a leak.
 */
export function checkHeaderAllowlists(config: Readonly<GatehouseConfig>): void {
  const issues: string[] = [];
  (config.runtimes ?? []).forEach((runtime, index) => {
    const names = runtime.requestHeaderConfiguration?.requestHeaderAllowlist ?? [];
    const seen = new Set<string>();
    names.forEach((name, position) => {
      const lower = name.toLowerCase();
      const where = `runtimes[${index}].requestHeaderConfiguration.requestHeaderAllowlist[${position}]`;
      if (seen.has(lower)) issues.push(`${where}: "${name}" is listed twice`);
      seen.add(lower);
      if (!/^[A-Za-z][A-Za-z0-9_-]{0,255}$/.test(name)) issues.push(`${where}: "${name}" is not a header name (letters, digits, - and _)`);
      else if (lower === 'authorization') {
        if (!runtime.authorizerConfiguration) issues.push(`${where}: Authorization can be allow-listed only on a runtime with a customJWTAuthorizer`);
      } else if (lower.startsWith(CUSTOM_PREFIX)) {
        // Always allowed: the prefix exists for this.
      } else if (RESTRICTED.has(lower) || RESTRICTED_PREFIXES.some((prefix) => lower.startsWith(prefix)) || lower.startsWith('x-amzn-')) {
        issues.push(`${where}: "${name}" is a restricted header; use Authorization or the X-Amzn-Bedrock-AgentCore-Runtime-Custom- prefix`);
      }
    });
  });
  if (issues.length > 0) throw new ConfigError('configuration', issues);
}
