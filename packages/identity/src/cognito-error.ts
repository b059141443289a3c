import { wireErrorOf, type WireResponse } from '@gatehouse/core';

/** Cognito exception names Gatehouse answers with; each maps to its HTTP status (faults are 5xx). */
const cognitoStatus = {
  NotAuthorizedException: 400,
  UserNotFoundException: 400,
  UserNotConfirmedException: 400,
  UsernameExistsException: 400,
  InvalidParameterException: 400,
  InvalidPasswordException: 400,
  ResourceNotFoundException: 400,
  TooManyRequestsException: 400,
  TooManyFailedAttemptsException: 400,
  CodeMismatchException: 400,
  ExpiredCodeException: 400,
  UnsupportedOperationException: 400,
  UnsupportedTokenTypeException: 400,
  UnauthorizedException: 400,
  RefreshTokenReuseException: 400,
  SerializationException: 400,
  UnknownOperationException: 400,
  InvalidSignatureException: 400,
  UnrecognizedClientException: 400,
  MissingAuthenticationTokenException: 400,
  AccessDeniedException: 400,
  ResourceConflictException: 400,
  GroupExistsException: 400,
  ScopeDoesNotExistException: 400,
  InvalidOAuthFlowException: 400,
  LimitExceededException: 400,
  AliasExistsException: 400,
  PasswordResetRequiredException: 400,
  InternalErrorException: 500,
  // Not a modelled Cognito error; the AWS SDKs treat a 503 as transient and retry it (the identity database is unavailable).
  ServiceUnavailableException: 503,
};

/** An error in the Cognito JSON protocol's shape: `{"__type", "message"}` plus `x-amzn-errortype`. */
export class CognitoError extends wireErrorOf(cognitoStatus) {
  override readonly name = 'CognitoError';
  toResponse(): WireResponse {
    return {
      status: this.status,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': this.code },
      body: JSON.stringify({ __type: this.code, message: this.publicMessage() }),
    };
  }
}

export type CognitoErrorName = CognitoError['code'];

/** The one message for unknown users and wrong passwords alike (PreventUserExistenceErrors ENABLED). */
export const INCORRECT_CREDENTIALS = 'Incorrect username or password.';
