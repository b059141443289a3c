import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as cli from '@gatehouse/cli';
import { BRIDGE_ROLE, READ_ONLY_ROLE } from '@gatehouse/tools';
import { DEFAULT_GATEWAY_NAME, DEFAULT_RUNTIME_NAME, OPS_TARGET_NAME, OPS_TOOLS_FUNCTION, planDeployment } from '../src/index.ts';
import { parseConfig } from '@gatehouse/core';

test('the deployed defaults carry the names the local stack uses', () => {
  assert.deepEqual(
    { DEFAULT_RUNTIME_NAME, DEFAULT_GATEWAY_NAME, OPS_TARGET_NAME, OPS_TOOLS_FUNCTION },
    { DEFAULT_RUNTIME_NAME: cli.DEFAULT_RUNTIME_NAME, DEFAULT_GATEWAY_NAME: cli.DEFAULT_GATEWAY_NAME, OPS_TARGET_NAME: cli.OPS_TARGET_NAME, OPS_TOOLS_FUNCTION: cli.OPS_TOOLS_FUNCTION },
  );
  const plan = planDeployment(parseConfig({}), { configDir: '.', repoRoot: '.' });
  assert.equal(plan.bridgeRoleName, BRIDGE_ROLE);
  assert.deepEqual(plan.targetRoleNames, [READ_ONLY_ROLE]);
  assert.deepEqual(plan.runtimes.map((runtime) => runtime.name), [cli.DEFAULT_RUNTIME_NAME]);
  assert.deepEqual(plan.gateways.map((gateway) => [gateway.name, gateway.targets.map((target) => target.name)]), [[cli.DEFAULT_GATEWAY_NAME, [cli.OPS_TARGET_NAME]]]);
});
