// LabelRepository on Prisma. Every query filters by organizationId.
import type { GroundTruthMask } from "../../core/domain/ground-truth-mask.ts";
import type { Label } from "../../core/domain/label.ts";
import type { LabelAssignment, LabelRepository } from "../../core/ports/label-repository.port.ts";
import { DomainError } from "../../core/errors/domain-error.ts";
import type { Db } from "./prisma-client.ts";
import { groupBy, toDomain } from "./mappers.ts";

/** {@link LabelRepository} backed by Prisma. */
export class PrismaLabelRepository implements LabelRepository {
  constructor(private readonly db: Db) {}

  async setLabels(organizationId: string, studyId: string, authorId: string | null, labels: readonly LabelAssignment[]): Promise<Label[]> {
    const sliceIds = labels.flatMap((l) => (l.sliceId ? [l.sliceId] : []));
    const hasStudyLevel = labels.some((l) => l.sliceId === null);
    const rows = await this.db.$transaction(async (tx) => {
      await tx.label.deleteMany({
        where: { organizationId, studyId, OR: [{ sliceId: { in: sliceIds } }, ...(hasStudyLevel ? [{ sliceId: null }] : [])] },
      });
      return tx.label.createManyAndReturn({
        data: labels.map((l) => ({ organizationId, studyId, sliceId: l.sliceId, value: l.value, authorId })),
      });
    });
    const byTarget = new Map(rows.map((r) => [r.sliceId ?? "", r]));
    return labels.map((l) => toDomain.label(byTarget.get(l.sliceId ?? "")!));
  }

  async labelsByStudy(organizationId: string, studyIds: readonly string[]): Promise<Map<string, Label[]>> {
    const rows = await this.db.label.findMany({ where: { organizationId, studyId: { in: [...studyIds] } }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
    return groupBy(rows.map(toDomain.label), (l) => l.studyId);
  }

  async labelsBySlice(organizationId: string, sliceIds: readonly string[]): Promise<Map<string, Label[]>> {
    const rows = await this.db.label.findMany({ where: { organizationId, sliceId: { in: [...sliceIds] } }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
    return groupBy(rows.map(toDomain.label), (l) => l.sliceId!);
  }

  async groundTruthBySlice(organizationId: string, sliceIds: readonly string[]): Promise<Map<string, GroundTruthMask>> {
    const rows = await this.db.groundTruthMask.findMany({ where: { organizationId, sliceId: { in: [...sliceIds] } } });
    return new Map(rows.map((r) => [r.sliceId, toDomain.groundTruth(r)]));
  }

  async replaceGroundTruth(organizationId: string, masks: readonly Omit<GroundTruthMask, "id" | "organizationId">[]): Promise<void> {
    await this.db.$transaction(async (tx) => {
      await tx.groundTruthMask.deleteMany({ where: { organizationId, sliceId: { in: masks.map((m) => m.sliceId) } } });
      await tx.groundTruthMask.createMany({
        data: masks.map((m) => ({ organizationId, sliceId: m.sliceId, width: m.width, height: m.height, rle: [...m.rle] })),
      });
    });
  }

  async putGroundTruth(organizationId: string, mask: Omit<GroundTruthMask, "id" | "organizationId">): Promise<GroundTruthMask> {
    const slice = await this.db.slice.findFirst({ where: { id: mask.sliceId, organizationId }, select: { id: true } });
    if (!slice) throw new DomainError("NOT_FOUND", "slice not found", { entity: "Slice" });
    const data = { organizationId, sliceId: mask.sliceId, width: mask.width, height: mask.height, rle: [...mask.rle] };
    const row = await this.db.groundTruthMask.upsert({ where: { sliceId: mask.sliceId }, create: data, update: data });
    return toDomain.groundTruth(row);
  }
}
