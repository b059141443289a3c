// A test agent (AgentCore contract on $PORT): each invocation is logged to $WHOAMI_LOG (which headers it got,
// never their values beyond the user id), then it calls the gateway's `who___whoami` tool with its workload
// access token and answers with what the tool saw. Used to show who reaches the agent and as whom tools act.
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const parent = Number(process.env.GATEHOUSE_PARENT_PID);
if (parent > 0) setInterval(() => { try { process.kill(parent, 0); } catch { process.exit(0); } }, 1000).unref();

createServer(async (request, response) => {
  if (request.method === 'GET' && request.url === '/ping') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'Healthy', time_of_last_update: Math.floor(Date.now() / 1000) }));
    return;
  }
  if (request.method !== 'POST' || request.url !== '/invocations') {
    response.writeHead(404).end();
    return;
  }
  let body = '';
  for await (const chunk of request) body += chunk;
  const token = request.headers.workloadaccesstoken;
  const user = request.headers['x-amzn-bedrock-agentcore-runtime-user-id'];
  const prompt = (() => { try { return JSON.parse(body).prompt; } catch { return undefined; } })();
  const result = { user, prompt, hasWorkloadToken: typeof token === 'string', headers: Object.keys(request.headers).sort(), authorization: request.headers.authorization !== undefined };
  if (process.env.WHOAMI_LOG) appendFileSync(process.env.WHOAMI_LOG, `${JSON.stringify({ user, prompt })}\n`);
  if (typeof token === 'string') {
    result.workloadClaims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
    const client = new Client({ name: 'whoami-agent', version: '1.0.0' });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(process.env.GATEHOUSE_GATEWAY_URL), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      const call = await client.callTool({ name: 'who___whoami', arguments: {} });
      result.tool = call.structuredContent ?? call.content;
    } catch (error) {
      result.toolError = String(error?.message ?? error);
    } finally {
      await client.close().catch(() => undefined);
    }
  }
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
}).listen(Number(process.env.PORT), '127.0.0.1');
