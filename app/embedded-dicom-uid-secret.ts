// Embedded mode's DICOM UID secret: generated once per PGlite data folder and kept beside it.
import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

/** Shortest secret accepted from the file, in characters (the same bound as DICOM_UID_SECRET). */
const MIN_LENGTH = 32;

/**
 * The file that holds the secret of a PGlite data folder: `<folder>.dicom-uid-secret`, beside the
 * folder rather than inside it (PGlite initialises only an empty folder).
 */
export function embeddedDicomUidSecretFile(pgliteDataDir: string): string {
  return `${path.resolve(pgliteDataDir)}.dicom-uid-secret`;
}

/**
 * The key of the DICOM UID mapping for an embedded database: read from
 * {@link embeddedDicomUidSecretFile}, or, on first use, 32 random bytes (hex) written there with
 * mode 0600, so the same source UIDs keep mapping to the same stored UIDs after a restart. For
 * `memory://` (a database that lives as long as the process) a fresh key that is not stored.
 * @throws Error when the file exists but holds fewer than 32 characters (it is never overwritten:
 *   that would silently change the mapping).
 */
export async function embeddedDicomUidSecret(pgliteDataDir: string): Promise<string> {
  const fresh = randomBytes(32).toString("hex");
  if (pgliteDataDir === "memory://") return fresh;
  const file = embeddedDicomUidSecretFile(pgliteDataDir);
  await mkdir(path.dirname(file), { recursive: true });
  // Written whole to a temporary file, then linked into place: link fails when the file exists,
  // so a concurrent start never reads half a secret nor replaces the one already in use.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.partial`;
  await writeFile(tmp, `${fresh}\n`, { mode: 0o600 });
  try {
    await link(tmp, file);
    return fresh;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await rm(tmp, { force: true });
  }
  const stored = (await readFile(file, "utf8")).trim();
  if (stored.length < MIN_LENGTH) {
    throw new Error(`${file} does not hold a DICOM UID secret of at least ${MIN_LENGTH} characters; restore it, or set DICOM_UID_SECRET`);
  }
  return stored;
}
