// StudyRepository on Prisma. Every query filters by organizationId.
import { randomUUID } from "node:crypto";
import type { Page } from "../../core/domain/page.ts";
import type { Series } from "../../core/domain/series.ts";
import type { Slice } from "../../core/domain/slice.ts";
import type { Study } from "../../core/domain/study.ts";
import type { NewSeries, StudyFilter, StudyRepository } from "../../core/ports/study-repository.port.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import type { Db } from "./prisma-client.ts";
import { groupBy, toDomain } from "./mappers.ts";

/** {@link StudyRepository} backed by Prisma. */
export class PrismaStudyRepository implements StudyRepository {
  constructor(private readonly db: Db) {}

  async createStudy(organizationId: string, input: { title: string; createdById: string | null }): Promise<Study> {
    return toDomain.study(await this.db.study.create({ data: { organizationId, title: input.title, createdById: input.createdById } }));
  }

  async findStudy(organizationId: string, studyId: string): Promise<Study | null> {
    const row = await this.db.study.findFirst({ where: { id: studyId, organizationId } });
    return row ? toDomain.study(row) : null;
  }

  async findStudies(organizationId: string, studyIds: readonly string[]): Promise<Map<string, Study>> {
    const rows = await this.db.study.findMany({ where: { organizationId, id: { in: [...studyIds] } } });
    return new Map(rows.map((r) => [r.id, toDomain.study(r)]));
  }

  async listStudies(organizationId: string, filter: StudyFilter, first: number, after: readonly [string, string] | null): Promise<Page<Study>> {
    const where: Prisma.StudyWhereInput = { organizationId };
    if (filter.status) where.status = filter.status;
    if (filter.label) where.labels = { some: { value: filter.label } };
    if (after) {
      const at = new Date(after[0]);
      where.OR = [{ createdAt: { lt: at } }, { createdAt: at, id: { lt: after[1] } }];
    }
    const rows = await this.db.study.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: first + 1 });
    return { items: rows.slice(0, first).map(toDomain.study), hasNextPage: rows.length > first };
  }

  async deleteStudy(organizationId: string, studyId: string): Promise<boolean> {
    const { count } = await this.db.study.deleteMany({ where: { id: studyId, organizationId } });
    return count > 0;
  }

  async attachSeries(organizationId: string, studyId: string, series: NewSeries): Promise<Series> {
    const seriesId = randomUUID();
    const [row] = await this.db.$transaction([
      this.db.series.create({
        data: {
          id: seriesId, organizationId, studyId, seriesInstanceUID: series.seriesInstanceUID, description: series.description,
          sourceFormat: series.sourceFormat, dimsIJK: [...series.dimsIJK], spacingMm: [...series.spacingMm],
          originLPS: [...series.originLPS], directionLPS: [...series.directionLPS],
        },
      }),
      this.db.slice.createMany({
        data: series.slices.map((s) => ({
          organizationId, studyId, seriesId, sliceIndex: s.sliceIndex, width: s.width, height: s.height,
          spacingMm: [...s.spacingMm], positionLPS: [...s.positionLPS], storageKey: s.storageKey,
        })),
      }),
      this.db.study.updateMany({ where: { id: studyId, organizationId }, data: { status: "READY", ...(series.studyInstanceUID ? { studyInstanceUID: series.studyInstanceUID } : {}) } }),
    ]);
    return toDomain.series(row);
  }

  async seriesByStudy(organizationId: string, studyIds: readonly string[]): Promise<Map<string, Series[]>> {
    const rows = await this.db.series.findMany({ where: { organizationId, studyId: { in: [...studyIds] } }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
    return groupBy(rows.map(toDomain.series), (s) => s.studyId);
  }

  async slicesByStudy(organizationId: string, studyIds: readonly string[]): Promise<Map<string, Slice[]>> {
    const rows = await this.db.slice.findMany({
      where: { organizationId, studyId: { in: [...studyIds] } },
      orderBy: [{ studyId: "asc" }, { seriesId: "asc" }, { sliceIndex: "asc" }],
    });
    return groupBy(rows.map(toDomain.slice), (s) => s.studyId);
  }

  async findSlices(organizationId: string, sliceIds: readonly string[]): Promise<Map<string, Slice>> {
    if (sliceIds.length === 0) return new Map();
    const rows = await this.db.slice.findMany({ where: { organizationId, id: { in: [...sliceIds] } } });
    return new Map(rows.map((r) => [r.id, toDomain.slice(r)]));
  }
}
