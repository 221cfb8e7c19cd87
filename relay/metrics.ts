/**
 * Relay counters and gauges, rendered in the Prometheus text format (0.0.4) for `GET /metrics`.
 *
 * @module
 */

/** Mutable counters the relay updates. */
export class Metrics {
  /** Connections accepted. */
  connectionsTotal = 0;
  /** Failed authentications (bad token or signature). */
  authFailuresTotal = 0;
  /** Envelopes delivered or queued (one per recipient). */
  envelopesRelayed = 0;
  /** Bytes of those envelopes. */
  bytesRelayed = 0;
  /** Queued envelopes dropped for age. */
  envelopesExpired = 0;
  /** Nick bindings released after --nick-ttl without use. */
  nicksReleased = 0;
  /** Turns whose store writes failed (SENDs rejected with STORE_FAILED). */
  storeFailures = 0;
  /** Connections closed, by error code. */
  framesRejected: Map<string, number> = new Map();
  /** SENDs answered with REJECTED, by code. */
  envelopesRejected: Map<string, number> = new Map();

  /**
   * Counts a frame refused with a code (fatal errors, protocol errors).
   *
   * @param reason The error code.
   */
  rejectFrame(reason: string): void {
    this.framesRejected.set(reason, (this.framesRejected.get(reason) ?? 0) + 1);
  }

  /**
   * Counts an envelope refused with REJECTED.
   *
   * @param code The REJECTED code.
   */
  rejectEnvelope(code: string): void {
    this.envelopesRejected.set(code, (this.envelopesRejected.get(code) ?? 0) + 1);
  }

  /**
   * Renders every metric.
   *
   * @param gauges Current values: connections per transport, online users, queue depth/bytes.
   * @returns Prometheus text.
   */
  render(gauges: {
    connections: Record<string, number>;
    usersOnline: number;
    queued: number;
    queueBytes: number;
  }): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
    };
    metric(
      "hush_connections",
      "gauge",
      "Open connections by transport.",
      Object.entries(gauges.connections).map(([t, n]) => [`{transport="${t}"}`, n]),
    );
    const one = (name: string, type: string, help: string, value: number) =>
      metric(name, type, help, [["", value]]);
    one("hush_connections_total", "counter", "Connections accepted.", this.connectionsTotal);
    one("hush_users_online", "gauge", "Authenticated nicks online.", gauges.usersOnline);
    one(
      "hush_envelopes_relayed_total",
      "counter",
      "Envelopes delivered or queued.",
      this.envelopesRelayed,
    );
    one(
      "hush_bytes_relayed_total",
      "counter",
      "Envelope bytes delivered or queued.",
      this.bytesRelayed,
    );
    const queueNote = "(with --store also live deliveries not yet acknowledged)";
    one("hush_envelopes_queued", "gauge", `Envelopes in nick queues ${queueNote}.`, gauges.queued);
    one("hush_queue_bytes", "gauge", `Bytes in nick queues ${queueNote}.`, gauges.queueBytes);
    one(
      "hush_envelopes_expired_total",
      "counter",
      "Queued envelopes dropped for age.",
      this.envelopesExpired,
    );
    one(
      "hush_nicks_released_total",
      "counter",
      "Nick bindings released after --nick-ttl without use.",
      this.nicksReleased,
    );
    one(
      "hush_store_failures_total",
      "counter",
      "Store writes or commits that failed (their SENDs got REJECTED STORE_FAILED).",
      this.storeFailures,
    );
    one("hush_auth_failures_total", "counter", "Failed authentications.", this.authFailuresTotal);
    metric(
      "hush_frames_rejected_total",
      "counter",
      "Connections closed by error code.",
      [...this.framesRejected].map(([r, n]) => [`{reason="${r}"}`, n]),
    );
    metric(
      "hush_envelopes_rejected_total",
      "counter",
      "SENDs answered with REJECTED, by code.",
      [...this.envelopesRejected].map(([c, n]) => [`{code="${c}"}`, n]),
    );
    return lines.join("\n") + "\n";
  }
}
