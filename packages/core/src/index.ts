export { WireError, isWireError, wireErrorOf } from './wire-error.ts';
export type { WireErrorOptions, WireResponse } from './wire-error.ts';
export { AgentCoreError, AGENTCORE_ERROR_STATUS } from './agentcore-error.ts';
export type { AgentCoreErrorCode, AgentCoreErrorDetails, FieldProblem } from './agentcore-error.ts';
export { systemClock, epochSeconds } from './clock.ts';
export type { Clock } from './clock.ts';
export { createLogger, redactText, REDACTED_PATHS } from './logger.ts';
export type { Logger, LoggerSettings } from './logger.ts';
export { openDatabase, transaction } from './sqlite.ts';
export type { Database } from './sqlite.ts';
export { openPrivateDatabase } from './private-database.ts';
export { DatabaseStartError, DatabaseUnavailableError, SchemaTooNewError, isUniqueViolation } from './sql/sql-database.ts';
export type { SqlDatabase, SqlExecutor, SqlValue, SqlRow, SqlEngine, Migration } from './sql/sql-database.ts';
export { openSqlDatabase, usesPostgres } from './sql/open-sql-database.ts';
export type { OpenSqlDatabaseOptions } from './sql/open-sql-database.ts';
export { readBody, sendWire, sendJson, parseForm, headerValue, listen, closeServer, BodyTooLargeError, ClientClosedError, isClientClosed } from './http.ts';
export type { HttpComponent, ReadJsonLimits } from './http.ts';
export { readJson } from './http.ts';
export { freePort } from './free-port.ts';
export { failureFor, readBodyFor } from './internal-failure.ts';
export { CallTimeoutError, asCallTimeout, isConnectionFailure } from './call-failure.ts';
export type { FailureTable, InternalFailures } from './internal-failure.ts';
export { MAX_JSON_DEPTH, JsonTooDeepError, checkJsonDepth, parseJson } from './json-depth.ts';
export { configSchema, parseConfig, loadConfig, ConfigError } from './config/config.ts';
export type { GatehouseConfig, LoadConfigOptions } from './config/config.ts';
export { customJwtAuthorizerSchema, authorizerConfigurationSchema } from './config/authorizer-config.ts';
export type { CustomClaim, CustomJwtAuthorizerConfig, AuthorizerConfiguration } from './config/authorizer-config.ts';
export { identitySchema, userPoolSchema, appClientSchema } from './config/identity-config.ts';
export type { IdentityConfig, UserPoolConfig, AppClientConfig } from './config/identity-config.ts';
export { runtimeSchema, isolationSchema } from './config/runtime-config.ts';
export type { RuntimeConfig, AgentSource, ServerProtocol, IsolationConfig, ResolvedIsolationConfig } from './config/runtime-config.ts';
export { controlPlaneSchema, type ControlPlaneConfig } from './config/control-plane-config.ts';
export { gatewaySchema, gatewayTargetSchema } from './config/gateway-config.ts';
export type { GatewayConfig, GatewayTargetConfig, CredentialProviderConfig } from './config/gateway-config.ts';
export { modelSchema } from './config/model-config.ts';
export type { ModelConfig } from './config/model-config.ts';
export { toolsSchema, accountSchema } from './config/tools-config.ts';
export type { ToolsConfig, AccountConfig } from './config/tools-config.ts';
export { telemetrySchema } from './config/telemetry-config.ts';
export { serverSchema, DEFAULT_SERVER_CONFIG } from './config/server-config.ts';
export type { ServerConfig } from './config/server-config.ts';
export type { TelemetryConfig } from './config/telemetry-config.ts';
export { tokenVaultSchema } from './config/token-vault-config.ts';
export type { TokenVaultConfig, OAuth2ProviderConfig, ApiKeyProviderConfig } from './config/token-vault-config.ts';
export { readSecret } from './secret-store.ts';
export { credentialProviderName, vendorEndpoints } from './credential-provider-source.ts';
export type { OAuth2ProviderDefinition, ApiKeyProviderDefinition, CredentialProviderSource } from './credential-provider-source.ts';
export { EmbeddedStore, StoreUnavailableError } from './shared-store.ts';
export type { SharedStore, StoreListener, StoreSubscription } from './shared-store.ts';
export type { Platform } from './platform.ts';
export type { CommandContext, CommandHandler } from './command.ts';
export { createAppServer, drainServer, type ServerTls } from './app-server.ts';
export type { BenchRow, BenchSection } from './bench.ts';
export { authFailureChannel, toolCallChannel, publishAuthFailure, publishToolCall } from './telemetry-events.ts';
export type { AuthFailureEvent, ToolCallEvent } from './telemetry-events.ts';
export { isHttpsOrLoopbackUrl } from './url-policy.ts';
export { readSse, parseSseText } from './read-sse.ts';
export type { SseMessage } from './read-sse.ts';
export {
  startTracing,
  resolveTracesEndpoint,
  tracingEnabled,
  extractTraceContext,
  injectTraceContext,
  injectTraceHeaders,
  startSpan,
  endSpanWithStatus,
  failSpan,
  activeTraceContext,
  hasTraceContext,
  withTraceContext,
  tracingFetch,
  SpanKind,
} from './tracing.ts';
export type { Tracing, TracingSettings, StartedSpan, TraceContext, TraceSpan, TraceAttributes } from './tracing.ts';
