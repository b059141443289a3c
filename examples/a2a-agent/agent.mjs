#!/usr/bin/env node
// An A2A agent for a runtime with protocolConfiguration.serverProtocol A2A (AgentCore's A2A contract), built with
// the official @a2a-js/sdk server (express):
//   POST /                              A2A JSON-RPC 2.0 (SendMessage, SendStreamingMessage, GetTask, …)
//   GET  /.well-known/agent-card.json   its agent card (Gatehouse points the card's URL back through the runtime)
//   GET  /ping                          {"status":"Healthy"} (Gatehouse waits for it before the first request)
// It listens on $PORT (default 9000, the A2A contract's port) on 127.0.0.1 ($HOST to change it) and answers each
// message with "echo: <text>", naming the user the runtime verified (X-Amzn-Bedrock-AgentCore-Runtime-User-Id).
import { randomUUID } from 'node:crypto';
import express from 'express';
import { Role } from '@a2a-js/sdk';
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler } from '@a2a-js/sdk/server/express';

const port = Number(process.env.PORT ?? 9000);
const host = process.env.HOST ?? '127.0.0.1';
// AgentCore's samples read the public URL from AGENTCORE_RUNTIME_URL; Gatehouse rewrites the card's URL anyway.
const publicUrl = process.env.AGENTCORE_RUNTIME_URL ?? `http://${host}:${port}/`;

const card = {
  name: 'Gatehouse A2A echo agent',
  description: 'Answers every message with its text, and says which user it serves.',
  supportedInterfaces: [{ url: publicUrl, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' }],
  provider: undefined,
  version: '1.0.0',
  capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
  securitySchemes: {},
  securityRequirements: [],
  defaultInputModes: ['text/plain'],
  defaultOutputModes: ['text/plain'],
  skills: [{ id: 'echo', name: 'Echo', description: 'Repeats the message', tags: ['echo'], examples: ['hello'], inputModes: [], outputModes: [], securityRequirements: [] }],
  signatures: [],
};

const textPart = (value) => ({ content: { $case: 'text', value }, metadata: undefined, filename: '', mediaType: 'text/plain' });

const executor = {
  async execute(context, bus) {
    const text = context.userMessage.parts.map((part) => (part.content?.$case === 'text' ? part.content.value : '')).join('');
    const user = context.context.user?.userName ?? 'anonymous';
    bus.publish(
      AgentEvent.message({
        messageId: randomUUID(),
        contextId: context.contextId,
        taskId: '',
        role: Role.ROLE_AGENT,
        parts: [textPart(`echo: ${text}`)],
        metadata: { userId: user, pid: process.pid },
        extensions: [],
        referenceTaskIds: [],
      }),
    );
    bus.finished();
  },
  async cancelTask() {
    // Answers are immediate: nothing to cancel.
  },
};

const handler = new DefaultRequestHandler(card, new InMemoryTaskStore(), executor);
// The runtime in front verified the caller; the user it names is trusted here (the agent never sees the token).
const userBuilder = async (request) => {
  const id = request.header('x-amzn-bedrock-agentcore-runtime-user-id');
  return { get isAuthenticated() { return id !== undefined; }, get userName() { return id ?? ''; } };
};

const app = express();
app.get('/ping', (_request, response) => response.json({ status: 'Healthy', time_of_last_update: Math.floor(Date.now() / 1000) }));
app.use('/.well-known/agent-card.json', agentCardHandler({ agentCardProvider: handler }));
app.use('/', jsonRpcHandler({ requestHandler: handler, userBuilder }));
const server = app.listen(port, host, () => process.stderr.write(`a2a-agent: listening on ${host}:${port}/\n`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
