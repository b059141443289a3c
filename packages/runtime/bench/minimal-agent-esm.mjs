// The minimal agent as it was before issue 21's cold-start work (bench/cold-start.ts "before" row): the same
// server (minimal-agent.mjs), but node:http first taken with an ES module import, which evaluates its lazy
// WebSocket getters and so loads Node's bundled undici at start.
import 'node:http';
await import('./minimal-agent.mjs');
