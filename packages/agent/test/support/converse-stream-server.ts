import { createServer, type Http2ServerResponse, type IncomingHttpHeaders } from 'node:http2';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';


export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

export type Reply = (response: Http2ServerResponse) => void;

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const header = (value: string) => ({ type: 'string' as const, value });

/** One `application/vnd.amazon.eventstream` frame carrying a ConverseStream event. */
export function eventFrame(eventType: string, body: Record<string, unknown>): Uint8Array {
  return codec.encode({
    headers: { ':message-type': header('event'), ':event-type': header(eventType), ':content-type': header('application/json') },
    body: fromUtf8(JSON.stringify(body)),
  });
}

export function exceptionFrame(exceptionType: string, message: string): Uint8Array {
  return codec.encode({
    headers: { ':message-type': header('exception'), ':exception-type': header(exceptionType), ':content-type': header('application/json') },
    body: fromUtf8(JSON.stringify({ message })),
  });
}

export function streamReply(frames: readonly Uint8Array[]): Reply {
  return (response) => {
    response.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'req-test' });
    for (const frame of frames) response.write(frame);
    response.end();
  };
}

/** A restJson1 error as Bedrock sends it: status, `x-amzn-errortype`, `{"message"}`. */
export function errorReply(status: number, errorType: string, message: string): Reply {
  return (response) => {
    const body = JSON.stringify({ message });
    response.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': `${errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/`, 'x-amzn-requestid': 'req-test' });
    response.end(body);
  };
}

export function textAnswer(text: string): Reply {
  return streamReply([
    eventFrame('messageStart', { role: 'assistant' }),
    eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { text } }),
    eventFrame('contentBlockStop', { contentBlockIndex: 0 }),
    eventFrame('messageStop', { stopReason: 'end_turn' }),
  ]);
}

/**
 * A local endpoint speaking Bedrock's ConverseStream wire format. Replies are taken from a queue in order;
 * when the queue is empty the last reply repeats. Every request is recorded with its headers and JSON body.
 */
export async function startConverseStreamServer() {
  const requests: RecordedRequest[] = [];
  let replies: Reply[] = [];
  let last: Reply = textAnswer('default');
  // HTTP/2 without TLS (prior knowledge), as the Bedrock runtime client's default NodeHttp2Handler speaks it to an http:// endpoint.
  const server = createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks);
      requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {} });
      const reply = replies.shift() ?? last;
      last = reply;
      reply(response);
    })();
  });
  const port = await new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    reply(...next: Reply[]) {
      replies = [...next];
      last = next.at(-1) ?? last;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
