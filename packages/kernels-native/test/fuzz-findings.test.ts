/**
 * Regression tests, on every backend, for the reproducers of the reliability issue and for each
 * finding of the op fuzz harness (fuzz-ops.test.ts): one minimal case each, named after it.
 */
import * as T from '@axon/tensor';
import { describe, expect, it } from 'vitest';

import '../src/index.js';

/** The message of the Error fn throws; fails the test when it throws something else or nothing. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).constructor).toBe(Error); // not a TypeError or RangeError from inside
    return (e as Error).message;
  }
  throw new Error('expected an Error, nothing was thrown');
}

const call = (name: string, ...args: unknown[]): unknown => (T as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);

describe.each(T.listBackends())('reliability reproducers and fuzz findings on %s', (backend) => {
  const on = <R>(fn: () => R): R => T.withBackend(backend, fn);

  describe('issue reproducers', () => {
    it('binary ops convert number arrays and typed arrays by tensor(), as tfjs does', () =>
      on(() => {
        expect(T.add(T.tensor([1, 2]), [3, 4]).toArray()).toEqual([4, 6]);
        expect(T.add([1, 2], [3, 4]).toArray()).toEqual([4, 6]);
        expect(T.sub([[5], [6]], Float64Array.of(1, 2)).toArray()).toEqual([
          [4, 3],
          [5, 4],
        ]);
        expect(T.mul(T.tensor([1, 2]), [3, 4]).toArray()).toEqual([3, 8]);
        expect(T.maximum([1, 5], 3).toArray()).toEqual([3, 5]);
        expect(T.pow([2, 3], [2]).toArray()).toEqual([4, 9]);
        expect(T.where([1, 0], [1, 2], [3, 4]).toArray()).toEqual([1, 4]);
      }));

    it('binary ops refuse strings, null, undefined, booleans and plain objects, naming the op and the argument', () =>
      on(() => {
        for (const bad of ['3', null, undefined, true, {}]) {
          for (const name of ['add', 'mul', 'sub', 'maximum', 'pow']) {
            expect(errorOf(() => call(name, T.tensor([1, 2]), bad))).toMatch(new RegExp(`^${name}: b must be a Tensor, a number`));
            expect(errorOf(() => call(name, bad, T.tensor([1, 2])))).toMatch(new RegExp(`^${name}: a must be a Tensor, a number`));
          }
          expect(errorOf(() => T.where(bad as never, 1, 2))).toMatch(/^where: cond must be a Tensor, a number/);
        }
        expect(errorOf(() => T.add(T.tensor([1, 2]), [['a']] as never))).toBe('add: b: expected a number at depth 2, got string "a"');
      }));

    it('tensor() accepts a Float64Array and other typed arrays, converting to float32', () =>
      on(() => {
        const t = T.tensor(Float64Array.of(1, 2));
        expect([t.dtype, t.toArray()]).toEqual(['float32', [1, 2]]);
        expect(T.tensor(Uint8Array.of(255, 0), [2, 1]).toArray()).toEqual([[255], [0]]);
      }));

    it('variable() and assign() name themselves when given an array', () =>
      on(() => {
        expect(errorOf(() => T.variable([1, 2] as never))).toMatch(/^variable: the initial value must be a Tensor/);
        const v = T.variable(T.tensor([1, 2]), true, 'v');
        expect(errorOf(() => v.assign([5, 6] as never))).toMatch(/^assign to 'v': expected a Tensor/);
      }));

    it('int32 truncates non-integers but refuses values outside the int32 range, on creation and on cast', () =>
      on(() => {
        expect(T.tensor([2.7, -2.7, 2147483647, -2147483648], [4], 'int32').toArray()).toEqual([2, -2, 2147483647, -2147483648]);
        expect(errorOf(() => T.tensor([3e9], [1], 'int32'))).toBe(
          'tensor: value 3000000000 at index 0 is outside the int32 range [-2147483648, 2147483647]',
        );
        expect(errorOf(() => T.tensor([1, Number.NaN], [2], 'int32'))).toMatch(/^tensor: value NaN at index 1 is outside the int32 range/);
        expect(errorOf(() => T.scalar(-3e9, 'int32'))).toMatch(/^scalar: value -3000000000 .* outside the int32 range/);
        expect(errorOf(() => T.cast(T.tensor([1, 3e9]), 'int32'))).toMatch(/^cast: value 3e\+?0?9|^cast: value 3000000000/);
        expect(errorOf(() => T.tensor([3e9]).intDataSync())).toMatch(/^intDataSync: value 3000000000 at index 0/);
        expect(T.cast(T.tensor([2.9, -2.9]), 'int32').toArray()).toEqual([2, -2]);
      }));

    it('int32 values beyond 2^24 are kept exactly (not rounded through float32 first)', () =>
      on(() => {
        expect(T.tensor([16777217, 2147483647], [2], 'int32').toArray()).toEqual([16777217, 2147483647]);
      }));
  });

  describe('fuzz findings', () => {
    it('composite ops name themselves, not the op they are made of (hardSigmoid, logSumExp, sumToShape)', () =>
      on(() => {
        expect(errorOf(() => T.hardSigmoid('3' as never))).toMatch(/^hardSigmoid: x must be a Tensor/);
        expect(errorOf(() => T.logSumExp('3' as never))).toMatch(/^logSumExp: x must be a Tensor/);
        expect(errorOf(() => T.sumToShape(T.scalar(0), [2]))).toMatch(/^sumToShape: \[2\] does not broadcast/);
      }));

    it('shape ops and factories refuse a non-tensor or a non-array shape with an Error, not a TypeError from inside', () =>
      on(() => {
        for (const name of ['expandDims', 'squeeze', 'unstack', 'zerosLike', 'onesLike', 'asMatrix']) {
          expect(errorOf(() => call(name, '3'))).toMatch(new RegExp(`^${name}: [a-z]+ must be a Tensor`));
        }
        for (const name of ['fill', 'zeros', 'ones', 'randomUniform', 'randomNormal', 'truncatedNormal']) {
          expect(errorOf(() => call(name, '3', 0))).toMatch(new RegExp(`^${name}: shape must be an array`));
        }
      }));

    it('slice, unstack and asMatrix of a scalar or an empty axis: a clear error or the right (empty) result', () =>
      on(() => {
        expect(errorOf(() => T.slice(T.scalar(0), 0))).toMatch(/^slice: begin \[0\] .* out of bounds for shape \[\]/);
        expect(errorOf(() => T.unstack(T.scalar(0)))).toBe('unstack: x must have at least one axis, got a scalar');
        expect(T.unstack(T.zeros([0, 2]))).toEqual([]);
        expect(T.asMatrix(T.zeros([0])).shape).toEqual([1, 0]);
      }));

    it('a scalar along axis 0: reductions return it, softmax gives 1, logSoftmax 0, argMax 0', () =>
      on(() => {
        const x = T.scalar(5);
        for (const name of ['sum', 'mean', 'max', 'min', 'prod', 'logSumExp']) expect(call(name, x, 0), name).toHaveProperty('shape', []);
        expect(T.sum(x, 0).item()).toBe(5);
        expect(T.softmax(x, 0).item()).toBe(1);
        expect(T.logSoftmax(x, 0).item()).toBe(0);
        expect(T.argMax(x, 0).item()).toBe(0);
      }));

    it('range refuses NaN and non-numbers', () =>
      on(() => {
        expect(errorOf(() => T.range(0, 0, Number.NaN))).toBe('range: step must be a finite number, got number NaN');
        expect(errorOf(() => T.range(0, '3' as never))).toBe('range: stop must be a finite number, got string "3"');
      }));

    it('numeric options are checked by the op, so every backend refuses a string alike (js coerced it, native threw a TypeError)', () =>
      on(() => {
        const x = T.tensor([-1, 1]);
        expect(errorOf(() => T.leakyRelu(x, '0.3' as never))).toBe('leakyRelu: alpha must be a number, got string "0.3"');
        expect(errorOf(() => T.elu(x, null as never))).toBe('elu: alpha must be a number, got null');
        expect(errorOf(() => T.pad(x, [[1, 0]], '0.3' as never))).toBe('pad: value must be a number, got string "0.3"');
        expect(errorOf(() => T.oneHot([0], 2, '1' as never))).toBe('oneHot: onValue must be a number, got string "1"');
        expect(errorOf(() => T.clip(x, '0' as never, 1))).toBe('clip: min must be a number, got string "0"');
        // NaN stays a value to store where a value is stored.
        expect(T.fill([1], Number.NaN).toArray()).toEqual([Number.NaN]);
        expect(T.pad(T.tensor([1]), [[1, 0]], Number.NaN).toArray()).toEqual([Number.NaN, 1]);
      }));

    it('optimizer updates check their config and refuse a null gradient', () =>
      on(() => {
        const p = T.variable(T.zeros([2]));
        const state = (): T.Variable => T.variable(T.zeros([2]));
        const g = T.ones([2]);
        expect(errorOf(() => T.sgdUpdate(p, g, null, { lr: 0.1, nesterov: false } as never))).toBe(
          'sgdUpdate: config.momentum must be a finite number, got undefined',
        );
        const adam = { lr: 0.1, beta1: '0.9', beta2: 0.999, epsilon: 1e-7, step: 1, weightDecay: 0 };
        expect(errorOf(() => T.adamUpdate(p, g, state(), state(), adam as never))).toBe(
          'adamUpdate: config.beta1 must be a finite number, got string "0.9"',
        );
        const rmsprop = { lr: 0.1, rho: 0.9, momentum: 0, epsilon: 1e-7, centered: 'no' };
        expect(errorOf(() => T.rmspropUpdate(p, g, state(), null, null, rmsprop as never))).toBe(
          'rmspropUpdate: config.centered must be a boolean, got string',
        );
        expect(errorOf(() => T.sgdUpdate(p, null as never, null, { lr: 0.1, momentum: 0, nesterov: false }))).toBe(
          'sgdUpdate: grad must be a Tensor, got null',
        );
      }));

    it('int32 biases and recurrent weights are converted to float32 on every backend (native refused them)', () =>
      on(() => {
        const x = T.tensor([[1, -2]]);
        expect(T.biasActivation(x, T.tensor([1, 1], [2], 'int32'), 'relu').toArray()).toEqual(
          T.biasActivation(x, T.tensor([1, 1]), 'relu').toArray(),
        );
        const weights = (dtype: 'float32' | 'int32'): T.RnnWeights => ({
          kernel: T.tensor([1], [1, 1], dtype),
          recurrentKernel: T.tensor([1], [1, 1], dtype),
          bias: T.tensor([0], [1], dtype),
        });
        const seq = T.tensor([0.5, 0.25], [1, 2, 1]);
        expect(T.simpleRnnSequence(seq, weights('int32')).output.toArray()).toEqual(
          T.simpleRnnSequence(seq, weights('float32')).output.toArray(),
        );
      }));

    it('pow follows IEEE 754 / C (and PyTorch): 1^y = 1 for every y, (-1)^±Infinity = 1 (JavaScript ** gave NaN)', () =>
      on(() => {
        expect(
          T.pow([1, 1, -1, -1], [Number.POSITIVE_INFINITY, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]).toArray(),
        ).toEqual([1, 1, 1, 1]);
      }));
  });
});
