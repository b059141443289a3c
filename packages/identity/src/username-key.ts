/**
 * The form two usernames are compared in: NFKC always (a fullwidth `ａｄｍｉｎ` is `admin`), and lower case unless
 * the pool is case-sensitive (Cognito's `UsernameConfiguration.CaseSensitive`, false by default). The username
 * itself is stored and shown as it was created.
 */
export function usernameKey(username: string, caseSensitive: boolean): string {
  const compatible = username.normalize('NFKC');
  return caseSensitive ? compatible : compatible.toLowerCase().normalize('NFKC');
}
