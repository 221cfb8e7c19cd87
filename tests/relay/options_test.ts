import assert from "node:assert/strict";
import {
  DEFAULT_RELAY_OPTIONS,
  EventLog,
  Metrics,
  RelayError,
  resolveRelayOptions,
} from "../../relay/mod.ts";

Deno.test("resolveRelayOptions() fills in the documented defaults", () => {
  const o = resolveRelayOptions({ port: 0 });
  assert.equal(o.port, 0);
  assert.equal(o.tcpPort, 4875);
  assert.equal(o.maxFrameBytes, 65536);
  assert.equal(o.host, DEFAULT_RELAY_OPTIONS.host);
});

Deno.test("resolveRelayOptions() rejects an out-of-range option with BAD_OPTION", () => {
  for (
    const bad of [{ port: 70000 }, { maxFrameBytes: 10 }, { heartbeatMs: 1.5 }, { cert: "x" }]
  ) {
    assert.throws(
      () => resolveRelayOptions(bad),
      (e: unknown) => e instanceof RelayError && e.code === "BAD_OPTION",
    );
  }
});

Deno.test("Metrics.render() writes Prometheus text with labels", () => {
  const m = new Metrics();
  m.rejectFrame("RATE_LIMITED");
  m.rejectEnvelope("QUEUE_FULL");
  m.envelopesRelayed = 3;
  const text = m.render({ connections: { tcp: 2 }, usersOnline: 1, queued: 4, queueBytes: 99 });
  assert.match(text, /^# HELP hush_connections /m);
  assert.match(text, /^hush_connections\{transport="tcp"\} 2$/m);
  assert.match(text, /^hush_frames_rejected_total\{reason="RATE_LIMITED"\} 1$/m);
  assert.match(text, /^hush_envelopes_rejected_total\{code="QUEUE_FULL"\} 1$/m);
  assert.match(text, /^hush_envelopes_relayed_total 3$/m);
  assert.match(text, /^hush_queue_bytes 99$/m);
});

Deno.test("EventLog writes timestamped lines and quotes values with spaces", () => {
  const lines: string[] = [];
  const log = new EventLog({ sink: (l) => lines.push(l) });
  log.write("error", { id: 3, detail: "two words", ok: true });
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z error id=3 detail="two words" ok=true$/);
  assert.ok(!new EventLog().enabled);
});
