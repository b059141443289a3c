// Only the tools/call rows of the gateway bench (for measuring one change at a time).
import { startBenchStack } from './bench-stack.ts';
import { measureToolsCall, toolsCallRows } from './tools-call.ts';

const stack = await startBenchStack();
try {
  for (const row of toolsCallRows(await measureToolsCall(stack))) console.log(`${row.value.toFixed(3).padStart(8)} ${row.unit}  ${row.name}${row.note ? `  (${row.note})` : ''}`);
} finally {
  await stack.close();
}
