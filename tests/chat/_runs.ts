/** fast-check run count: 200 by default, 2,000 when `SLOW=1` and env access is granted. */
export function propertyRuns(): number {
  const granted = Deno.permissions.querySync({ name: "env", variable: "SLOW" }).state === "granted";
  return granted && Deno.env.get("SLOW") === "1" ? 2000 : 200;
}
