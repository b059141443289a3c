import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * The one Server-Sent Events reader of Gatehouse (agent providers, the web app, test support), on
 * `eventsource-parser` (WHATWG HTML §9.2: lines end in LF, CR or CRLF; comments and unknown fields skipped).
 * Browser-safe: the web app imports it as `@gatehouse/core/sse`.
 */
export interface SseMessage {
  /** The `event:` field, or undefined for the default `message`. */
  readonly event: string | undefined;
  readonly data: string;
}

/** A parser whose messages are taken out after each feed; `end()` delivers a last event that lacks its blank line. */
function messageParser() {
  let messages: SseMessage[] = [];
  const parser = createParser({ onEvent: (message: EventSourceMessage) => messages.push({ event: message.event, data: message.data }) });
  const take = (): SseMessage[] => {
    const taken = messages;
    messages = [];
    return taken;
  };
  return {
    feed(text: string): SseMessage[] {
      parser.feed(text);
      return take();
    },
    /** A stream that ends without the blank line still delivers its last complete event (model APIs do this). */
    end(): SseMessage[] {
      parser.feed('\n\n');
      return take();
    },
  };
}

/**
 * Reads a `text/event-stream` body incrementally; chunks may split anywhere, including inside a multi-byte
 * character or between CR and LF. Stopping early (a cancelled turn) cancels the download.
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = messageParser();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      yield* parser.feed(decoder.decode(value, { stream: true }));
    }
    yield* parser.feed(decoder.decode());
    yield* parser.end();
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The events of a whole `text/event-stream` text (a body already read, as tests have it). */
export function parseSseText(text: string): SseMessage[] {
  const parser = messageParser();
  return [...parser.feed(text), ...parser.end()];
}
