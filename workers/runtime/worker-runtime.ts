// The worker process's loop: long-poll tasks, run the handler, heartbeat visibility, ack only after commit.
import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "pino";
import type { InferenceTaskV1 } from "../../core/domain/inference-task.ts";
import type { JobEventV1 } from "../../core/domain/job-event.ts";
import type { SliceResultInput } from "../../core/domain/slice-result.ts";
import { isDomainError } from "../../core/errors/domain-error.ts";
import type { ObjectStore } from "../../core/ports/object-store.port.ts";
import { publishInOrder, type ResultBus } from "../../core/ports/result-bus.port.ts";
import type { SegmentationTaskHandler } from "../../core/ports/segmentation-task-handler.port.ts";
import type { SliceResultSink } from "../../core/ports/slice-result-sink.port.ts";
import { statusEvent } from "../../core/services/segmentation.service.ts";
import { InferenceError } from "../errors/inference-error.ts";
import { parseInferenceTask } from "./parse-inference-task.ts";
import type { ReceivedTaskMessage, TaskMessageSource } from "./task-message-source.port.ts";
import { WORKER_FAILURE_CODES } from "./worker-failure-codes.ts";
import { WorkerMetrics } from "./worker-metrics.ts";

/** Thrown inside a task when the runtime is shutting down: the message is released for another worker. */
export class TaskInterrupted extends Error {
  override readonly name = "TaskInterrupted";
}

/** How a message ended. */
/** `job_not_running`: the job was cancelled or finished (e.g. by another copy of the message) while the task ran. */
export type MessageOutcome = "ack" | "job_not_running" | "permanent_failure" | "retry" | "dead_lettered" | "release";

/** What one task message's handling did, for its log line (milliseconds; no patient data). */
interface TaskStats {
  /** Sum over the slices this task computed of each pipeline stage's milliseconds (SliceResult.timingsMs). */
  readonly stageMs: Record<string, number>;
  /** Slices whose result this task computed and wrote (new or already stored). */
  slicesComputed: number;
  /** Of those, the results that were new rows. */
  slicesStored: number;
  /** Time spent in result writes. */
  writeMs: number;
}

/** Collaborators and settings of {@link WorkerRuntime}. */
export interface WorkerRuntimeOptions {
  readonly source: TaskMessageSource;
  /** The job write side (the runtime fails jobs with it; the handler gets a guarded copy). */
  readonly sink: SliceResultSink;
  readonly store: ObjectStore;
  readonly bus: ResultBus;
  /** Builds the task handler (workers/pipeline) on the runtime's guarded (and timed) sink, store and bus. */
  readonly createHandler: (deps: { sink: SliceResultSink; store: ObjectStore; bus: ResultBus }) => SegmentationTaskHandler;
  readonly logger: Logger;
  /** Tasks handled at once (each its own long-poll loop); default 1. */
  readonly concurrency?: number;
  readonly metrics?: WorkerMetrics;
  /**
   * Delays (ms) of in-process retries of a transiently failing task before its message goes back to the
   * queue (default [500, 1000, 2000]): a database or storage blip of a few seconds then costs no receive.
   */
  readonly retryDelaysMs?: readonly number[];
  /** Called after every message with its outcome (tests and benchmarks wait on it). */
  readonly onMessageDone?: (info: { task: InferenceTaskV1 | null; outcome: MessageOutcome; message: ReceivedTaskMessage }) => void;
}

/**
 * Runs tasks from a {@link TaskMessageSource} (PROTOCOL.md §3):
 * - the message stays invisible while it runs (heartbeat every half visibility timeout);
 * - success, a cancelled/finished job (INVALID_STATE) → ack, after the handler's writes committed;
 * - a permanent error (DomainError, permanent InferenceError, malformed body) → job FAILED with
 *   the code, ack (a malformed body without ids is left for the dead-letter queue);
 * - anything else → retry with backoff; on the last allowed receive the job is FAILED with
 *   TASK_DEAD_LETTERED and the message is left for the dead-letter queue;
 * - `stop()` (SIGTERM): stop polling, let each running task finish its current batch of slices
 *   (the next pixel read throws {@link TaskInterrupted}), release unfinished messages at once;
 * - a slot takes its next message as soon as the handler of the previous one has returned; that
 *   message is acked once its events have left (at most one such message per slot).
 */
export class WorkerRuntime {
  readonly metrics: WorkerMetrics;
  private readonly hardStop = new AbortController();
  /** Tail of the chain of job-event publishes (see the constructor). */
  private publishing: Promise<void> = Promise.resolve();
  private stopping = false;
  private loops: Promise<void>[] = [];
  private readonly handler: SegmentationTaskHandler;
  private readonly log: Logger;
  /** The running task's {@link TaskStats} (each task runs inside its own store). */
  private readonly taskStats = new AsyncLocalStorage<TaskStats>();

  constructor(private readonly o: WorkerRuntimeOptions) {
    this.metrics = o.metrics ?? new WorkerMetrics();
    this.log = o.logger;
    // Pixel reads start each batch of slices: refusing them once stopping ends a task between batches.
    const guardedGet = (key: string) => (this.stopping ? Promise.reject(new TaskInterrupted("worker is stopping")) : o.store.get(key));
    const guardedStore = new Proxy(o.store, {
      get(target, prop) {
        if (prop === "get") return guardedGet;
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const sink = o.sink;
    const metrics = this.metrics;
    const taskStats = this.taskStats;
    /** Metrics and the running task's stats for one result write of `inputs`. */
    const recordWrite = (inputs: readonly SliceResultInput[], created: readonly boolean[], seconds: number) => {
      metrics.io.observe(seconds, { op: "save_results" });
      const stats = taskStats.getStore();
      if (stats) stats.writeMs += seconds * 1000;
      inputs.forEach((input, k) => {
        if (stats) {
          stats.slicesComputed++;
          for (const [stage, ms] of Object.entries(input.timingsMs)) stats.stageMs[stage] = (stats.stageMs[stage] ?? 0) + ms;
        }
        if (!created[k]) return;
        if (stats) stats.slicesStored++;
        metrics.slices.inc();
        for (const [stage, ms] of Object.entries(input.timingsMs)) metrics.stage.observe(ms / 1000, { stage });
      });
    };
    const guardedSink: SliceResultSink = {
      markRunning: (org, jobId) => sink.markRunning(org, jobId),
      recordSliceFailure: (org, jobId, sliceId, code) => sink.recordSliceFailure(org, jobId, sliceId, code),
      finish: (org, jobId, status, code) => sink.finish(org, jobId, status, code),
      async saveResult(org, input) {
        const started = performance.now();
        const saved = await sink.saveResult(org, input);
        recordWrite([input], [saved.created], (performance.now() - started) / 1000);
        return saved;
      },
      async saveResults(org, jobId, inputs) {
        const started = performance.now();
        const saved = await sink.saveResults(org, jobId, inputs);
        recordWrite(inputs, saved.results.map((r) => r.created), (performance.now() - started) / 1000);
        return saved;
      },
    };
    const bus = o.bus;
    const log = o.logger;
    // Events leave off the slice loop's critical path: they are queued in publish order and sent by
    // one drain at a time (so one worker's events keep their order), everything queued so far in one
    // `publishMany` (one NOTIFY statement for a batch of results); a task's message is acked only
    // after the queue has drained. Delivery is best effort by contract (subscribers resume from the
    // database), so a failed publish is logged.
    const queued: JobEventV1[] = [];
    const drain = async () => {
      while (queued.length > 0) {
        const events = queued.splice(0);
        const started = performance.now();
        try {
          await publishInOrder(bus, events);
        } catch (err) {
          log.warn({ err, jobIds: [...new Set(events.map((e) => e.jobId))], events: events.length }, "job event publish failed");
        }
        metrics.io.observe((performance.now() - started) / 1000, { op: "publish" });
      }
    };
    const enqueue = (events: readonly JobEventV1[]): Promise<void> => {
      const idle = queued.length === 0;
      queued.push(...events);
      // A drain already scheduled or running takes these too.
      if (idle && events.length > 0) this.publishing = this.publishing.then(drain);
      return Promise.resolve();
    };
    const timedBus: ResultBus = {
      publish: (event) => enqueue([event]),
      publishMany: (events) => enqueue(events),
      subscribe: (jobId, listener) => bus.subscribe(jobId, listener),
    };
    this.handler = o.createHandler({ sink: guardedSink, store: guardedStore, bus: timedBus });
  }

  /** Starts the polling loops. */
  start(): void {
    const n = Math.max(1, this.o.concurrency ?? 1);
    this.loops = Array.from({ length: n }, (_, slot) => this.loop(slot));
    this.log.info({ concurrency: n, visibilityTimeoutSeconds: this.o.source.visibilityTimeoutSeconds }, "worker polling");
  }

  /**
   * Stops polling and waits for the running tasks (graceful shutdown): at most the long-poll wait
   * plus the current batch of slices. `stop({ abortPolls: true })` also cuts the long polls short.
   */
  async stop(options: { abortPolls?: boolean } = {}): Promise<void> {
    this.stopping = true;
    if (options.abortPolls) this.hardStop.abort();
    await Promise.all(this.loops);
    await this.publishing;
    this.log.info("worker stopped");
  }

  private async loop(slot: number): Promise<void> {
    /** The previous message of this slot, while its events and ack are still going out. */
    let finishing: Promise<unknown> = Promise.resolve();
    while (!this.stopping) {
      let messages: ReceivedTaskMessage[];
      try {
        // Not aborted on stop: a long poll cut short client-side may still take a message on the
        // server, hiding it for a whole visibility timeout. Let it end (≤ wait time), then release.
        messages = await this.o.source.receive(1, this.hardStop.signal);
      } catch (err) {
        if (this.stopping) return;
        this.log.warn({ err, slot }, "receive failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, 1000).unref());
        continue;
      }
      for (const message of messages) {
        if (this.stopping) {
          await this.o.source.setVisibility(message, 0).catch((err: unknown) => this.log.warn({ err }, "could not release a message at shutdown"));
          this.metrics.messages.inc({ outcome: "release" });
          continue;
        }
        // Once the handler has returned, the message only waits for its events to leave and for
        // its ack: the slot polls and starts the next message meanwhile, and waits for that
        // finishing only after the next handler returned (at most one message finishing per slot).
        let handled!: () => void;
        const handlerReturned = new Promise<void>((resolve) => (handled = resolve));
        const done = this.handleMessage(message, handled);
        await Promise.race([handlerReturned, done]);
        await finishing;
        finishing = done;
      }
    }
    await finishing;
  }

  /**
   * Handles one message end to end; never throws. `onHandlerReturned` is called when the task
   * handler has returned successfully, before the message waits for its events and its ack.
   */
  async handleMessage(message: ReceivedTaskMessage, onHandlerReturned?: () => void): Promise<MessageOutcome> {
    const started = performance.now();
    const queueLagSeconds = Math.max(0, (Date.now() - message.sentAtMs) / 1000);
    this.metrics.queueLag.observe(queueLagSeconds);
    this.metrics.inFlight.inc({}, 1);
    const parsed = parseInferenceTask(message.body);
    const task = parsed.ok ? parsed.task : null;
    const log = this.log.child({ messageId: message.messageId, receiveCount: message.receiveCount, ...(task ? { jobId: task.jobId, taskId: task.taskId } : {}) });
    const heartbeatMs = Math.max(200, (this.o.source.visibilityTimeoutSeconds * 1000) / 2);
    const heartbeat = setInterval(() => {
      this.metrics.heartbeats.inc();
      this.o.source.setVisibility(message, this.o.source.visibilityTimeoutSeconds).catch((err: unknown) => log.warn({ err }, "visibility heartbeat failed"));
    }, heartbeatMs);
    const stats: TaskStats = { stageMs: {}, slicesComputed: 0, slicesStored: 0, writeMs: 0 };
    let outcome: MessageOutcome;
    try {
      outcome = parsed.ok
        ? await this.taskStats.run(stats, () => this.run(parsed.task, message, log, onHandlerReturned))
        : await this.malformed(parsed.problem, parsed.ids, message, log);
    } finally {
      clearInterval(heartbeat);
      this.metrics.inFlight.inc({}, -1);
    }
    const durationSeconds = (performance.now() - started) / 1000;
    this.metrics.taskDuration.observe(durationSeconds);
    this.metrics.messages.inc({ outcome });
    const ms = (x: number) => Math.round(x * 100) / 100;
    log.info({
      outcome, queueLagMs: Math.round(queueLagSeconds * 1000), durationMs: Math.round(durationSeconds * 1000), slices: task?.sliceIds.length ?? 0,
      slicesComputed: stats.slicesComputed, slicesStored: stats.slicesStored, writeMs: ms(stats.writeMs),
      stageMs: Object.fromEntries(Object.entries(stats.stageMs).map(([stage, v]) => [stage, ms(v)])),
    }, "task message done");
    this.o.onMessageDone?.({ task, outcome, message });
    return outcome;
  }

  private async run(task: InferenceTaskV1, message: ReceivedTaskMessage, log: Logger, onHandlerReturned?: () => void): Promise<MessageOutcome> {
    try {
      await this.handleWithRetries(task, log);
      onHandlerReturned?.();
      await this.publishing;
      await this.o.source.ack(message);
      return "ack";
    } catch (err) {
      try {
        if (err instanceof TaskInterrupted) {
          await this.o.source.setVisibility(message, 0);
          return "release";
        }
        if (isDomainError(err, "INVALID_STATE")) {
          await this.o.source.ack(message);
          return "job_not_running";
        }
        const permanentCode = isDomainError(err) ? err.code : err instanceof InferenceError && err.permanent ? err.code : null;
        if (permanentCode) {
          log.warn({ err, code: permanentCode }, "task failed permanently");
          await this.failJob(task.organizationId, task.jobId, permanentCode);
          await this.o.source.ack(message);
          return "permanent_failure";
        }
        return await this.transient(err, { jobId: task.jobId, organizationId: task.organizationId }, message, log);
      } catch (handlingError) {
        // Could not even record the outcome (e.g. the database is down): leave the message to reappear.
        log.error({ err: handlingError }, "could not record the task's outcome; it will be redelivered");
        return "retry";
      }
    }
  }

  /** Runs the handler; retries transient failures in process (the handler is idempotent). */
  private async handleWithRetries(task: InferenceTaskV1, log: Logger): Promise<void> {
    const delays = this.o.retryDelaysMs ?? [500, 1000, 2000];
    for (let attempt = 0; ; attempt++) {
      try {
        await this.handler.handle(task);
        return;
      } catch (err) {
        const permanent = err instanceof TaskInterrupted || isDomainError(err) || (err instanceof InferenceError && err.permanent);
        if (permanent || attempt >= delays.length || this.stopping) throw err;
        log.warn({ err, attempt: attempt + 1, retryInMs: delays[attempt] }, "task failed; retrying in process");
        await new Promise((resolve) => setTimeout(resolve, delays[attempt]));
      }
    }
  }

  private async malformed(problem: string, ids: { jobId: string; organizationId: string } | null, message: ReceivedTaskMessage, log: Logger): Promise<MessageOutcome> {
    log.error({ problem }, "malformed task message");
    try {
      return await this.transient(new Error(`malformed task: ${problem}`), ids, message, log, WORKER_FAILURE_CODES.TASK_MALFORMED);
    } catch (err) {
      log.error({ err }, "could not record the malformed message's outcome");
      return "retry";
    }
  }

  /** Transient failure: back off, or on the last allowed receive fail the job and leave the message for the DLQ. */
  private async transient(err: unknown, ids: { jobId: string; organizationId: string } | null, message: ReceivedTaskMessage, log: Logger, code: string = WORKER_FAILURE_CODES.TASK_DEAD_LETTERED): Promise<MessageOutcome> {
    if (message.receiveCount >= this.o.source.maxReceiveCount) {
      log.error({ err, code }, "task failed on its last allowed receive; the dead-letter queue takes it");
      if (ids) await this.failJob(ids.organizationId, ids.jobId, code);
      // Not acked: visible again immediately, so the queue's redrive moves it to the DLQ now.
      await this.o.source.setVisibility(message, 0);
      return "dead_lettered";
    }
    log.warn({ err }, "task failed; it will be redelivered");
    const backoffSeconds = Math.min(this.o.source.visibilityTimeoutSeconds, 2 ** (message.receiveCount - 1));
    await this.o.source.setVisibility(message, backoffSeconds);
    return "retry";
  }

  private async failJob(organizationId: string, jobId: string, code: string): Promise<void> {
    const job = await this.o.sink.finish(organizationId, jobId, "FAILED", code);
    if (job) await this.o.bus.publish(statusEvent(job));
  }
}
