import { asCallTimeout, isConnectionFailure, redactText } from '@gatehouse/core/agent-support';
import { AgentError } from '../agent-error.ts';

export interface ModelErrorContext {
  readonly provider: 'bedrock' | 'anthropic' | 'openai-compatible';
  readonly modelId: string;
  readonly region?: string | undefined;
  readonly profile?: string | undefined;
  /** Where the key comes from, for API-key providers. */
  readonly apiKeyEnv?: string | undefined;
}

interface ErrorFacts {
  readonly name: string;
  readonly status: number | undefined;
  readonly message: string;
}

function factsOf(error: unknown): ErrorFacts {
  const record = (error ?? {}) as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown }; status?: unknown; code?: unknown };
  const status = typeof record.$metadata?.httpStatusCode === 'number' ? record.$metadata.httpStatusCode : typeof record.status === 'number' ? record.status : undefined;
  const name = typeof record.name === 'string' ? record.name : typeof record.code === 'string' ? record.code : 'Error';
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const message = [typeof record.message === 'string' ? record.message : '', typeof cause?.code === 'string' ? cause.code : '', typeof cause?.message === 'string' ? cause.message : '']
    .filter(Boolean)
    .join(' — ');
  return { name, status, message: redactText(message) };
}

/** What a translation reads: the provider's facts, the phrases built from them, and the error kept as the cause. */
interface Translation extends ErrorFacts {
  /** ` (bedrock said: …)`, or empty. */
  readonly detail: string;
  /** ` in {region}`, or empty. */
  readonly where: string;
  readonly context: ModelErrorContext;
  readonly cause: unknown;
}

const TOO_LONG = /too long|too many tokens|context (?:length|window)|maximum context|prompt is too long|input length|exceeds? the (?:maximum|max)/i;

/**
 * Turns a provider failure into an error whose message names the cause and whose `fix` names the remedy.
 * Bedrock's own messages are kept (after redaction) so nothing is hidden, but never shown bare: the seeds
 * lost hours to "403 Forbidden" with no hint that SigV4 credentials or model access were the problem.
 */
export function translateModelError(error: unknown, context: ModelErrorContext): AgentError {
  if (error instanceof AgentError) return error;
  const facts = factsOf(error);
  const where = context.region ? ` in ${context.region}` : '';
  const detail = facts.message ? ` (${context.provider} said: ${facts.message})` : '';
  const translation: Translation = { ...facts, detail, where, context, cause: error };
  return context.provider === 'bedrock' ? translateBedrock(translation) : translateApiKeyProvider(translation);
}

function translateBedrock(translation: Translation): AgentError {
  const { name, status, message, detail, where, context } = translation;
  const options = { cause: translation.cause };
  const profile = context.profile ? ` --profile ${context.profile}` : '';
  if (name === 'CredentialsProviderError' || /could not load credentials|credential is missing|no credentials/i.test(message)) {
    if (/sso|token is expired|refresh/i.test(message)) {
      return new AgentError('ModelExpiredCredentials', `Your AWS SSO session has expired, so Bedrock calls cannot be signed${detail}.`, `Run: aws sso login${profile}`, options);
    }
    return new AgentError(
      'ModelNoCredentials',
      'No AWS credentials were found for Bedrock. Bedrock requires AWS Signature V4 credentials (an access key, a profile, SSO or a role) — a bearer token or API key in a header will be rejected with 403.',
      `Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), or AWS_PROFILE / model.profile naming a profile in ~/.aws, or run "aws sso login${profile}"; on AWS, attach a role.`,
      options,
    );
  }
  if (name === 'TokenProviderError' || /sso session .*expired|sso.*token.*expired|refresh the sso|sso.*invalid/i.test(message)) {
    return new AgentError('ModelExpiredCredentials', `Your AWS SSO session has expired, so Bedrock calls cannot be signed${detail}.`, `Run: aws sso login${profile}`, options);
  }
  if (/ExpiredToken/i.test(name) || /security token included in the request is expired|token has expired|expiredtoken/i.test(message)) {
    return new AgentError('ModelExpiredCredentials', `The AWS credentials used for Bedrock have expired${detail}.`, `Refresh them: "aws sso login${profile}" for SSO, or export a new AWS_SESSION_TOKEN with its key pair; restart the agent if the keys come from its environment.`, options);
  }
  if (/UnrecognizedClient|InvalidSignature|InvalidClientTokenId|IncompleteSignature/i.test(name) || /security token included in the request is invalid|signature we calculated does not match/i.test(message)) {
    return new AgentError('ModelInvalidCredentials', `AWS rejected the credentials used to sign the Bedrock request${detail}.`, 'Check that AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN belong together and are not revoked (aws sts get-caller-identity).', options);
  }
  if (name === 'AccessDeniedException' || status === 403) {
    if (/don'?t have access to the model|access to the model|model access|not authorized to access this model|enable access/i.test(message) && !/not authorized to perform/i.test(message)) {
      return new AgentError(
        'ModelAccessDenied',
        `Access to model ${context.modelId}${where} is not enabled for this AWS account${detail}.`,
        `Enable it in the Bedrock console (Model access${where}) or, for Anthropic models, submit the use-case form; then retry.`,
        options,
      );
    }
    return new AgentError(
      'ModelAccessDenied',
      `AWS denied the Bedrock call for ${context.modelId}${where}: the signing identity lacks permission, or model access is not enabled${detail}.`,
      `Allow bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream on arn:aws:bedrock:${context.region ?? '<region>'}::foundation-model/${context.modelId} (and the inference profile, if you use one) for that identity, and enable model access in the Bedrock console.`,
      options,
    );
  }
  if (name === 'ResourceNotFoundException' || status === 404 || /model identifier is invalid|model.*not (?:found|exist|supported)|on-demand throughput isn.?t supported|inference profile/i.test(message)) {
    return new AgentError(
      'ModelNotFound',
      `Model ${context.modelId} is not available${where}${detail}.`,
      'Check model.modelId and model.region: use a model id listed by "aws bedrock list-foundation-models" in that region, or a cross-region inference profile id (e.g. "us.anthropic…") where on-demand use is not supported.',
      options,
    );
  }
  if (/Throttling|TooManyRequests|ServiceQuotaExceeded/i.test(name) || status === 429) {
    return new AgentError('ModelThrottled', `Bedrock is throttling requests for ${context.modelId}${where}, and retries with backoff did not get through${detail}.`, 'Wait a minute and retry; for steady load, request a higher quota or use a cross-region inference profile.', options);
  }
  if (name === 'ValidationException' && TOO_LONG.test(message)) {
    return new AgentError('ModelContextTooLong', `The conversation is too long for ${context.modelId}${detail}.`, 'Start a new session (new session id) or ask a shorter question.', options);
  }
  if (name === 'ValidationException' || status === 400) {
    return new AgentError('ModelInvalidRequest', `Bedrock refused the request for ${context.modelId}${detail}.`, 'Check model.modelId supports the Converse API with tool use; see the agent log for the request id.', options);
  }
  if (/region is missing|region/i.test(message) && /missing|invalid/i.test(message)) {
    return new AgentError('ModelMisconfigured', `No AWS region is set for Bedrock${detail}.`, 'Set model.region in gatehouse.yaml, or AWS_REGION.', options);
  }
  if (isConnectionFailure(options.cause) || asCallTimeout(options.cause) !== undefined) {
    return new AgentError('ModelUnavailable', `Cannot reach the Bedrock endpoint${where}${detail}.`, 'Check network access to bedrock-runtime (or model.endpoint), proxies and VPC endpoints.', options);
  }
  return new AgentError('ModelUnavailable', `Bedrock failed for ${context.modelId}${where}${detail}.`, 'Retry; if it persists, check the AWS Health Dashboard and the agent log.', options);
}

function translateApiKeyProvider(translation: Translation): AgentError {
  const { name, status, message, detail, context } = translation;
  const options = { cause: translation.cause };
  const keyHint = context.apiKeyEnv ? `the ${context.apiKeyEnv} environment variable` : 'the API key';
  if (name === 'MissingApiKey') {
    return new AgentError('ModelNoCredentials', `No API key found for the ${context.provider} model: ${keyHint} is empty.`, `Export ${context.apiKeyEnv ?? 'the key variable named by model.apiKeyEnv'} before starting Gatehouse.`, options);
  }
  if (status === 401) return new AgentError('ModelInvalidCredentials', `The ${context.provider} API rejected ${keyHint}${detail}.`, `Check ${keyHint} holds a valid, unrevoked key.`, options);
  if (status === 403) return new AgentError('ModelAccessDenied', `The key in ${keyHint} may not use ${context.modelId}${detail}.`, 'Check the key\'s permissions, organisation and model access in the provider console.', options);
  if (status === 404) return new AgentError('ModelNotFound', `Model ${context.modelId} was not found${detail}.`, 'Check model.modelId (and model.baseUrl for OpenAI-compatible servers, e.g. "ollama list").', options);
  if (status === 429 || /rate.?limit|overloaded/i.test(message)) return new AgentError('ModelThrottled', `The ${context.provider} API is rate-limiting requests and retries did not get through${detail}.`, 'Wait and retry, or raise your rate limit.', options);
  if ((status === 400 || status === 413) && TOO_LONG.test(message)) return new AgentError('ModelContextTooLong', `The conversation is too long for ${context.modelId}${detail}.`, 'Start a new session or ask a shorter question.', options);
  if (status === 400 || status === 422) return new AgentError('ModelInvalidRequest', `The ${context.provider} API refused the request${detail}.`, 'Check model.modelId supports tool calling.', options);
  if (status === undefined || isConnectionFailure(options.cause) || asCallTimeout(options.cause) !== undefined) {
    return new AgentError('ModelUnavailable', `Cannot reach the ${context.provider} API${detail}.`, 'Check model.baseUrl and that the model server is running.', options);
  }
  return new AgentError('ModelUnavailable', `The ${context.provider} API failed (HTTP ${String(status)})${detail}.`, 'Retry; if it persists, check the provider\'s status page.', options);
}

/** Throttling and transient unavailability are worth retrying; nothing else is. */
export function isRetryable(error: AgentError): boolean {
  return error.code === 'ModelThrottled';
}
