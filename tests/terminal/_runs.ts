/** Property-test run count: 200 by default, 5,000 with `SLOW=1` (when env access is granted). */
export function propertyRuns(): number {
  try {
    return Deno.env.get("SLOW") === "1" ? 5_000 : 200;
  } catch {
    return 200;
  }
}
