// ModelRegistry on Prisma (the global Model table).
import type { ModelEntry } from "../../core/domain/model-entry.ts";
import type { ModelRegistry } from "../../core/ports/model-registry.port.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import type { Db } from "./prisma-client.ts";
import { toDomain } from "./mappers.ts";

/** {@link ModelRegistry} backed by Prisma. */
export class PrismaModelRegistry implements ModelRegistry {
  constructor(private readonly db: Db) {}

  async findByKey(key: string): Promise<ModelEntry | null> {
    const row = await this.db.model.findUnique({ where: { key } });
    return row ? toDomain.model(row) : null;
  }

  async list(): Promise<ModelEntry[]> {
    return (await this.db.model.findMany({ orderBy: { key: "asc" } })).map(toDomain.model);
  }

  async register(entry: Omit<ModelEntry, "id">): Promise<ModelEntry> {
    const data = { key: entry.key, kind: entry.kind, version: entry.version, sha256: entry.sha256, spec: entry.spec as Prisma.InputJsonValue };
    return toDomain.model(await this.db.model.upsert({ where: { key: entry.key }, create: data, update: data }));
  }
}
