import { CognitoError } from './cognito-error.ts';

/**
 * The standard attributes a Cognito user pool knows (OpenID Connect Core §5.1 plus Cognito's own
 * `*_verified`). `sub` is standard but never writable: the pool assigns it.
 */
export const STANDARD_ATTRIBUTES: ReadonlySet<string> = new Set([
  'address', 'birthdate', 'email', 'email_verified', 'family_name', 'gender', 'given_name', 'locale', 'middle_name', 'name', 'nickname',
  'phone_number', 'phone_number_verified', 'picture', 'preferred_username', 'profile', 'updated_at', 'website', 'zoneinfo',
]);

/** Claims the token minter owns; no attribute may ever set them (Cognito's list plus the JWT and OIDC registered ones). */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'auth_time', 'token_use', 'username', 'client_id', 'scope', 'nonce', 'jti', 'origin_jti', 'event_id',
  'at_hash', 'c_hash', 'acr', 'amr', 'azp', 'act', 'cnf', 'identities', 'device_key', 'version',
]);

const CUSTOM_PREFIX = 'custom:';
// Cognito: a custom attribute's own name is 1–20 characters
const CUSTOM_NAME = /^custom:[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,20}$/u;

/** True for a name that may be stored on a user and copied into an ID token: a standard attribute or `custom:…`. */
export function isUserAttributeName(name: string): boolean {
  if (RESERVED_CLAIMS.has(name) || name.startsWith('cognito:')) return false;
  return STANDARD_ATTRIBUTES.has(name) || CUSTOM_NAME.test(name);
}

/**
 * Turns a `[{Name, Value}]` list from a request into the attributes to store. Anything that is not a standard
 * or `custom:` attribute is refused with InvalidParameterException naming it, before anything is written.
 */
export function parseUserAttributes(list: readonly { Name: string; Value?: string | undefined }[]): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const { Name: name, Value: value } of list) {
    checkAttributeName(name);
    if (Object.hasOwn(attributes, name)) throw new CognitoError('InvalidParameterException', `Attribute ${name} was sent more than once; send each attribute once.`);
    attributes[name] = value ?? '';
  }
  return attributes;
}

export function checkAttributeName(name: string): void {
  if (name === 'sub') throw new CognitoError('InvalidParameterException', 'Cannot modify the non-mutable attribute sub: the user pool assigns it.');
  if (isUserAttributeName(name)) return;
  const hint = name.startsWith(CUSTOM_PREFIX)
    ? 'a custom attribute name is custom: followed by 1–20 characters'
    : `use a standard attribute (${[...STANDARD_ATTRIBUTES].slice(0, 5).join(', ')}, …) or a custom: one`;
  throw new CognitoError('InvalidParameterException', `Attributes did not conform to the schema: ${name}: Attribute does not exist in the schema; ${hint}.`);
}

/** The stored attributes that may be shown as claims (userInfo): user attributes only, never a reserved name. */
export function userAttributeClaims(attributes: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(attributes).filter(([name]) => isUserAttributeName(name)));
}

/**
 * The attributes after an update: a changed `email` or `phone_number` is no longer verified unless the caller
 * (an administrator) sets its `*_verified` in the same call; a user may never set `*_verified` themselves.
 */
export function mergeAttributes(current: Readonly<Record<string, string>>, changes: Readonly<Record<string, string>>, by: 'admin' | 'user'): Record<string, string> {
  const next = { ...current };
  for (const [name, value] of Object.entries(changes)) {
    if (by === 'user' && name.endsWith('_verified')) {
      throw new CognitoError('InvalidParameterException', `${name} cannot be set by the user; it becomes true when the code sent to the address is verified, or an administrator sets it.`);
    }
    for (const address of ['email', 'phone_number']) {
      if (name === address && value !== current[address] && !Object.hasOwn(changes, `${address}_verified`)) next[`${address}_verified`] = 'false';
    }
    next[name] = value;
  }
  return next;
}
