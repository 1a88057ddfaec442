import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Tensor } from '@axon/tensor';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { csv, encodeIdx, idx, imageFolder } from '../src/index.js';

/** The package as built (a string, so that type-checking does not need the build). */
const builtPackage = '../dist/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'axon-sources-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, contents: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, contents);
  return path;
}

describe('idx', () => {
  const shape = [5, 2, 3];
  const bytes = Uint8Array.from({ length: 30 }, (_, k) => (k * 9) % 256);

  it.each([false, true])('streams the records of a (gzipped: %s) file as tensors, every pass', async (gzip) => {
    const path = file('x.idx', gzip ? gzipSync(encodeIdx(shape, bytes)) : encodeIdx(shape, bytes));
    const ds = idx(path);
    for (let pass = 0; pass < 2; pass++) {
      const records = await ds.toArray();
      expect(records.map((r) => [r.dtype, r.shape])).toEqual(Array(5).fill(['float32', [2, 3]]));
      expect(records.flatMap((r) => Array.from(r.dataSync()))).toEqual(Array.from(bytes));
    }
    const labels = await idx(file('y.idx', encodeIdx([3], Uint8Array.of(7, 0, 255))), { dtype: 'int32' }).toArray();
    expect(labels.map((l) => [l.dtype, l.shape, l.item()])).toEqual([
      ['int32', [], 7],
      ['int32', [], 0],
      ['int32', [], 255],
    ]);
  });

  it('reads records across chunk boundaries of a file bigger than one read', async () => {
    const big = Uint8Array.from({ length: 3000 * 777 }, (_, k) => (k * 31) % 251);
    const records = await idx(file('big.idx', encodeIdx([3000, 777], big))).toArray();
    expect(records).toHaveLength(3000);
    expect(Array.from(records[1351]!.dataSync())).toEqual(Array.from(big.subarray(1351 * 777, 1352 * 777)));
    expect(Array.from(records[2999]!.dataSync())).toEqual(Array.from(big.subarray(2999 * 777)));
  });

  it('names the file and the counts when it is truncated, too long, missing or not IDX', async () => {
    const full = encodeIdx(shape, bytes);
    await expect(idx(file('short.idx', full.subarray(0, full.length - 4))).toArray()).rejects.toThrow(
      /idx: .*short\.idx: the header promises 5 records of 6 bytes, but the file holds 4 \(truncated\?\)/,
    );
    const long = new Uint8Array(full.length + 2);
    long.set(full);
    await expect(idx(file('long.idx', long)).toArray()).rejects.toThrow(
      /long\.idx: the header promises 5 records of 6 bytes, but the file holds 2 bytes more/,
    );
    await expect(idx(join(dir, 'nothing.idx')).toArray()).rejects.toThrow(/idx: cannot read .*nothing\.idx: ENOENT/);
    await expect(idx(file('text.idx', 'hello world')).toArray()).rejects.toThrow(/text\.idx: not an IDX file/);
    expect(() => idx(file('x.idx', full), { dtype: 'uint8' as never })).toThrow("idx: dtype must be 'float32' or 'int32', got 'uint8'");
  });
});

describe('csv', () => {
  it('reads typed columns picked by the header: numbers as scalar tensors, text as strings', async () => {
    const path = file('d.csv', 'id,x,name,label\n1,0.5,"a, quoted",3\n\n2,-1.25e2,b,0\n');
    const rows = await csv(path, { columns: { x: 'float32', label: 'int32', name: 'string' } }).toArray();
    expect(rows.map((r) => Object.keys(r))).toEqual([
      ['x', 'label', 'name'],
      ['x', 'label', 'name'],
    ]);
    expect(rows.map((r) => [r.x.dtype, r.x.shape, r.x.item(), r.label.dtype, r.label.item(), r.name])).toEqual([
      ['float32', [], 0.5, 'int32', 3, 'a, quoted'],
      ['float32', [], -125, 'int32', 0, 'b'],
    ]);
    const [batch] = await csv(path, { columns: { x: 'float32', label: 'int32' } })
      .batch(2)
      .toArray();
    expect([batch!.x.toArray(), batch!.label.dtype, batch!.label.toArray()]).toEqual([[0.5, -125], 'int32', [3, 0]]);
  });

  it('without a header, columns name the fields in order; other delimiters', async () => {
    const path = file('d.tsv', '1\t2.5\n3\t4\n');
    const rows = await csv(path, { header: false, delimiter: '\t', columns: { a: 'int32', b: 'float32' } }).toArray();
    expect(rows.map((r) => [r.a.item(), r.b.item()])).toEqual([
      [1, 2.5],
      [3, 4],
    ]);
  });

  it('names the file, line and column of a bad cell', async () => {
    const lines = ['x,y', ...Array.from({ length: 15 }, (_, i) => `${i},1`), 'abc,1'];
    const path = file('bad.csv', `${lines.join('\n')}\n`);
    await expect(csv(path, { columns: { x: 'float32' } }).toArray()).rejects.toThrow(
      /csv: .*bad\.csv line 17, column 'x': 'abc' is not a float32/,
    );
    const ints = file('ints.csv', 'n\n1\n2.5\n');
    await expect(csv(ints, { columns: { n: 'int32' } }).toArray()).rejects.toThrow(/ints\.csv line 3, column 'n': '2.5' is not an int32/);
    const empty = file('empty.csv', 'n,m\n,1\n');
    await expect(csv(empty, { columns: { n: 'float32' } }).toArray()).rejects.toThrow(/empty\.csv line 2, column 'n': '' is not a float32/);
  });

  it('names missing columns, rows of the wrong width and unreadable files', async () => {
    const path = file('d.csv', 'a,b\n1,2\n3\n');
    await expect(csv(path, { columns: { c: 'float32', a: 'float32' } }).toArray()).rejects.toThrow(
      /csv: .*d\.csv: column 'c' not in the header \(a, b\)/,
    );
    await expect(csv(path, { columns: { a: 'float32' } }).toArray()).rejects.toThrow(
      /d\.csv line 3: expected 2 fields \(as the header\), got 1/,
    );
    await expect(csv(join(dir, 'none.csv'), { columns: { a: 'float32' } }).toArray()).rejects.toThrow(
      /csv: cannot read .*none\.csv: ENOENT/,
    );
  });

  it('rejects bad options naming them', () => {
    expect(() => csv('d.csv', { columns: {} })).toThrow('csv: columns must name at least one column with its type');
    expect(() => csv('d.csv', { columns: { x: 'float64' as never } })).toThrow(
      "csv: column 'x' must be 'float32' or 'int32' or 'string', got 'float64'",
    );
    expect(() => csv('d.csv', { columns: { x: 'float32' }, delimter: ';' } as never)).toThrow("csv: unknown option 'delimter'");
    expect(() => csv('d.csv', { columns: { x: 'float32' }, header: 'yes' as never })).toThrow(
      'csv: header must be true or false, got a string',
    );
  });
});

describe('imageFolder', () => {
  /** A width x height RGBA image whose pixel (x, y) is (10x, 20y, 7(x+y), 255 - x). */
  function pixels(width: number, height: number): Uint8Array {
    const data = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) data.set([10 * x, 20 * y, 7 * (x + y), 255 - x], 4 * (y * width + x));
    }
    return data;
  }

  function writePng(path: string, width: number, height: number): void {
    const png = new pngjs.PNG({ width, height });
    png.data = Buffer.from(pixels(width, height));
    writeFileSync(path, pngjs.PNG.sync.write(png));
  }

  function writeFolder(): void {
    for (const name of ['dog', 'cat']) mkdirSync(join(dir, name));
    writePng(join(dir, 'cat', 'b.png'), 4, 3);
    writePng(join(dir, 'cat', 'a.PNG'), 4, 3);
    writeFileSync(join(dir, 'cat', 'notes.txt'), 'not an image');
    const photo = jpeg.encode({ width: 4, height: 3, data: pixels(4, 3) }, 100);
    writeFileSync(join(dir, 'dog', 'c.jpg'), photo.data);
  }

  it('labels images by their sorted folder names and decodes PNG exactly and JPEG closely', async () => {
    writeFolder();
    const ds = imageFolder(dir);
    expect(ds.classNames).toEqual(['cat', 'dog']);
    expect(ds.files.map((f) => [f.path.slice(dir.length + 1), f.label])).toEqual([
      [join('cat', 'a.PNG'), 0],
      [join('cat', 'b.png'), 0],
      [join('dog', 'c.jpg'), 1],
    ]);
    const images = await ds.toArray();
    expect(images.map((e) => [e.xs.shape, e.xs.dtype, e.ys.dtype, e.ys.item()])).toEqual([
      [[3, 4, 3], 'float32', 'int32', 0],
      [[3, 4, 3], 'float32', 'int32', 0],
      [[3, 4, 3], 'float32', 'int32', 1],
    ]);
    const rgb = Array.from(
      pixels(4, 3).filter((_, k) => k % 4 !== 3),
      (v) => v / 255,
    );
    expect(Array.from(images[0]!.xs.dataSync())).toEqual(rgb.map(Math.fround));
    Array.from(images[2]!.xs.dataSync()).forEach((v, k) => expect(Math.abs(v - rgb[k]!)).toBeLessThan(0.06));
  });

  it('gives 1 (luma) or 4 channels, and resizes bilinearly', async () => {
    writeFolder();
    const [grey] = await imageFolder(dir, { channels: 1 }).toArray();
    expect(grey!.xs.shape).toEqual([3, 4, 1]);
    expect(grey!.xs.dataSync()[5]).toBeCloseTo((0.2989 * 10 + 0.587 * 20 + 0.114 * 14) / 255, 6); // pixel (1, 1)
    const [rgba] = await imageFolder(dir, { channels: 4 }).toArray();
    expect(rgba!.xs.dataSync()[3]).toBeCloseTo(1, 6); // alpha of pixel (0, 0) is 255
    // Halving 4 columns to 2 averages column pairs (half-pixel centres): red 10x gives (0+10)/2 and (20+30)/2.
    const [half] = await imageFolder(dir, { size: [3, 2] }).toArray();
    expect(half!.xs.shape).toEqual([3, 2, 3]);
    expect([half!.xs.dataSync()[0], half!.xs.dataSync()[3]]).toEqual([5 / 255, 25 / 255].map(Math.fround));
    const batches = await imageFolder(dir, { size: [8, 8] })
      .batch(3)
      .toArray();
    expect(batches[0]!.xs.shape).toEqual([3, 8, 8, 3]);
  });

  it('decodes in worker threads to the same elements, in order (the built package: threads import JavaScript)', async () => {
    writeFolder();
    const built: typeof import('../src/index.js') = await import(builtPackage);
    const options = { size: [5, 6] as [number, number], channels: 1 as const };
    const here = await imageFolder(dir, options).toArray();
    const threads = await built.imageFolder(dir, { ...options, workers: 2 }).toArray();
    expect(threads.map((e) => [e.xs.shape, e.ys.item()])).toEqual(here.map((e) => [e.xs.shape, e.ys.item()]));
    expect(threads.map((e) => e.xs.toArray())).toEqual(here.map((e) => e.xs.toArray()));
    expect(() => imageFolder(dir, { workers: -1 })).toThrow('imageFolder: workers must be a non-negative integer, got -1');
  });

  it('names the folder, option or file that is wrong', async () => {
    expect(() => imageFolder(join(dir, 'missing'))).toThrow(/imageFolder: cannot read .*missing: ENOENT/);
    expect(() => imageFolder(dir)).toThrow(/imageFolder: .* has no PNG or JPEG image in a class sub-folder/);
    writeFolder();
    expect(() => imageFolder(dir, { channels: 2 as never })).toThrow('imageFolder: channels must be 1, 3 or 4, got 2');
    expect(() => imageFolder(dir, { size: [0, 4] })).toThrow('imageFolder: size[0] must be a positive integer, got 0');
    expect(() => imageFolder(dir, { resize: [2, 2] } as never)).toThrow("imageFolder: unknown option 'resize'");
    writeFileSync(join(dir, 'dog', 'd.png'), 'not a png');
    await expect(imageFolder(dir).toArray()).rejects.toThrow(/imageFolder: cannot decode .*d\.png: not a PNG or JPEG file/);
  });
});

describe('file sources in a pipeline', () => {
  it('a shuffled, batched IDX source yields every record once per pass', async () => {
    const bytes = Uint8Array.from({ length: 100 }, (_, k) => k);
    const ds = idx(file('x.idx', encodeIdx([100], bytes)))
      .shuffle(10, { seed: 1 })
      .batch(16)
      .prefetch(2);
    for (let pass = 0; pass < 2; pass++) {
      const seen = (await ds.toArray()).flatMap((b: Tensor) => Array.from(b.dataSync()));
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from(bytes));
    }
  });
});
