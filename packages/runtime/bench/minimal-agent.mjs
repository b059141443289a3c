// The least an agent can be, for the cold-start measurement: node:http only (no WebSocket library,
// no SDK), GET /ping and POST /invocations answering JSON. Compared with the reference echo agent
// and with bare `node -e 0`, it shows how much of a cold start is Node starting versus Gatehouse.
// node:http through getBuiltinModule, not `import`: an ES module import of node:http evaluates its lazy WebSocket
// getters, which load Node's bundled undici (~50 ms, as long again as Node itself takes to start).
const { createServer } = process.getBuiltinModule('node:http');

createServer((request, response) => {
  if (request.url === '/ping') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"status":"Healthy","time_of_last_update":0}');
    return;
  }
  request.resume();
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"message":"ok"}');
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
