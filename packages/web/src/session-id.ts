/**
 * Conversation ids: AgentCore wants 33–256 characters. A UUID plus 8 more random hex characters gives 45,
 * all from the platform CSPRNG. The id names a conversation; it is not a credential (DESIGN invariant 4).
 */
export function newSessionId(): string {
  const extra = crypto.getRandomValues(new Uint8Array(4));
  return `${crypto.randomUUID()}-${Array.from(extra, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && /^[a-zA-Z0-9][a-zA-Z0-9-_]{32,99}$/.test(value);
}
