import { describe, expect, it } from 'vitest';
import { useTestBackend } from './test-backend.js';
import { fill, ones, randomNormal, randomUniform, setSeed, tensor, truncatedNormal, zeros, range, scalar } from '../src/index.js';

useTestBackend();

describe('tensor creation', () => {
  it('infers shapes from nested arrays and round-trips toArray', () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.rank).toBe(2);
    expect(t.size).toBe(6);
    expect(t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(t.dtype).toBe('float32');
  });

  it('reshapes a flat array and keeps int32 typed arrays as int32', () => {
    expect(tensor([1, 2, 3, 4], [2, 2]).toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    const labels = tensor(new Int32Array([3, 1]));
    expect(labels.dtype).toBe('int32');
    expect(labels.intDataSync()).toBeInstanceOf(Int32Array);
    expect(tensor([1.7, -2.2], [2], 'int32').toArray()).toEqual([1, -2]);
  });

  it('reports shape/value-count mismatches and ragged arrays', () => {
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow('tensor: shape [2,2] needs 4 values, got 3');
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged nested array: expected 2 elements at depth 1, got 1/);
    expect(() => zeros([2, -1])).toThrow(/invalid shape \[2,-1\]/);
  });

  it('item() needs exactly one value', () => {
    expect(scalar(4).item()).toBe(4);
    expect(() => ones([2]).item()).toThrow('item: tensor of shape [2] has 2 values, expected exactly 1');
  });

  it('fill/zeros/ones/range', () => {
    expect(Array.from(fill([3], 7).dataSync())).toEqual([7, 7, 7]);
    expect(Array.from(zeros([2]).dataSync())).toEqual([0, 0]);
    expect(Array.from(range(0, 5, 2).dataSync())).toEqual([0, 2, 4]);
  });
});

describe('seeded random tensors', () => {
  it('are reproducible after setSeed and differ across seeds', () => {
    setSeed(42);
    const a = randomNormal([100]).dataSync();
    setSeed(42);
    const b = randomNormal([100]).dataSync();
    setSeed(43);
    const c = randomNormal([100]).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('have the requested distributions', () => {
    setSeed(1);
    const u = randomUniform([20000], -2, 3).dataSync();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...u)).toBeLessThan(3);
    expect(u.reduce((s, v) => s + v, 0) / u.length).toBeCloseTo(0.5, 1);
    const n = randomNormal([20000], 1, 2).dataSync();
    const mean = n.reduce((s, v) => s + v, 0) / n.length;
    const sd = Math.sqrt(n.reduce((s, v) => s + (v - mean) ** 2, 0) / n.length);
    expect(mean).toBeCloseTo(1, 1);
    expect(sd).toBeCloseTo(2, 1);
    const t = truncatedNormal([20000], 0, 0.5).dataSync();
    expect(Math.max(...t.map(Math.abs))).toBeLessThanOrEqual(1);
  });
});

describe('copyInto', () => {
  it('copies values at an offset, converting int32, and checks that they fit', () => {
    const packed = new Float32Array(6).fill(-1);
    tensor([1, 2]).copyInto(packed, 1);
    tensor(new Int32Array([7, 8, 9]), [3], 'int32').copyInto(packed, 3);
    expect(Array.from(packed)).toEqual([-1, 1, 2, 7, 8, 9]);
    expect(() => tensor([1, 2, 3]).copyInto(new Float32Array(4), 2)).toThrow(/copyInto: 3 values do not fit in an array of 4 at offset 2/);
  });
});
