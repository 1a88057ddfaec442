/**
 * Timing helpers shared by the benchmark scripts: warm up, then repeat until a
 * time budget is spent, and report the median — robust to the odd GC pause.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** Median milliseconds of fn() (sync or async) over repetitions filling ~budgetMs (at least minReps, at most maxReps). */
export async function timeIt(fn, { budgetMs = 1500, minReps = 3, maxReps = 50, warmup = 1 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = [];
  const start = performance.now();
  while (samples.length < minReps || (performance.now() - start < budgetMs && samples.length < maxReps)) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

export function fmt(value, digits = 2) {
  if (value === undefined || value === null || Number.isNaN(value)) return '-';
  if (value >= 100) return value.toFixed(0);
  return value.toFixed(digits);
}

/** Prints rows (objects) as an aligned table with the given columns. */
export function printTable(title, columns, rows) {
  const cells = rows.map((r) => columns.map((c) => String(c.format ? c.format(r[c.key], r) : (r[c.key] ?? '-'))));
  const widths = columns.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i].length)));
  const line = (values) => values.map((v, i) => v.padStart(widths[i])).join('  ');
  console.log(`\n${title}`);
  console.log(line(columns.map((c) => c.title)));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells) console.log(line(row));
}

export function writeJson(path, data) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
}

/** Deterministic pseudo-random Float32Array in [-1, 1). */
export function randomArray(n, seed = 1) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

/** The Python with PyTorch (Debian's python3-torch), or null with a line saying why PyTorch is skipped. */
export function torchPython() {
  const python = '/usr/bin/python3';
  const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    console.log(`\nPyTorch: skipped (${python} -c "import torch" failed; apt-get install python3-torch to compare)`);
    return null;
  }
  return python;
}
