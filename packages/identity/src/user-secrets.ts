import { hashPassword } from './password-hash.ts';
import { createVerifier } from './srp.ts';
import { passwordPolicyProblem } from './password-policy.ts';
import { CognitoError } from './cognito-error.ts';

/** The part of a pool id after `_`, which Cognito's SRP mixes into the password hash. */
export const poolSuffix = (poolId: string): string => poolId.slice(poolId.indexOf('_') + 1);

/** Both forms of a password: an scrypt hash for password flows and an SRP verifier for USER_SRP_AUTH. */
export async function passwordSecrets(poolId: string, username: string, password: string): Promise<{ passwordHash: string; srpSalt: string; srpVerifier: string }> {
  const problem = passwordPolicyProblem(password);
  if (problem) throw new CognitoError('InvalidPasswordException', `Password did not conform with policy: ${problem}`);
  const srp = createVerifier(poolSuffix(poolId), username, password);
  return { passwordHash: await hashPassword(password), srpSalt: srp.salt, srpVerifier: srp.verifier };
}
