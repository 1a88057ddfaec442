/**
 * A data set several times bigger than the process' heap streams from disk through @axon/data's
 * Dataset and trains a model to the end with flat memory: the child runs with
 * --max-old-space-size=64 over a ~300 MB IDX file, twice, and its RSS at the end is within a bound of
 * its RSS after the first batches — far below the size of the data it read.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

const MB = 2 ** 20;
const features = 3000;
const records = 100_000; // 300 MB of inputs
const dir = mkdtempSync(join(tmpdir(), 'axon-stream-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a uint8 IDX file of `count` records of `size` bytes, record i filled with (i * 7) % 256, a chunk at a time. */
function writeIdx(path: string, count: number, size: number): void {
  const fd = openSync(path, 'w');
  const header = Buffer.alloc(12);
  header.set([0, 0, 0x08, 2]); // uint8 values, 2 dimensions: [count, size]
  header.writeUInt32BE(count, 4);
  header.writeUInt32BE(size, 8);
  writeSync(fd, header);
  const chunkRecords = Math.max(1, Math.floor((8 * MB) / size));
  for (let first = 0; first < count; first += chunkRecords) {
    const n = Math.min(chunkRecords, count - first);
    const chunk = new Uint8Array(n * size);
    for (let r = 0; r < n; r++) chunk.fill(((first + r) * 7) % 256, r * size, (r + 1) * size);
    writeSync(fd, chunk);
  }
  closeSync(fd);
}

describe('streaming a data set bigger than the heap', () => {
  it('trains to the end of two passes over 300 MB with a 64 MB heap, with flat RSS', () => {
    const inputs = join(dir, 'inputs.idx');
    const targets = join(dir, 'targets.idx');
    writeIdx(inputs, records, features);
    writeIdx(targets, records, 1); // the target of record i is its (constant) value
    const script = fileURLToPath(new URL('./fixtures/stream-train.mjs', import.meta.url));
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--max-old-space-size=64', script, inputs, targets, String(features), '2', '256', '20'], {
      encoding: 'utf8',
      timeout: 110_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const { rss, batches, firstLoss, lastLoss } = JSON.parse(r.stdout) as {
      rss: number[];
      batches: number;
      firstLoss: number;
      lastLoss: number;
    };
    const seconds = (Date.now() - started) / 1000;
    expect(batches).toBe(2 * Math.ceil(records / 256));
    expect(lastLoss).toBeLessThan(firstLoss);
    // The RSS after the first 100 batches (the pool and the heap warmed up) against the last reading and the peak.
    const baseline = rss[4]!;
    const growth = (Math.max(...rss.slice(4)) - baseline) / MB;
    console.log(
      `streamed ${(2 * records * features) / MB} MB in ${batches} batches, ${seconds.toFixed(1)} s: ` +
        `RSS ${(rss[0]! / MB).toFixed(0)} MB after 20 batches, ${(baseline / MB).toFixed(0)} MB after 100, ` +
        `${(rss.at(-1)! / MB).toFixed(0)} MB at the end, peak growth ${growth.toFixed(0)} MB`,
    );
    expect(growth).toBeLessThan(64);
    expect(rss.at(-1)!).toBeLessThan(baseline + 64 * MB);
  });
});
