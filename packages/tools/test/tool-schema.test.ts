import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TOOL_SCHEMA } from '../src/index.ts';
import { TOOL_ARGUMENTS } from '../src/tool-schema.ts';

// What tools/list advertised when the JSON Schema was written by hand beside the zod schemas (saved before the
// generator replaced it): the generated schema must be exactly this, so no MCP client or AWS gateway target sees a change.
const before = JSON.parse(readFileSync(new URL('./fixtures/tool-schema-before-generation.json', import.meta.url), 'utf8')) as unknown;

test('the JSON Schema generated from the zod arguments (z.toJSONSchema) is the schema advertised before, tool by tool', () => {
  assert.deepEqual(TOOL_SCHEMA, before);
  assert.deepEqual(TOOL_SCHEMA.map((entry) => entry.name), Object.keys(TOOL_ARGUMENTS));
});

test('a field added to a zod schema shows up in the advertised schema: one definition, not two', () => {
  const list = TOOL_SCHEMA.find((entry) => entry.name === 'bucket_objects_list');
  assert.deepEqual(Object.keys(list?.inputSchema.properties ?? {}), Object.keys(TOOL_ARGUMENTS.bucket_objects_list.shape));
  assert.deepEqual(list?.inputSchema.required, ['account', 'bucket']);
  assert.equal(list?.inputSchema.additionalProperties, false);
});
