/** Reads a `text/event-stream` body into `{event, data}` records (the subset model APIs use: event, data, comments). */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const reader = body.getReader();
  try {
    yield* parseSse(reader);
  } finally {
    // Stops the download when the consumer stops early (a cancelled turn).
    await reader.cancel().catch(() => undefined);
  }
}

async function* parseSse(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r?\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(buffer[newline] === '\r' ? newline + 2 : newline + 1);
      if (line === '') {
        if (data.length) yield { event: event || 'message', data: data.join('\n') };
        event = '';
        data = [];
      } else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
  }
  if (data.length) yield { event: event || 'message', data: data.join('\n') };
}

/** A non-2xx answer from an HTTP model API, shaped for `translateModelError` (status + provider message). */
export class ModelHttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ModelHttpError';
    this.status = status;
  }
}

export async function httpError(response: Response): Promise<ModelHttpError> {
  const text = await response.text().catch(() => '');
  let message = text.slice(0, 500);
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const nested = typeof parsed.error === 'object' ? parsed.error?.message : parsed.error;
    if (typeof nested === 'string') message = nested;
    else if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // not JSON: keep the text
  }
  return new ModelHttpError(response.status, message);
}

export class MissingApiKeyError extends Error {
  constructor() {
    super('API key missing');
    this.name = 'MissingApiKey';
  }
}
