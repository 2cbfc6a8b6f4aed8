// Minimal typings for the parts of dcmjs (which ships none) that coinseg uses.
declare module "dcmjs" {
  /** dcmjs's in-memory Part 10 file: meta header + data set, tag (8 hex digits) → { vr, Value }. */
  class DicomDict {
    constructor(meta: Record<string, unknown>);
    meta: Record<string, { vr: string; Value?: unknown[] }>;
    dict: Record<string, { vr: string; Value?: unknown[] }>;
    /** Serialises as a Part 10 file in the transfer syntax named in the meta header. */
    write(options?: Record<string, unknown>): ArrayBuffer;
  }
  const dcmjs: {
    data: {
      DicomDict: typeof DicomDict;
      DicomMessage: {
        readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): DicomDict;
      };
      DicomMetaDictionary: {
        naturalizeDataset(dict: Record<string, unknown>): Record<string, unknown>;
        denaturalizeDataset(ds: Record<string, unknown>): Record<string, unknown>;
        uid(): string;
      };
    };
    log: { setLevel(level: string): void; level?: unknown };
  };
  export default dcmjs;
}
