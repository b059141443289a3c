import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { probeIsolation } from '../src/agent-isolation.ts';
import { startHarness, type Harness } from './support/runtime-harness.ts';

const MCP_AGENT = fileURLToPath(new URL('../../../examples/mcp-agent/agent.mjs', import.meta.url));

function readHostCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

const support = probeIsolation();
const skip = support.available ? false : `network namespaces are not available here (${support.reason}); run the tests as root on Linux`;
if (skip) process.stdout.write(`# skipping isolated protocol tests: ${skip}\n`);

describe('an isolated MCP agent listens on its protocol’s port (8000) without being told', { skip }, () => {
  let harness: Harness;

  before(async () => {
    harness = await startHarness({
      runtimes: [
        {
          agentRuntimeName: 'isolated_tools',
          agent: { command: [process.execPath, MCP_AGENT] },
          protocolConfiguration: { serverProtocol: 'MCP' },
          isolation: { mode: 'namespace' },
          limits: { warmPoolSize: 0, startTimeoutSeconds: 20 },
        },
      ],
      dataParent: '/var/tmp',
    });
  });
  after(() => harness?.close());

  test('the official MCP client reaches the agent on 8000 inside its own network namespace', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(harness.url('isolated_tools')), { requestInit: { headers: { authorization: `Bearer ${harness.issuer.sign({ sub: 'alice' })}` } } });
    const client = new Client({ name: 'isolated-protocol-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const add = (await client.callTool({ name: 'add', arguments: { a: 20, b: 22 } })) as { content: { text: string }[] };
      assert.equal(add.content[0]!.text, '42');
      const seen = JSON.parse(((await client.callTool({ name: 'whoami', arguments: {} })) as { content: { text: string }[] }).content[0]!.text) as { port: number; pid: number; userId: string };
      assert.equal(seen.port, 8000, 'PROTOCOL_CONTRACTS.MCP.port, since isolation.agentPort is not set');
      assert.equal(seen.userId, 'alice');
      // A pid of the agent's own pid namespace: no process of the host has it with this agent's command line.
      assert.ok(!readHostCmdline(seen.pid).includes('mcp-agent'), `pid ${seen.pid} is the agent's own namespace's, not the host's`);
    } finally {
      await client.close();
    }
  });
});
