/** One section of `npm run bench`'s report (docs/benchmarks.md). Ratios are measured side by side in one run. */
export interface BenchRow {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** e.g. "target ≥ 0.64×" and whether it was met. */
  readonly note?: string;
}
export interface BenchSection {
  readonly title: string;
  readonly rows: readonly BenchRow[];
  readonly notes?: readonly string[];
}
