// The minimal agent as it was before issue 21's cold-start work (bench/cold-start.ts "before" row): the same
// server, but node:http taken with an ES module import, which loads Node's bundled undici at start.
import { createServer } from 'node:http';

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
