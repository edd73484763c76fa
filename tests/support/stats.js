// Comparing two samples of latencies, as bench/hostile.js does for its enumeration scenario:
// a two-sided Mann-Whitney U test and the accuracy of guessing the class of one sample by a
// threshold between the medians.

// Complementary error function (Numerical Recipes erfcc; relative error < 1.2e-7).
function erfc(x) {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
    + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
    + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** Two-sided Mann-Whitney U test, normal approximation with tie correction: {u, z, p}. */
export function mannWhitney(a, b) {
  const n1 = a.length, n2 = b.length, n = n1 + n2;
  const all = [...a.map((v) => [v, 0]), ...b.map((v) => [v, 1])].sort((x, y) => x[0] - y[0]);
  let r1 = 0, tie = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && all[j + 1][0] === all[i][0]) j++;
    const rank = (i + j) / 2 + 1;
    const t = j - i + 1;
    tie += t * t * t - t;
    for (let k = i; k <= j; k++) if (all[k][1] === 0) r1 += rank;
    i = j + 1;
  }
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const mu = (n1 * n2) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * ((n + 1) - tie / (n * (n - 1))));
  if (sigma === 0) return { u: u1, z: 0, p: 1 };
  const z = Math.max(0, Math.abs(u1 - mu) - 0.5) / sigma; // continuity correction
  return { u: Math.min(u1, n1 * n2 - u1), z, p: Math.min(1, erfc(z / Math.SQRT2)) };
}

export function median(xs) {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Accuracy of "slower than the midpoint of the medians → the slower class". */
export function guessRate(a, b) {
  const ma = median(a), mb = median(b);
  const thr = (ma + mb) / 2;
  const [hi, lo] = ma >= mb ? [a, b] : [b, a];
  let right = 0;
  for (const v of hi) if (v > thr) right++;
  for (const v of lo) if (v <= thr) right++;
  return right / (a.length + b.length);
}
