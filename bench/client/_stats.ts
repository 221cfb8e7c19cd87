/**
 * Small statistics and table helpers for the client benchmark: nearest-rank percentiles over
 * millisecond samples and a Markdown table printer.
 *
 * @module
 */

/** Summary of one series of samples, in the samples' unit (milliseconds here), rounded. */
export interface Summary {
  /** Number of samples. */
  n: number;
  /** Smallest sample. */
  min: number;
  /** Median (nearest rank). */
  p50: number;
  /** 90th percentile (nearest rank). */
  p90: number;
  /** 99th percentile (nearest rank; the maximum when n < 100). */
  p99: number;
  /** Largest sample. */
  max: number;
  /** Arithmetic mean. */
  mean: number;
}

/**
 * The nearest-rank percentile of sorted samples: the smallest sample with at least `p` percent
 * of the samples at or below it.
 *
 * @param sorted Samples in ascending order.
 * @param p Percentile, 0 to 100.
 * @returns The sample, or NaN when there are none.
 * @throws {RangeError} When `p` is outside 0..100.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`Percentile out of range: "${p}"`);
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? NaN;
}

/**
 * Rounds to a precision that suits milliseconds: 2 decimals below 10, 1 below 100, else whole.
 *
 * @param value The value.
 * @returns The rounded value.
 */
export function roundMs(value: number): number {
  if (!Number.isFinite(value)) return value;
  const digits = Math.abs(value) < 10 ? 100 : Math.abs(value) < 100 ? 10 : 1;
  return Math.round(value * digits) / digits;
}

/**
 * Summarizes samples: count, min, p50, p90, p99, max, mean (rounded with {@link roundMs}).
 *
 * @param samples The samples, in any order.
 * @returns The summary (NaN fields when there are no samples).
 */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.length === 0 ? NaN : sorted.reduce((s, x) => s + x, 0) / sorted.length;
  return {
    n: sorted.length,
    min: roundMs(sorted[0] ?? NaN),
    p50: roundMs(percentile(sorted, 50)),
    p90: roundMs(percentile(sorted, 90)),
    p99: roundMs(percentile(sorted, 99)),
    max: roundMs(sorted[sorted.length - 1] ?? NaN),
    mean: roundMs(mean),
  };
}

/**
 * Formats rows as a Markdown table, columns padded; columns after the first `leftColumns` are
 * right-aligned (numbers).
 *
 * @param header Column titles.
 * @param rows Cells, one array per row (as many cells as titles).
 * @param leftColumns How many leading columns are left-aligned text (default 1).
 * @returns The table, lines joined by newlines, without a final newline.
 */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  leftColumns = 1,
): string {
  const widths = header.map((title, c) =>
    Math.max(3, title.length, ...rows.map((row) => (row[c] ?? "").length))
  );
  const line = (cells: readonly string[]) =>
    `| ${
      widths.map((w, c) =>
        c < leftColumns ? (cells[c] ?? "").padEnd(w) : (cells[c] ?? "").padStart(w)
      )
        .join(" | ")
    } |`;
  const rule = `| ${
    widths.map((w, c) => c < leftColumns ? "-".repeat(w) : "-".repeat(w - 1) + ":").join(" | ")
  } |`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}
