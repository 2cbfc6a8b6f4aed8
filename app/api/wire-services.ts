// Builds the core services on top of a Prisma Client and the chosen adapters (no config read here).
import { randomBytes } from "node:crypto";
import type { Db } from "../../adapters/prisma/prisma-client.ts";
import { PrismaAuditLog } from "../../adapters/prisma/prisma-audit-log.ts";
import { PrismaIdentityRepository } from "../../adapters/prisma/prisma-identity-repository.ts";
import { PrismaJobRepository } from "../../adapters/prisma/prisma-job-repository.ts";
import { PrismaLabelRepository } from "../../adapters/prisma/prisma-label-repository.ts";
import { PrismaModelRegistry } from "../../adapters/prisma/prisma-model-registry.ts";
import { PrismaOutbox } from "../../adapters/prisma/prisma-outbox.ts";
import { PrismaStudyRepository } from "../../adapters/prisma/prisma-study-repository.ts";
import { ImagingVolumeDecoder } from "../../adapters/imaging/imaging-volume-decoder.ts";
import type { ObjectStore } from "../../core/ports/object-store.port.ts";
import type { ResultBus } from "../../core/ports/result-bus.port.ts";
import type { TaskQueue } from "../../core/ports/task-queue.port.ts";
import type { TokenVerifier } from "../../core/ports/token-verifier.port.ts";
import { AuthService } from "../../core/services/auth.service.ts";
import { OutboxRelay } from "../../core/services/outbox-relay.ts";
import { SegmentationService } from "../../core/services/segmentation.service.ts";
import { StudyService } from "../../core/services/study.service.ts";
import type { Logger } from "pino";
import type { ApiServices } from "../../resolvers/graphql-context.ts";
import { MAX_PAGE_SIZE } from "../../resolvers/study.resolvers.ts";

/** Adapters the API needs. */
export interface ApiAdapters {
  readonly prisma: Db;
  readonly store: ObjectStore;
  readonly bus: ResultBus;
  /** In-process dispatch of outbox messages (embedded mode); absent when another process relays the outbox. */
  readonly queue?: TaskQueue | undefined;
  readonly tokens: TokenVerifier;
  readonly logger: Logger;
  readonly uploadMaxBytes: number;
  readonly uploadUrlTtlSeconds: number;
  /**
   * Key of the per-organisation DICOM UID mapping (DICOM_UID_SECRET, at least 32 characters).
   * Every composition root passes its deployment's: the mapping must be the same in every process
   * and after every restart. Unset (tests, benchmarks): a random key for this process only.
   */
  readonly dicomUidSecret?: string | undefined;
}

/** The wired services plus the pieces composition roots use directly. */
export interface WiredServices extends ApiServices {
  readonly auth: AuthService;
  /** Null when no in-process queue was given. */
  readonly relay: OutboxRelay | null;
  readonly identities: PrismaIdentityRepository;
  readonly models: PrismaModelRegistry;
  readonly jobs: PrismaJobRepository;
  readonly studyRepository: PrismaStudyRepository;
}

/** Wires repositories, services and the outbox relay. */
export function wireServices(a: ApiAdapters): WiredServices {
  const studies = new PrismaStudyRepository(a.prisma);
  const labels = new PrismaLabelRepository(a.prisma);
  const jobs = new PrismaJobRepository(a.prisma);
  const identities = new PrismaIdentityRepository(a.prisma);
  const models = new PrismaModelRegistry(a.prisma);
  const audit = new PrismaAuditLog(a.prisma);
  const relay = a.queue ? new OutboxRelay(new PrismaOutbox(a.prisma), a.queue, (err) => a.logger.error({ err }, "outbox relay failed")) : null;
  const limits = { uploadMaxBytes: a.uploadMaxBytes, uploadUrlTtlSeconds: a.uploadUrlTtlSeconds, maxPageSize: MAX_PAGE_SIZE };
  return {
    auth: new AuthService(identities, a.tokens),
    studies: new StudyService(
      studies, labels, a.store, new ImagingVolumeDecoder({ maxBytes: a.uploadMaxBytes }, { uidSecret: a.dicomUidSecret ?? randomBytes(32) }), audit, limits,
      // Ids and a count only: the keys' objects may hold DICOM headers, which never reach a log.
      (f) => a.logger.warn({ organizationId: f.organizationId, studyId: f.studyId, after: f.after, uploadCount: f.uploadCount, err: f.error }, "uploads not deleted after import"),
    ),
    segmentation: new SegmentationService(studies, jobs, models, a.bus, audit, () => void relay?.kick()),
    relay,
    identities,
    models,
    jobs,
    studyRepository: studies,
  };
}
