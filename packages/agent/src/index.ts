import type { CommandHandler } from '@gatehouse/core';
import { doctorCommand } from './doctor-command.ts';

export { createAgentServer } from './agent-server.ts';
export type { AgentServer, AgentServerOptions } from './agent-server.ts';
export type { AgentEvent, AgentEventType } from './agent-event.ts';
export { AgentError, agentErrorStatus, isAgentError } from './agent-error.ts';
export type { AgentErrorCode } from './agent-error.ts';
export { runAgentTurn, DEFAULT_SYSTEM_PROMPT } from './agent-loop.ts';
export type { AgentTurnOptions } from './agent-loop.ts';
export { openGatewaySession } from './gateway-session.ts';
export type { GatewaySession, GatewaySessionOptions, ToolOutcome } from './gateway-session.ts';
export type { ModelProvider, ModelRequest, ModelChunk, ConversationMessage, ContentBlock, ToolSpec } from './model-provider.ts';
export { createModelProvider } from './create-model-provider.ts';
export { createOfflinePlanner, OFFLINE_LABEL } from './offline-planner.ts';
export { createScriptedModel } from './scripted-model.ts';
export type { ScriptedModel, ScriptedStep } from './scripted-model.ts';
export { readAgentSettings } from './agent-settings.ts';

export { agentEntryPath } from './agent-entry-path.ts';
export { createBedrockProvider } from './providers/bedrock-provider.ts';
export { createAnthropicProvider } from './providers/anthropic-provider.ts';
export { createOpenAiCompatibleProvider } from './providers/openai-compatible-provider.ts';

/** `gatehouse <verb>` handlers this package contributes. */
export const agentCommands: { readonly doctor: CommandHandler } = { doctor: doctorCommand };
