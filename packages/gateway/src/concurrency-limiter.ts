/** Caps in-flight calls to one target; a call over the cap is refused at once (clear error, no unbounded queue). */
export class ConcurrencyLimiter {
  readonly limit: number;
  #active = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  tryAcquire(): (() => void) | undefined {
    if (this.#active >= this.limit) return undefined;
    this.#active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
    };
  }
}
