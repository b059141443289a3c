// A minimal agent on the AgentCore container contract (GET /ping, POST /invocations on $PORT).
// It counts invocations in memory, so a continued session shows the same process and a growing
// count, and it appends one line per invocation to $AGENT_LOG, so a test can prove a refused
// request never reached any agent.
import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';
import { WebSocketServer } from 'ws';

let count = 0;
const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/ping') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'Healthy', time_of_last_update: Math.floor(Date.now() / 1000) }));
    return;
  }
  if (request.method === 'POST' && request.url === '/invocations') {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      count += 1;
      const sessionId = request.headers['x-amzn-bedrock-agentcore-runtime-session-id'] ?? '';
      const userId = request.headers['x-amzn-bedrock-agentcore-runtime-user-id'] ?? '';
      if (process.env.AGENT_LOG) appendFileSync(process.env.AGENT_LOG, `${JSON.stringify({ pid: process.pid, sessionId, userId, count })}\n`);
      const traceparent = request.headers.traceparent ?? null;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ pid: process.pid, count, sessionId, userId, traceparent, prompt: JSON.parse(Buffer.concat(chunks).toString() || '{}').prompt ?? null }));
    });
    return;
  }
  response.writeHead(404).end();
});
// GET /ws: every text frame is one more invocation of the same in-memory count, answered with a frame.
const sockets = new WebSocketServer({ server, path: '/ws' });
sockets.on('connection', (socket, request) => {
  socket.on('message', () => {
    count += 1;
    const sessionId = request.headers['x-amzn-bedrock-agentcore-runtime-session-id'] ?? '';
    socket.send(JSON.stringify({ pid: process.pid, count, sessionId }));
  });
});
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
// If the runtime instance is killed with SIGKILL it cannot stop its agents; don't outlive it.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 250).unref();
