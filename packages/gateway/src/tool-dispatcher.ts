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
import type { AuditLog } from './audit-log.ts';
import type { Caller } from './caller.ts';
import type { CredentialResolver } from './credentials/resolve-credentials.ts';
import { ToolCallError, toolRpcCode } from './gateway-error.ts';
import type { PolicyEngine } from './policy-engine.ts';
import { SEARCH_TOOL, SEARCH_TOOL_NAME, searchTools } from './search-tools.ts';
import type { CatalogTarget, CatalogTool, ToolCatalog } from './tool-catalog.ts';
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
    this.#deps.policy.refresh();
    const policyVersion = this.#deps.policy.version;
    const key = `${caller.issuer}\u0000${caller.subject}\u0000${caller.clientId ?? ''}\u0000${caller.groups.join(',')}\u0000${caller.scopes.join(',')}`;
    const memo = this.#visible.get(key);
    if (memo && memo.tools === tools && memo.policyVersion === policyVersion) return memo.list;
    const list = tools.filter((tool) => this.#deps.policy.decide(caller, 'list', tool).allowed);
    if (this.#visible.size > 10_000) this.#visible.clear();
    this.#visible.set(key, { tools, policyVersion, list });
    return list;
  }

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
  async callTool(caller: Caller, sessionId: string, name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult> {
    try {
      return await this.#tracedCall(caller, sessionId, name, args, signal);
    } finally {
      await this.#deps.audit.settled();
    }
  }

  async #tracedCall(caller: Caller, sessionId: string, name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult> {
    const parent = activeTraceContext();
    if (!tracingEnabled() && !hasTraceContext(parent)) return this.#callTool(caller, sessionId, name, args, signal, undefined);
    // A span per tools/call with ids only: tool, target, decision, outcome — never arguments or results.
    const span = startSpan(`tools/call ${name}`, SpanKind.INTERNAL, parent, { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': name, 'gatehouse.gateway.name': this.#deps.gatewayName });
    try {
      return await this.#callTool(caller, sessionId, name, args, signal, span);
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
  recordRefusal(caller: Caller, sessionId: string, tool: string, reason: string): void {
    this.#record(caller, sessionId, tool, '', 'deny', 'refused', 0, reason);
  }

  #record(caller: Caller, sessionId: string, tool: string, target: string, decision: string, outcome: string, durationMs: number, detail: string): void {
    publishToolCall({ gateway: this.#deps.gatewayName, target, decision, outcome });
    this.#deps.audit.record({
        time: new Date(this.#deps.now()).toISOString(),
        gateway: this.#deps.gatewayName,
        user: caller.username || caller.subject,
        issuer: caller.issuer,
        clientId: caller.clientId ?? '',
        session: sessionId,
        tool,
        target,
        decision,
        outcome,
        durationMs: Math.round(durationMs * 10) / 10,
        detail,
      })
      // the row stays queued and is retried; AuditLog's onFlushError logs the failure
      .catch(() => undefined);
  }

  async #callTool(caller: Caller, sessionId: string, name: string, args: Record<string, unknown>, signal: AbortSignal, span: StartedSpan | undefined): Promise<CallToolResult> {
    const started = performance.now();
    const record = (tool: CatalogTool | undefined, decision: string, outcome: string, detail = ''): void => {
      if (span?.span.isRecording()) {
        span.span.setAttributes({ 'gatehouse.target': tool?.target ?? '', 'gatehouse.decision': decision, 'gatehouse.outcome': outcome });
        if (outcome !== 'ok') failSpan(span.span, outcome);
      }
      this.#record(caller, sessionId, name, tool?.target ?? '', decision, outcome, performance.now() - started, detail);
    };

    if (name === SEARCH_TOOL_NAME) {
      const query = typeof args.query === 'string' ? args.query : '';
      if (!query.trim()) throw new McpError(toolRpcCode.InvalidArguments, `${SEARCH_TOOL_NAME} needs a non-empty "query" string`);
      const visible = await this.visibleTools(caller, signal);
      const tools = searchTools(visible.map((tool) => tool.definition), query);
      record(undefined, 'allow', 'ok');
      return { content: [{ type: 'text', text: JSON.stringify({ tools }) }], structuredContent: { tools } };
    }

    const scopeFor = this.#scopeFor(caller, signal);
    const tool = await this.#deps.catalog.find(name, scopeFor);
    if (!tool) {
      record(undefined, 'deny', 'not-found');
      throw new McpError(toolRpcCode.ToolNotFound, `Unknown tool ${name}: call tools/list for the tools this gateway offers`);
    }
    const decision = this.#deps.policy.decide(caller, 'call', tool, args);
    if (!decision.allowed) {
      const by = decision.failure !== undefined
        ? 'the policy could not be evaluated for this call (default deny)'
        : decision.policies.length > 0 ? `forbidden by policy ${decision.policies.join(', ')}` : 'no policy permits it (default deny)';
      record(tool, 'deny', 'denied', by);
      // the policy file's path is for the administrator: in the server log, never in the answer
      this.#deps.logger.info({ gateway: this.#deps.gatewayName, user: caller.username || caller.subject, tool: name, policies: decision.policies, policyFile: this.#deps.policy.file, ...(decision.failure !== undefined ? { failure: decision.failure } : {}) }, 'tools/call denied by policy');
      throw new McpError(toolRpcCode.PolicyDenied, `Policy decision DENY for ${name}: ${by}. Ask an administrator of gateway ${this.#deps.gatewayName} to permit it in the gateway's Cedar policy`, { decision: 'DENY', policies: decision.policies });
    }
    const decisionLabel = decision.enforced ? 'allow' : 'log-only';
    const entry = this.#deps.catalog.target(tool.target)!;
    const release = entry.limiter.tryAcquire();
    if (!release) {
      record(tool, decisionLabel, 'busy');
      return errorResult('TargetBusy', `Target ${tool.target} already has ${entry.limiter.limit} calls in flight; retry shortly`);
    }
    const timeoutMs = entry.config.timeoutSeconds * 1000;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(new ToolCallError('TargetTimeout', `Target ${tool.target} did not answer within ${entry.config.timeoutSeconds} s`)), timeoutMs);
    try {
      let scope: TargetCallScope;
      try {
        scope = { ...(await scopeFor(entry)), signal: controller.signal };
      } catch (error) {
        const failure = asToolError(error, tool.target);
        record(tool, decisionLabel, 'credentials-unavailable', failure.message);
        return errorResult(failure.code, failure.message);
      }
      // The outbound call is a child span; HTTP targets send its context as `traceparent`.
      const outbound = span ? startSpan(`call ${tool.target}`, 'lambda' in entry.config.targetConfiguration.mcp ? SpanKind.INTERNAL : SpanKind.CLIENT, span.context, { 'gatehouse.target': tool.target, 'gen_ai.tool.name': tool.tool }) : undefined;
      const called = outbound ? withTraceContext(outbound.context, () => entry.target.callTool(tool.tool, args, scope)) : entry.target.callTool(tool.tool, args, scope);
      if (outbound) endWhenSettled(outbound, called, controller.signal);
      const result = await Promise.race([
        called,
        new Promise<never>((_, reject) => {
          if (controller.signal.aborted) reject(controller.signal.reason);
          controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
        }),
      ]);
      record(tool, decisionLabel, result.isError ? 'error' : 'ok');
      return result;
    } catch (error) {
      if (error instanceof McpError) {
        record(tool, decisionLabel, 'error', error.message);
        throw error;
      }
      const failure = asToolError(error, tool.target);
      record(tool, decisionLabel, failure.code === 'TargetTimeout' ? 'timeout' : 'error', failure.message);
      return errorResult(failure.code, failure.message);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      release();
    }
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

function errorResult(code: string, message: string): CallToolResult {
  return { ...jsonResult({ error: code, message }, true), content: [{ type: 'text', text: `${code}: ${message}` }] };
}
