import { randomUUID } from 'node:crypto';
import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  SpanKind,
  activeTraceContext,
  failSpan,
  hasTraceContext,
  publishToolCall,
  redactText,
  startSpan,
  tracingEnabled,
  withTraceContext,
  type Logger,
  type StartedSpan,
} from '@gatehouse/core';
import type { AuditLog, CallDecision, CallOutcome } from './audit-log.ts';
import type { Caller } from './caller.ts';
import type { CredentialResolver } from './credentials/resolve-credentials.ts';
import { ToolCallError, toolRpcCode } from './gateway-error.ts';
import type { PolicyEngine } from './policy-engine.ts';
import { SEARCH_TOOL, SEARCH_TOOL_NAME, searchTools } from './search-tools.ts';
import { CONNECT_TOOL, type CatalogTarget, type CatalogTool, type ToolCatalog } from './tool-catalog.ts';
import { ConsentRequiredError, handTokenToAgent } from './credentials/vault-credentials.ts';
import type { TargetCallScope } from './targets/tool-target.ts';
import { jsonResult } from './targets/tool-target.ts';
import type { ToolDefinition } from './tool-definition.ts';

export interface DispatcherDeps {
  readonly gatewayName: string;
  /** The gateway's own URL: the default audience of token-exchanged tokens. */
  readonly resourceUrl: string;
  readonly catalog: ToolCatalog;
  readonly policy: PolicyEngine;
  readonly credentials: CredentialResolver;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly now: () => number;
}

/**
 * tools/list and tools/call for one verified caller: catalog → policy → limits → credentials →
 * target → audit. Every refusal happens before the target is contacted.
 */
export class ToolDispatcher {
  readonly #deps: DispatcherDeps;
  /** Visible tool lists per caller attributes, valid for one catalog array and one policy version. */
  #visible = new Map<string, { tools: readonly CatalogTool[]; policyVersion: number; list: CatalogTool[] }>();

  constructor(deps: DispatcherDeps) {
    this.#deps = deps;
  }

  #scopeFor(caller: Caller, signal: AbortSignal): (entry: CatalogTarget) => Promise<TargetCallScope> {
    return async (entry) => ({
      caller,
      credentials: await this.#deps.credentials.resolve(entry.config.credentialProviderConfigurations[0]!, caller, entry.config.name, this.#audienceOf(entry)),
      signal,
      deadline: this.#deps.now() + entry.config.timeoutSeconds * 1000,
      gatewayName: this.#deps.gatewayName,
      requestId: randomUUID(),
    });
  }

  /** Token-exchange audience when the provider names none: the MCP server's endpoint, else `gateway-target:{target}`. */
  #audienceOf(entry: CatalogTarget): string {
    const mcp = entry.config.targetConfiguration.mcp;
    if ('mcpServer' in mcp) return mcp.mcpServer.endpoint;
    if ('openApiSchema' in mcp && mcp.baseUrl) return mcp.baseUrl;
    return `gateway-target:${entry.config.name}`;
  }

  /** The tools this caller may call (policy action `list`), plus the search tool. */
  async visibleTools(caller: Caller, signal: AbortSignal): Promise<CatalogTool[]> {
    const tools = await this.#deps.catalog.tools(this.#scopeFor(caller, signal));
    // Keyed by what the policy can read of the caller (policy-engine.ts callerKey, which reloads a
    // changed policy file first): a new user like one seen before gets the same list, already serialized.
    const key = this.#deps.policy.callerKey(caller);
    const policyVersion = this.#deps.policy.version;
    const memo = this.#visible.get(key);
    if (memo && memo.tools === tools && memo.policyVersion === policyVersion) return memo.list;
    const list = this.#intern(tools, this.#deps.policy.visible(caller, tools));
    if (this.#visible.size > 10_000) this.#visible.clear();
    this.#visible.set(key, { tools, policyVersion, list });
    return list;
  }

  /**
   * The catalog's tools that `keep` marks, as one shared array per catalog array and selection:
   * callers with different attributes who see the same tools (a never-seen group, say) get the
   * list, its definitions and its serialized answer already built.
   */
  #intern(tools: readonly CatalogTool[], keep: readonly boolean[]): CatalogTool[] {
    const selection = keep.map((kept) => (kept ? '1' : '0')).join('');
    let lists = this.#interned.get(tools);
    if (!lists) this.#interned.set(tools, (lists = new Map()));
    const known = lists.get(selection);
    if (known) return known;
    const list = tools.filter((_, index) => keep[index]);
    if (lists.size > 1000) lists.clear();
    lists.set(selection, list);
    return list;
  }

  readonly #interned = new WeakMap<readonly CatalogTool[], Map<string, CatalogTool[]>>();

  async listTools(caller: Caller, signal: AbortSignal): Promise<ToolDefinition[]> {
    const visible = await this.visibleTools(caller, signal);
    const definitions = this.#definitions.get(visible);
    if (definitions) return definitions;
    const built = [...visible.map((tool) => tool.definition), SEARCH_TOOL];
    this.#definitions.set(visible, built);
    return built;
  }

  readonly #definitions = new WeakMap<readonly CatalogTool[], ToolDefinition[]>();

  /** Answers after the call's audit row is committed: an acknowledged call is never missing from the audit log. */
  async callTool(request: CallRequest): Promise<CallToolResult> {
    try {
      return await this.#tracedCall(request);
    } finally {
      await this.#deps.audit.settled();
    }
  }

  async #tracedCall(request: CallRequest): Promise<CallToolResult> {
    const parent = activeTraceContext();
    const { caller, sessionId, name, args, signal } = request;
    const call: ToolCall = { caller, sessionId, name, args, signal, started: performance.now(), span: undefined };
    if (!tracingEnabled() && !hasTraceContext(parent)) return this.#callTool(call);
    // A span per tools/call with ids only: tool, target, decision, outcome — never arguments or results.
    const span = startSpan(`tools/call ${name}`, SpanKind.INTERNAL, parent, { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': name, 'gatehouse.gateway.name': this.#deps.gatewayName });
    try {
      return await this.#callTool({ ...call, span });
    } catch (error) {
      failSpan(span.span, error instanceof McpError ? `McpError ${error.code}` : 'ToolCallFailed');
      throw error;
    } finally {
      span.span.end();
    }
  }

  /**
   * The audit row (and metric) of a tools/call the gateway refused before the dispatcher saw it (a
   * message too deep, a prototype key, malformed params): who, the tool as sent, why.
   */
  recordRefusal(refusal: { readonly caller: Caller; readonly sessionId: string; readonly tool: string; readonly reason: string }): void {
    const { caller, sessionId, tool, reason } = refusal;
    this.#record({ caller, sessionId, name: tool, args: {}, signal: AbortSignal.abort(), started: performance.now(), span: undefined }, { decision: 'deny', outcome: 'refused', detail: reason });
  }

  /** Record: the metric, the span's attributes and the audit row of one tools/call (who, tool, decision, outcome; never arguments). */
  #record(call: ToolCall, ending: CallEnding): void {
    const { caller, span } = call;
    const target = call.tool?.target ?? '';
    const { decision, outcome } = ending;
    if (span?.span.isRecording()) {
      span.span.setAttributes({ 'gatehouse.target': target, 'gatehouse.decision': decision, 'gatehouse.outcome': outcome });
      if (outcome !== 'ok') failSpan(span.span, outcome);
    }
    publishToolCall({ gateway: this.#deps.gatewayName, target, decision, outcome });
    this.#deps.audit.record({
      time: new Date(this.#deps.now()).toISOString(),
      gateway: this.#deps.gatewayName,
      user: caller.username || caller.subject,
      issuer: caller.issuer,
      clientId: caller.clientId ?? '',
      session: call.sessionId,
      tool: call.name,
      target,
      decision,
      outcome,
      durationMs: Math.round((performance.now() - call.started) * 10) / 10,
      detail: ending.detail ?? '',
    })
      // the row stays queued and is retried; AuditLog's onFlushError logs the failure
      .catch(() => undefined);
  }

  /** tools/call as its steps: find → decide → acquire → credentials → call → record. Every refusal comes before the target is contacted. */
  async #callTool(call: ToolCall): Promise<CallToolResult> {
    if (call.name === SEARCH_TOOL_NAME) return this.#search(call);
    const tool = await this.#find(call);
    const decision = this.#decide(call, tool);
    const entry = this.#deps.catalog.target(tool.target)!;
    const release = entry.limiter.tryAcquire();
    if (!release) {
      this.#record(call, { decision, outcome: 'busy' });
      return errorResult('TargetBusy', `Target ${tool.target} already has ${entry.limiter.limit} calls in flight; retry shortly`);
    }
    const deadline = new CallDeadline(call.signal, entry);
    try {
      const scope = await this.#credentials(call, entry, deadline.signal);
      if ('consent' in scope) {
        this.#record(call, { decision, outcome: 'consent-required', detail: `connect ${scope.consent.elicitation.provider}` });
        return consentResult(scope.consent);
      }
      if ('failure' in scope) {
        this.#record(call, { decision, outcome: 'credentials-unavailable', detail: scope.failure.message });
        return errorResult(scope.failure.code, scope.failure.message);
      }
      if (tool.tool === CONNECT_TOOL && !this.#deps.catalog.isLoaded(tool.target)) {
        this.#record(call, { decision, outcome: 'ok' });
        return { content: [{ type: 'text', text: `Connected. List the tools again: the tools of ${tool.target} are available now.` }] };
      }
      const result = await this.#call(call, entry, scope, deadline.signal);
      this.#record(call, { decision, outcome: result.isError ? 'error' : 'ok' });
      return scope.credentials.forAgent ? handTokenToAgent(result, scope.credentials.forAgent) : result;
    } catch (error) {
      if (error instanceof McpError) {
        this.#record(call, { decision, outcome: 'error', detail: error.message });
        throw error;
      }
      const failure = asToolError(error, tool.target);
      this.#record(call, { decision, outcome: failure.code === 'TargetTimeout' ? 'timeout' : 'error', detail: failure.message });
      return errorResult(failure.code, failure.message);
    } finally {
      deadline.clear();
      release();
    }
  }

  /** The gateway's own search tool: answered here from the caller's visible tools. */
  async #search(call: ToolCall): Promise<CallToolResult> {
    const query = typeof call.args.query === 'string' ? call.args.query : '';
    if (!query.trim()) throw new McpError(toolRpcCode.InvalidArguments, `${SEARCH_TOOL_NAME} needs a non-empty "query" string`);
    const visible = await this.visibleTools(call.caller, call.signal);
    const tools = searchTools(visible.map((tool) => tool.definition), query);
    this.#record(call, { decision: 'allow', outcome: 'ok' });
    return { content: [{ type: 'text', text: JSON.stringify({ tools }) }], structuredContent: { tools } };
  }

  /** Find: the catalog entry of the tool's prefixed name (a target's list is loaded, with its credentials, when first needed). */
  async #find(call: ToolCall): Promise<CatalogTool> {
    const tool = await this.#deps.catalog.find(call.name, this.#scopeFor(call.caller, call.signal));
    if (!tool) {
      this.#record(call, { decision: 'deny', outcome: 'not-found' });
      throw new McpError(toolRpcCode.ToolNotFound, `Unknown tool ${call.name}: call tools/list for the tools this gateway offers`);
    }
    call.tool = tool;
    return tool;
  }

  /** Decide: Cedar (memoized per caller attributes while no policy reads the arguments); a deny is recorded and thrown. */
  #decide(call: ToolCall, tool: CatalogTool): AllowedDecision {
    const decision = this.#deps.policy.decide(call.caller, 'call', tool, call.args);
    if (decision.allowed) return decision.enforced ? 'allow' : 'log-only';
    const by = decision.failure !== undefined
      ? 'the policy could not be evaluated for this call (default deny)'
      : decision.policies.length > 0 ? `forbidden by policy ${decision.policies.join(', ')}` : 'no policy permits it (default deny)';
    this.#record(call, { decision: 'deny', outcome: 'denied', detail: by });
    // the policy file's path is for the administrator: in the server log, never in the answer
    this.#deps.logger.info({ gateway: this.#deps.gatewayName, user: call.caller.username || call.caller.subject, tool: call.name, policies: decision.policies, policyFile: this.#deps.policy.file, ...(decision.failure !== undefined ? { failure: decision.failure } : {}) }, 'tools/call denied by policy');
    throw new McpError(toolRpcCode.PolicyDenied, `Policy decision DENY for ${call.name}: ${by}. Ask an administrator of gateway ${this.#deps.gatewayName} to permit it in the gateway's Cedar policy`, { decision: 'DENY', policies: decision.policies });
  }

  /** Credentials: the target's outbound credentials for this caller (one call; the credential providers live in credentials/). */
  async #credentials(call: ToolCall, entry: CatalogTarget, signal: AbortSignal): Promise<TargetCallScope | { failure: ToolCallError } | { consent: ConsentRequiredError }> {
    try {
      return { ...(await this.#scopeFor(call.caller, call.signal)(entry)), signal };
    } catch (error) {
      // The user has not consented at the SaaS yet (token vault): answered with the consent link, not a failure.
      if (error instanceof ConsentRequiredError) return { consent: error };
      return { failure: asToolError(error, entry.config.name) };
    }
  }

  /** Call: the target, under the call's deadline; its outbound span (HTTP targets send its context as `traceparent`). */
  async #call(call: ToolCall, entry: CatalogTarget, scope: TargetCallScope, signal: AbortSignal): Promise<CallToolResult> {
    const tool = call.tool!;
    const outbound = call.span ? startSpan(`call ${tool.target}`, 'lambda' in entry.config.targetConfiguration.mcp ? SpanKind.INTERNAL : SpanKind.CLIENT, call.span.context, { 'gatehouse.target': tool.target, 'gen_ai.tool.name': tool.tool }) : undefined;
    const called = outbound ? withTraceContext(outbound.context, () => entry.target.callTool(tool.tool, call.args, scope)) : entry.target.callTool(tool.tool, call.args, scope);
    if (outbound) endWhenSettled(outbound, called, signal);
    return Promise.race([
      called,
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    ]);
  }
}

type AllowedDecision = Exclude<CallDecision, 'deny'>;
interface CallEnding {
  readonly decision: CallDecision;
  readonly outcome: CallOutcome;
  readonly detail?: string;
}

/** A tools/call as the dispatcher is asked for it. */
export interface CallRequest {
  readonly caller: Caller;
  /** The bound MCP session ('' for the stateless revision). */
  readonly sessionId: string;
  readonly name: string;
  readonly args: Record<string, unknown>;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

/** One tools/call on its way through the steps. */
interface ToolCall {
  readonly caller: Caller;
  readonly sessionId: string;
  readonly name: string;
  readonly args: Record<string, unknown>;
  /** The caller's signal: aborted when the client goes away. */
  readonly signal: AbortSignal;
  readonly started: number;
  readonly span: StartedSpan | undefined;
  /** Set by `find`. */
  tool?: CatalogTool;
}

/** The caller's signal plus the target's timeout: aborted by whichever comes first. */
class CallDeadline {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #caller: AbortSignal;
  readonly #onAbort = (): void => this.#controller.abort(this.#caller.reason);

  constructor(caller: AbortSignal, entry: CatalogTarget) {
    this.#caller = caller;
    caller.addEventListener('abort', this.#onAbort, { once: true });
    this.#timer = setTimeout(() => this.#controller.abort(new ToolCallError('TargetTimeout', `Target ${entry.config.name} did not answer within ${entry.config.timeoutSeconds} s`)), entry.config.timeoutSeconds * 1000);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#caller.removeEventListener('abort', this.#onAbort);
  }
}

/** Ends the outbound span when the target answers, fails or is abandoned (timeout, caller gone). */
function endWhenSettled(outbound: StartedSpan, called: Promise<CallToolResult>, abandon: AbortSignal): void {
  let ended = false;
  const end = (failure?: string): void => {
    if (ended) return;
    ended = true;
    if (failure) failSpan(outbound.span, failure);
    outbound.span.end();
  };
  called.then(
    (result) => end(result.isError ? 'ToolError' : undefined),
    (error: unknown) => end(error instanceof ToolCallError ? error.code : 'TargetFailed'),
  );
  if (abandon.aborted) end('Abandoned');
  else abandon.addEventListener('abort', () => end(abandon.reason instanceof ToolCallError ? abandon.reason.code : 'Abandoned'), { once: true });
}

function asToolError(error: unknown, target: string): ToolCallError {
  if (error instanceof ToolCallError) return error;
  return new ToolCallError('TargetFailed', `Target ${target} failed: ${error instanceof Error ? redactText(error.message) : 'unknown error'}`);
}

/**
 * The answer for clients before MCP 2025-11-25: a tool error naming the link. `structuredContent.elicitation`
 * carries the URL-mode elicitation, which the endpoint turns into URLElicitationRequired (-32042) for newer clients.
 */
function consentResult(error: ConsentRequiredError): CallToolResult {
  const elicitation = error.elicitation;
  return {
    isError: true,
    content: [{ type: 'text', text: `ConsentRequired: ${error.message}` }],
    structuredContent: { error: 'ConsentRequired', message: error.message, provider: error.elicitation.provider, elicitation },
  };
}

function errorResult(code: string, message: string): CallToolResult {
  return { ...jsonResult({ error: code, message }, true), content: [{ type: 'text', text: `${code}: ${message}` }] };
}
