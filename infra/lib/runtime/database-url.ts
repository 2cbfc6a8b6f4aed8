// Builds the DATABASE_URL the app expects from the generated RDS secret's JSON.
import { z } from "zod";

const rdsSecretSchema = z.object({ username: z.string().min(1), password: z.string().min(1), host: z.string().min(1), port: z.coerce.number().int(), dbname: z.string().min(1) });

/**
 * `postgresql://user:password@host:port/dbname?sslmode=require` from an RDS secret (JSON with
 * username, password, host, port, dbname). `hostOverride` replaces the host (the RDS Proxy endpoint).
 * @throws Error when the JSON lacks a field
 */
export function databaseUrlFromSecret(secretJson: string, hostOverride?: string): string {
  const s = rdsSecretSchema.parse(JSON.parse(secretJson));
  const user = encodeURIComponent(s.username);
  const password = encodeURIComponent(s.password);
  return `postgresql://${user}:${password}@${hostOverride ?? s.host}:${s.port}/${encodeURIComponent(s.dbname)}?sslmode=require`;
}
