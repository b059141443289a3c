import { CognitoError } from './cognito-error.ts';
import type { UserRecord } from './user-store.ts';

/** Cognito's standard attributes (OpenID Connect claims); anything else must be `custom:…`. */
export const STANDARD_ATTRIBUTES = [
  'sub', 'name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture', 'website', 'email', 'email_verified',
  'gender', 'birthdate', 'zoneinfo', 'locale', 'phone_number', 'phone_number_verified', 'address', 'updated_at',
] as const;

/** Attributes a code can verify, and the flag it sets. */
export const VERIFIABLE: Readonly<Record<string, string>> = { email: 'email_verified', phone_number: 'phone_number_verified' };

/**
 * Applies an UpdateUserAttributes / AdminUpdateUserAttributes list. `sub` never changes; only an admin
 * may set `*_verified` (a user claiming a verified address could take over its sign-in alias). A changed
 * e-mail or phone number becomes unverified unless the admin marks it verified in the same call.
 * Returns the new attributes, the verifiable attributes whose value changed (their pending codes are void)
 * and those that now need a code.
 */
export function applyAttributeUpdate(
  user: UserRecord, updates: readonly { Name: string; Value?: string | undefined }[], admin: boolean,
): { attributes: Record<string, string>; changed: string[]; needVerification: string[] } {
  const attributes: Record<string, string> = { ...user.attributes };
  const sent = new Set<string>();
  for (const [index, update] of updates.entries()) {
    const name = update.Name;
    const member = `UserAttributes.${index}.Name`;
    if (!(STANDARD_ATTRIBUTES as readonly string[]).includes(name) && !/^custom:[\w-]{1,20}$/.test(name)) {
      throw new CognitoError('InvalidParameterException', `${member}: attribute ${name} does not exist in the schema (standard attributes, or custom:<name>)`);
    }
    if (name === 'sub') throw new CognitoError('InvalidParameterException', `${member}: sub cannot be modified`);
    if (!admin && Object.values(VERIFIABLE).includes(name)) {
      throw new CognitoError('InvalidParameterException', `${member}: ${name} can only be set by an administrator; verify the attribute with a code instead`);
    }
    const value = update.Value ?? '';
    if (Object.values(VERIFIABLE).includes(name) && value !== 'true' && value !== 'false') {
      throw new CognitoError('InvalidParameterException', `UserAttributes.${index}.Value: ${name} must be "true" or "false"`);
    }
    sent.add(name);
    attributes[name] = value;
  }
  const needVerification: string[] = [];
  const changed: string[] = [];
  for (const [attribute, flag] of Object.entries(VERIFIABLE)) {
    if (!sent.has(attribute) || attributes[attribute] === user.attributes[attribute]) continue;
    changed.push(attribute);
    if (sent.has(flag) && attributes[flag] === 'true') continue;
    attributes[flag] = 'false';
    if (attributes[attribute]) needVerification.push(attribute);
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
