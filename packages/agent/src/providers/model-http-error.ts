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
