/** RFC 9728 §3.1 path rule: `{origin}/.well-known/oauth-protected-resource{path}` for a resource at `{origin}{path}`. */
export function protectedResourceMetadataUrl(resourceUrl: string): string {
  const url = new URL(resourceUrl);
  return `${url.origin}/.well-known/oauth-protected-resource${url.pathname === '/' ? '' : url.pathname}`;
}

/** The PRM document MCP clients read to find where to sign in. */
export function protectedResourceMetadata(resourceUrl: string, issuer: string, scopes: readonly string[], name: string): Record<string, unknown> {
  return {
    resource: resourceUrl,
    authorization_servers: [issuer],
    scopes_supported: scopes.filter((scope) => scope !== 'offline_access'),
    bearer_methods_supported: ['header'],
    resource_name: name,
  };
}
