/** Cognito's default policy: at least 8 characters with a lower-case letter, an upper-case letter, a digit and a symbol; no edge whitespace. */
export function passwordPolicyProblem(password: string): string | undefined {
  if (password.length < 8) return 'Password not long enough';
  if (password.length > 256) return 'Password is too long';
  if (password.trim() !== password) return 'Password must not begin or end with whitespace';
  if (!/[a-z]/.test(password)) return 'Password must have lowercase characters';
  if (!/[A-Z]/.test(password)) return 'Password must have uppercase characters';
  if (!/[0-9]/.test(password)) return 'Password must have numeric characters';
  if (!/[^A-Za-z0-9\s]/.test(password)) return 'Password must have symbol characters';
  return undefined;
}

/** The policy above as a person reads it, for pages that ask for a new password. */
export const PASSWORD_POLICY_TEXT = 'Use at least 8 characters, with a lower-case letter, an upper-case letter, a digit and a symbol.';
