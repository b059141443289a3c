// Reference point for the bench: the least a Node.js HTTP proxy can do (no auth, no sessions, no
// logging) in front of the same agent, so the runtime's ratio can be read against what node:http
// itself keeps on this machine. Arguments: the agent's port. Prints one JSON line {port} when ready.
import { Agent, createServer, request } from 'node:http';

const agentPort = Number(process.argv[2]);
const agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });
const server = createServer((incoming, outgoing) => {
  const chunks: Buffer[] = [];
  incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
  incoming.on('end', () => {
    const body = Buffer.concat(chunks);
    const upstream = request({ host: '127.0.0.1', port: agentPort, method: 'POST', path: '/invocations', agent, headers: { ...incoming.headers, 'content-length': body.length } });
    upstream.on('response', (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    upstream.on('error', () => outgoing.destroy());
    upstream.end(body);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
