// ResultBus over PostgreSQL LISTEN/NOTIFY, so events cross processes (workers → API servers).
import pg from "pg";
import type { JobEventV1, JobProgressCounts } from "../../core/domain/job-event.ts";
import type { SliceResult } from "../../core/domain/slice-result.ts";
import type { ResultBus } from "../../core/ports/result-bus.port.ts";

/** The NOTIFY channel. */
export const JOB_EVENTS_CHANNEL = "coinseg_job_events";

/** NOTIFY payloads must stay under 8000 bytes; larger events travel as a reference. */
const MAX_PAYLOAD_BYTES = 7000;

type Wire = JobEventV1 | { schemaVersion: 1; kind: "SLICE_RESULT_REF"; organizationId: string; jobId: string; sliceId: string; progress?: JobProgressCounts };

/**
 * {@link ResultBus} on LISTEN/NOTIFY. A SLICE_RESULT too large for a notification is sent as a
 * reference (with the event's `progress`) and re-read with `loadResult` on the receiving side; a
 * job's events reach listeners in the order they arrived, references included. `publishMany` sends a batch of events
 * as that many notifications from one statement (one round trip, one commit), in order. Call `start()`
 * to receive events and `close()` at shutdown.
 *
 * The publishing connections run with `synchronous_commit = off`: a notify-only transaction has
 * nothing durable to wait for (notifications do not survive a server crash either way), so its commit
 * need not wait for the WAL flush.
 */
export class PgNotifyResultBus implements ResultBus {
  private readonly listeners = new Map<string, Set<(event: JobEventV1) => void>>();
  /** Per job, the tail of the deliveries in progress (a reference's re-read must not be overtaken). */
  private readonly deliveries = new Map<string, Promise<void>>();
  private listenClient: pg.Client | null = null;
  private readonly pool: pg.Pool;

  constructor(
    private readonly connectionString: string,
    private readonly loadResult: (organizationId: string, jobId: string, sliceId: string) => Promise<SliceResult | null>,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.pool = new pg.Pool({ connectionString, max: 2, options: "-c synchronous_commit=off" });
    // An idle client whose connection drops emits "error" on the pool; unhandled, it would crash the process.
    this.pool.on("error", (error) => this.onError(error));
  }

  /** Starts listening (not needed for a publish-only process such as a Lambda). */
  async start(): Promise<void> {
    this.listenClient = new pg.Client({ connectionString: this.connectionString });
    await this.listenClient.connect();
    this.listenClient.on("notification", (msg) => {
      if (msg.channel !== JOB_EVENTS_CHANNEL || !msg.payload) return;
      this.deliverInOrder(JSON.parse(msg.payload) as Wire);
    });
    await this.listenClient.query(`LISTEN ${JOB_EVENTS_CHANNEL}`);
  }

  async publish(event: JobEventV1): Promise<void> {
    await this.pool.query("SELECT pg_notify($1, $2)", [JOB_EVENTS_CHANNEL, wirePayload(event)]);
  }

  async publishMany(events: readonly JobEventV1[]): Promise<void> {
    if (events.length === 0) return;
    // Notifications of one transaction are delivered in the order they were raised; ORDER BY keeps
    // the array's order (volatile target-list functions are evaluated after the sort). PostgreSQL
    // folds identical payloads of one transaction into one: only identical STATUS events can be.
    await this.pool.query("SELECT pg_notify($1, payload) FROM unnest($2::text[]) WITH ORDINALITY AS t(payload, n) ORDER BY n", [JOB_EVENTS_CHANNEL, events.map(wirePayload)]);
  }

  subscribe(jobId: string, listener: (event: JobEventV1) => void): () => void {
    let set = this.listeners.get(jobId);
    if (!set) this.listeners.set(jobId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(jobId);
    };
  }

  async close(): Promise<void> {
    await this.listenClient?.end();
    await this.pool.end();
  }

  /** Delivers one job's events in arrival (= publish) order, also when a reference must be re-read first. */
  private deliverInOrder(wire: Wire): void {
    if (!this.listeners.has(wire.jobId)) return;
    const previous = this.deliveries.get(wire.jobId) ?? Promise.resolve();
    const next = previous.then(() => this.dispatch(wire)).catch(this.onError);
    this.deliveries.set(wire.jobId, next);
    void next.then(() => {
      if (this.deliveries.get(wire.jobId) === next) this.deliveries.delete(wire.jobId);
    });
  }

  private async dispatch(wire: Wire): Promise<void> {
    const set = this.listeners.get(wire.jobId);
    if (!set || set.size === 0) return;
    let event: JobEventV1;
    if (wire.kind === "SLICE_RESULT_REF") {
      const result = await this.loadResult(wire.organizationId, wire.jobId, wire.sliceId);
      if (!result) return;
      event = { schemaVersion: 1, kind: "SLICE_RESULT", organizationId: wire.organizationId, jobId: wire.jobId, result, ...(wire.progress ? { progress: wire.progress } : {}) };
    } else if (wire.kind === "SLICE_RESULT") {
      event = { ...wire, result: { ...wire.result, createdAt: new Date(wire.result.createdAt) } };
    } else {
      event = wire;
    }
    for (const listener of set) listener(event);
  }
}

/** The notification text of `event`: its JSON, or a reference when that is too large for NOTIFY. */
function wirePayload(event: JobEventV1): string {
  const payload = JSON.stringify(event);
  if (Buffer.byteLength(payload) <= MAX_PAYLOAD_BYTES || event.kind !== "SLICE_RESULT") return payload;
  const ref: Wire = {
    schemaVersion: 1, kind: "SLICE_RESULT_REF", organizationId: event.organizationId, jobId: event.jobId, sliceId: event.result.sliceId,
    ...(event.progress ? { progress: event.progress } : {}),
  };
  return JSON.stringify(ref);
}
