/** Injected wherever time decides an outcome, so tests can freeze it. Milliseconds since epoch. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();
export const epochSeconds = (clock: Clock): number => Math.floor(clock() / 1000);
