// Builds a Prisma Client on PostgreSQL (node-postgres pool) or on embedded PGlite.
import { PrismaPg } from "@prisma/adapter-pg";
import type { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../../generated/prisma/client.ts";

/** The generated Prisma Client type used by every repository. */
export type Db = PrismaClient;

/** A Prisma Client on PostgreSQL at `url`, with a pool of at most `poolSize` connections. */
export function createPgPrismaClient(url: string, poolSize = 10): Db {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: poolSize }) });
}

/** A Prisma Client on an open PGlite database. */
export function createPglitePrismaClient(pglite: PGlite): Db {
  return new PrismaClient({ adapter: new PrismaPGlite(pglite) });
}
