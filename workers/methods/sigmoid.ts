// The logistic function that turns a classifier logit into P(abnormal).

/** P(abnormal) = 1 / (1 + e^(−logit)), computed without overflow for large |logit|. */
export function sigmoid(logit: number): number {
  if (logit >= 0) return 1 / (1 + Math.exp(-logit));
  const e = Math.exp(logit);
  return e / (1 + e);
}
