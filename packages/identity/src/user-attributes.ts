import { CognitoError } from './cognito-error.ts';
import type { UserRecord } from './user-store.ts';

/**
 * The standard attributes of a Cognito user pool's schema in Cognito's order (OpenID Connect Core §5.1 plus
 * Cognito's own `*_verified`), as DescribeUserPool lists them. `sub` is among them but never writable: the pool assigns it.
 */
export const SCHEMA_ATTRIBUTES: readonly string[] = [
  'sub', 'name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture', 'website', 'email', 'email_verified',
  'gender', 'birthdate', 'zoneinfo', 'locale', 'phone_number', 'phone_number_verified', 'address', 'updated_at',
];

/** The standard attributes a request may write. */
export const STANDARD_ATTRIBUTES: ReadonlySet<string> = new Set(SCHEMA_ATTRIBUTES.filter((name) => name !== 'sub'));

/** Claims the token minter owns; no attribute may ever set them (Cognito's list plus the JWT and OIDC registered ones). */
export const RESERVED_CLAIMS: ReadonlySet<string> = new Set([
  'sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'auth_time', 'token_use', 'username', 'client_id', 'scope', 'nonce', 'jti', 'origin_jti', 'event_id',
  'at_hash', 'c_hash', 'acr', 'amr', 'azp', 'act', 'cnf', 'identities', 'device_key', 'version',
]);

/** Attributes a code can verify, and the flag it sets. */
export const VERIFIABLE: Readonly<Record<string, string>> = { email: 'email_verified', phone_number: 'phone_number_verified' };

const CUSTOM_PREFIX = 'custom:';
// Cognito: a custom attribute's own name is 1–20 characters
const CUSTOM_NAME = /^custom:[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,20}$/u;

/** True for a name that may be stored on a user and copied into an ID token: a standard attribute or `custom:…`. */
export function isUserAttributeName(name: string): boolean {
  if (RESERVED_CLAIMS.has(name) || name.startsWith('cognito:')) return false;
  return STANDARD_ATTRIBUTES.has(name) || CUSTOM_NAME.test(name);
}

/** Where in the request an attribute came from, for error messages: `UserAttributes.1.Name` by default. */
export type AttributeLocator = (index: number, name: string) => string;
const listMember: AttributeLocator = (index) => `UserAttributes.${index}.Name`;

/** Refuses a name that is neither a standard attribute nor `custom:…` (and `sub`, which the pool assigns). */
export function checkAttributeName(name: string, where = 'Attribute name'): void {
  if (name === 'sub') throw new CognitoError('InvalidParameterException', `${where}: sub cannot be modified: the user pool assigns it.`);
  if (isUserAttributeName(name)) return;
  const hint = name.startsWith(CUSTOM_PREFIX)
    ? 'a custom attribute name is custom: followed by 1–20 characters'
    : `use a standard attribute (${[...STANDARD_ATTRIBUTES].slice(0, 5).join(', ')}, …) or a custom: one`;
  throw new CognitoError('InvalidParameterException', `${where}: attribute ${name} does not exist in the schema; ${hint}.`);
}

/**
 * Turns a `[{Name, Value}]` list from a request into the attributes to store. Anything that is not a standard or
 * `custom:` attribute is refused with InvalidParameterException naming it, before anything is written; so is a name
 * sent twice. With `by`, the list is an update by that caller: a user may never set `*_verified` (a user claiming a
 * verified address could take over its sign-in alias), and an administrator's `*_verified` must be "true" or "false".
 * Without `by` (SignUp, which drops `*_verified` itself) only the names are checked.
 */
export function parseUserAttributes(
  list: readonly { Name: string; Value?: string | undefined }[], options: { by?: 'admin' | 'user'; locate?: AttributeLocator } = {},
): Record<string, string> {
  const locate = options.locate ?? listMember;
  const attributes: Record<string, string> = {};
  for (const [index, { Name: name, Value: value }] of list.entries()) {
    const where = locate(index, name);
    checkAttributeName(name, where);
    if (Object.hasOwn(attributes, name)) throw new CognitoError('InvalidParameterException', `${where}: attribute ${name} was sent more than once; send each attribute once.`);
    if (options.by === 'user' && name.endsWith('_verified')) {
      throw new CognitoError('InvalidParameterException', `${where}: ${name} can only be set by an administrator; it becomes true when the code sent to the address is verified.`);
    }
    if (options.by === 'admin' && Object.values(VERIFIABLE).includes(name) && value !== 'true' && value !== 'false') {
      throw new CognitoError('InvalidParameterException', `${where.replace(/\.Name$/, '.Value')}: ${name} must be "true" or "false".`);
    }
    attributes[name] = value ?? '';
  }
  return attributes;
}

/** The stored attributes that may be shown as claims (userInfo): user attributes only, never a reserved name. */
export function userAttributeClaims(attributes: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(attributes).filter(([name]) => isUserAttributeName(name)));
}

/**
 * The attributes after an update checked by parseUserAttributes: a changed `email` or `phone_number` is no longer
 * verified unless the caller (an administrator) sets its `*_verified` in the same call.
 */
export function mergeAttributes(current: Readonly<Record<string, string>>, changes: Readonly<Record<string, string>>): Record<string, string> {
  const next = { ...current };
  for (const [name, value] of Object.entries(changes)) {
    for (const [address, flag] of Object.entries(VERIFIABLE)) {
      if (name === address && value !== current[address] && !Object.hasOwn(changes, flag)) next[flag] = 'false';
    }
    next[name] = value;
  }
  return next;
}

/**
 * Applies an UpdateUserAttributes / AdminUpdateUserAttributes list (parseUserAttributes' rules, then mergeAttributes).
 * Returns the new attributes, the verifiable attributes whose value changed (their pending codes are void)
 * and those that now need a code (changed to a non-empty address that is not marked verified).
 */
export function applyAttributeUpdate(
  user: UserRecord, updates: readonly { Name: string; Value?: string | undefined }[], by: 'admin' | 'user',
): { attributes: Record<string, string>; changed: string[]; needVerification: string[] } {
  const changes = parseUserAttributes(updates, { by });
  const attributes = mergeAttributes(user.attributes, changes);
  const changed: string[] = [];
  const needVerification: string[] = [];
  for (const [attribute, flag] of Object.entries(VERIFIABLE)) {
    if (!Object.hasOwn(changes, attribute) || attributes[attribute] === user.attributes[attribute]) continue;
    changed.push(attribute);
    if (attributes[flag] !== 'true' && attributes[attribute]) needVerification.push(attribute);
  }
  return { attributes, changed, needVerification };
}

/** What CodeDeliveryDetails shows of an address: enough to recognise it, not to read it. */
export function maskedDestination(attribute: string, value: string | undefined): string {
  if (!value) return 'outbox';
  if (attribute === 'phone_number') return `+*******${value.slice(-4)}`;
  const [local = '', domain = ''] = value.split('@');
  return `${local.slice(0, 1)}***@${domain.slice(0, 1)}***`;
}

export function deliveryDetails(attribute: string, value: string | undefined): { Destination: string; DeliveryMedium: 'EMAIL' | 'SMS'; AttributeName: string } {
  return { Destination: maskedDestination(attribute, value), DeliveryMedium: attribute === 'phone_number' ? 'SMS' : 'EMAIL', AttributeName: attribute };
}
