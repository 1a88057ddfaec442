/**
 * Bad arguments give clean JS Errors naming the kernel and the mismatch, and
 * nothing JS can pass crashes the process (a fuzz over every addon function).
 */
import type { CompleteHostBackend as Backend, Conv2DInfo, Pool2DInfo } from '@axon/tensor';
import { describe, expect, it } from 'vitest';

import { loadAddon, type NativeAddon } from '../src/addon.js';
import { createNativeBackend, nativeAvailable } from '../src/index.js';
import { Gen, nativeSuiteName, skipNative } from './util.js';

const loaded = loadAddon();
const addon = (): NativeAddon =>
  loaded.addon ??
  (() => {
    throw new Error(`addon unavailable: ${'reason' in loaded ? loaded.reason : ''}`);
  })();
const be = (): Backend => createNativeBackend() as Backend;
const f32 = (n: number): Float32Array => new Float32Array(n);
const i32 = (n: number): Int32Array => new Int32Array(n);

const conv: Conv2DInfo = {
  batch: 2,
  inHeight: 5,
  inWidth: 5,
  inChannels: 3,
  outHeight: 3,
  outWidth: 3,
  outChannels: 4,
  filterHeight: 3,
  filterWidth: 3,
  strideHeight: 1,
  strideWidth: 1,
  dilationHeight: 1,
  dilationWidth: 1,
  padTop: 0,
  padLeft: 0,
};
const pool: Pool2DInfo = {
  batch: 2,
  inHeight: 4,
  inWidth: 4,
  channels: 3,
  outHeight: 2,
  outWidth: 2,
  filterHeight: 2,
  filterWidth: 2,
  strideHeight: 2,
  strideWidth: 2,
  padTop: 0,
  padLeft: 0,
};

describe.skipIf(skipNative)(nativeSuiteName('native argument checking'), () => {
  it('loads as a Node-API addon with the fixed version', () => {
    expect(nativeAvailable).toBe(true);
    expect(addon().napiVersion).toBe(8);
  });

  it('names the kernel and the mismatch for wrong lengths', () => {
    expect(() => be().gemm(f32(10), f32(12), f32(9), 1, 3, 3, 4, false, false, 1, 0, 12, 12)).toThrow(
      'gemm: a has 10 elements, expected at least 12 (batch=1, m=3, n=3, k=4, strideA=12)',
    );
    expect(() => be().gemm(f32(12), f32(12), f32(8), 1, 3, 3, 4, false, false, 1, 0, 12, 12)).toThrow(
      /^gemm: c has 8 elements, expected 9/,
    );
    expect(() => be().unary('relu', f32(4), f32(5))).toThrow(/^unary: y has 5 elements, expected 4/);
    expect(() => be().binary('add', f32(6), [2, 3], f32(2), [2], f32(6), [2, 3])).toThrow(/^binary: bShape \[2\] does not broadcast/);
    expect(() => be().binary('add', f32(6), [2, 3], f32(3), [3], f32(12), [4, 3])).toThrow(
      /^binary: outShape \[4,3\] does not broadcast|^binary: aShape/,
    );
    expect(() => be().reduce('sum', f32(5), f32(2), 2, 3, 1)).toThrow(/^reduce: x has 5 elements, expected 6/);
    expect(() => be().conv2d(f32(150), f32(108), f32(71), conv)).toThrow(/^conv2d: y has 71 elements, expected 72/);
    expect(() => be().conv2dBackpropFilter(f32(150), f32(72), f32(100), conv)).toThrow(/^conv2dBackpropFilter: dFilter has 100/);
    expect(() => be().maxPool2d(f32(96), f32(24), i32(23), pool)).toThrow(/^maxPool2d: argmax has 23 elements/);
    expect(() => be().transpose(f32(6), [2, 3], [0, 0], f32(6))).toThrow(/^transpose: perm \[0,0\] is not a permutation/);
    expect(() => be().slice(f32(6), [2, 3], [1, 1], [1, 3], f32(3))).toThrow(/^slice: .*exceeds shape \[2,3\] on axis 1/);
    expect(() => be().concat([f32(2), f32(3)], [1, 2], 2, 1, f32(6))).toThrow(/^concat: inputs\[1\] has 3 elements, expected 4/);
    expect(() =>
      be().adamUpdate(f32(3), f32(3), f32(2), f32(3), { lr: 1, beta1: 0.9, beta2: 0.99, epsilon: 1e-7, step: 1, weightDecay: 0 }),
    ).toThrow(/^adamUpdate: m has 2 elements, expected 3/);
  });

  it('validates indices: scatterAdd names the bad index and the range; maxPool2dBackprop checks argmax', () => {
    expect(() => be().scatterAdd(f32(2), Int32Array.from([-1]), f32(10), 1, 5, 2)).toThrow(RangeError);
    expect(() => be().scatterAdd(f32(2), Int32Array.from([9]), f32(10), 1, 5, 2)).toThrow(/^scatterAdd: index 9 at position 0/);
    expect(() => be().maxPool2dBackprop(f32(24), i32(24).fill(96), f32(96), pool)).toThrow(
      /^maxPool2dBackprop: argmax\[0\] = 96 is outside dx/,
    );
  });

  it('rejects wrong types, missing arguments and bad sizes with TypeError / Error', () => {
    const a = addon() as unknown as Record<string, (...args: unknown[]) => unknown>;
    expect(() => a.gemm!()).toThrow(/^gemm: expected 13 arguments, got 0/);
    expect(() => a.gemm!(new Float64Array(12), f32(12), f32(9), 1, 3, 3, 4, false, false, 1, 0, 12, 12)).toThrow(
      /^gemm: a must be a Float32Array, got a Float64Array/,
    );
    expect(() => a.gemm!(f32(12), f32(12), f32(9), 1, 3, 3, 4, 0, false, 1, 0, 12, 12)).toThrow(
      /^gemm: transA must be a boolean, got the number 0/,
    );
    expect(() => a.gemm!(f32(12), f32(12), f32(9), -1, 3, 3, 4, false, false, 1, 0, 12, 12)).toThrow(
      /^gemm: batch must be a non-negative integer, got -1/,
    );
    expect(() => a.gemm!(f32(12), f32(12), f32(9), 1.5, 3, 3, 4, false, false, 1, 0, 12, 12)).toThrow(/non-negative integer, got 1.5/);
    expect(() => a.gemm!(f32(12), f32(12), f32(9), 1, 3, 3, 4, false, false, '1', 0, 12, 12)).toThrow(
      /^gemm: alpha must be a number, got a string/,
    );
    expect(() => a.gemm!(f32(12), f32(12), f32(9), 1, 2 ** 40, 2 ** 40, 4, false, false, 1, 0, 12, 12)).toThrow(/^gemm: /);
    expect(() => a.unary!('nope', f32(1), f32(1))).toThrow("unary: unknown unary op 'nope'");
    expect(() => a.scatterAdd!(f32(1), f32(1), f32(4), 1, 4, 1)).toThrow(/^scatterAdd: indices must be an Int32Array, got a Float32Array/);
    expect(() => a.conv2d!(f32(150), f32(108), f32(72), { ...conv, strideHeight: 0 })).toThrow(/^conv2d: strides must be at least 1/);
    expect(() => a.conv2d!(f32(150), f32(108), f32(72), { ...conv, padTop: undefined })).toThrow(
      /^conv2d: info.padTop must be a number, got undefined/,
    );
    expect(() => a.conv2d!(f32(150), f32(108), f32(72), null)).toThrow(/^conv2d: info must be an object, got null/);
    // A huge filter patch with no output channels: zero-sized filter and y, but im2col rows of 2^31 floats.
    const huge = {
      ...conv,
      batch: 1,
      inHeight: 1,
      inWidth: 1,
      inChannels: 1,
      outHeight: 1,
      outWidth: 1,
      outChannels: 0,
      filterHeight: 46000,
      filterWidth: 46000,
      padTop: 20000,
      padLeft: 20000,
    };
    expect(() => a.conv2dBackpropInput!(f32(0), f32(0), f32(1), huge)).toThrow(/^conv2dBackpropInput: the filter patch .* is too large/);
    expect(() => a.transpose!(f32(6), [2, -3], [0, 1], f32(6))).toThrow(/^transpose: shape\[1\] must be a non-negative integer/);
    expect(() => a.transpose!(f32(6), 'ab', [0, 1], f32(6))).toThrow(/^transpose: shape must be an array, got a string/);
    expect(() => a.sgdUpdate!(f32(3), f32(3), null, { lr: 0.1, momentum: 0.9, nesterov: false })).toThrow(
      /^sgdUpdate: velocity must be a Float32Array/,
    );
    expect(() => a.setNumThreads!(-2)).toThrow(/^setNumThreads: /);
    for (const e of [(): unknown => a.gemm!(), (): unknown => a.unary!(1, f32(1), f32(1))]) {
      try {
        e();
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
        expect(err).toBeInstanceOf(TypeError);
      }
    }
  });

  it('catches arrays detached by a getter while the other arguments are read', () => {
    const detach = (a: Float32Array): void => void structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
    const x = f32(150),
      f = f32(108),
      y = f32(72);
    const sneaky = {
      ...conv,
      get padLeft() {
        detach(x);
        return 0;
      },
    };
    expect(() => be().conv2d(x, f, y, sneaky)).toThrow(/^conv2d: an array argument was detached or resized/);
    const a = f32(6),
      out = f32(6);
    const shape = [2, 3];
    Object.defineProperty(shape, 1, {
      get() {
        detach(a);
        return 3;
      },
    });
    expect(() => be().transpose(a, shape, [1, 0], out)).toThrow(/^transpose: an array argument was detached/);
    const p = f32(4),
      g = f32(4);
    const config = {
      lr: 0.1,
      get momentum() {
        detach(g);
        return 0;
      },
      nesterov: false,
    };
    expect(() => be().sgdUpdate(p, g, null, config)).toThrow(/^sgdUpdate: /);
  });

  it('survives a fuzz of random arguments to every function (errors, never a crash)', () => {
    const a = addon() as unknown as Record<string, (...args: unknown[]) => unknown>;
    const names = Object.keys(a).filter((k) => typeof a[k] === 'function' && k !== 'setNumThreads' && k !== 'setConvStrategy');
    const g = new Gen(99);
    const values = (): unknown => {
      switch (g.int(0, 14)) {
        case 0:
          return f32(g.int(0, 40));
        case 1:
          return f32(g.int(0, 40)).subarray(g.int(0, 3));
        case 2:
          return i32(g.int(0, 40)).map(() => g.int(-3, 50));
        case 3:
          return g.int(-2, 9);
        case 4:
          return g.pick([NaN, Infinity, -Infinity, 2 ** 53, 2 ** 31, -0, 1e300, 0.5]);
        case 5:
          return g.bool();
        case 6:
          return g.pick(['relu', 'add', 'sum', 'max', 'gelu', 'auto', '', 'x'.repeat(1000)]);
        case 7:
          return Array.from({ length: g.int(0, 4) }, () => g.int(0, 4));
        case 8:
          return [g.int(0, 3), -1, NaN];
        case 9:
          return { ...conv, batch: g.int(0, 3), outHeight: g.int(0, 5) };
        case 10:
          return { ...pool, batch: g.int(0, 3) };
        case 11:
          return null;
        case 12:
          return undefined;
        case 13:
          return {
            lr: 0.1,
            momentum: g.pick([0, 0.9]),
            nesterov: true,
            beta1: 0.9,
            beta2: 0.99,
            epsilon: 1e-7,
            step: g.int(0, 2),
            weightDecay: 0,
            rho: 0.9,
            centered: g.bool(),
          };
        default:
          return [f32(2), f32(3)];
      }
    };
    let errors = 0,
      ok = 0;
    for (let t = 0; t < 20000; t++) {
      const fn = g.pick(names);
      const args = Array.from({ length: g.int(0, 14) }, values);
      try {
        a[fn]!(...args);
        ok++;
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        expect((e as Error).message.length).toBeGreaterThan(0);
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(1000);
    expect(ok + errors).toBe(20000);
  });
});
