/**
 * Claims of a workload access token (AgentCore Identity, as Gatehouse mints it): the workload it was
 * minted for, and — for a user of an issuer other than Gatehouse's own — that user's issuer. Minted by
 * identity, checked by the runtime (never a caller's credential) and the gateway (the user it acts for).
 */
export const WORKLOAD_CLAIM = 'workload_name';
export const USER_ISSUER_CLAIM = 'user_iss';
/** `user_iss` of tokens for a user id asserted by a SigV4 caller (GetWorkloadAccessTokenForUserId): verified by no issuer. */
export const ASSERTED_USER_ISSUER = 'urn:gatehouse:asserted-user-id';
