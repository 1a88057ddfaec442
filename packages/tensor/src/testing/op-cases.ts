/**
 * Framework-agnostic op cases: every differentiable op is checked against
 * finite differences, and forward values against independent expectations.
 * Each backend's test file runs them with that backend active.
 */
import * as ops from '../ops/index.js';
import type { Pair } from '../ops/nn.js';
import { grad, valueAndGrads } from '../autograd.js';
import type { UnaryOp, UnaryParams } from '../backend.js';
import { referenceUnaryDerivative } from './reference.js';
import { Tensor } from '../tensor.js';
import { checkGradients } from './gradcheck.js';

/** One framework-agnostic op check; run it with the backend under test active. */
export interface OpCase {
  /** What the case checks (the test's title). */
  name: string;
  /** Runs the checks on the active backend; throws on failure. */
  run(): void;
}

let state = 987654321;
/** Seeded values in [lo, hi), kept at least `gap` away from zero to stay clear of kinks. */
function values(shape: number[], lo = -2, hi = 2, gap = 0.05): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    let v = lo + ((hi - lo) * state) / 4294967296;
    if (Math.abs(v) < gap) v = v < 0 ? -gap - Math.abs(v) : gap + v;
    out[i] = v;
  }
  return new Tensor(out, shape);
}
/** Distinct values (a shuffled ramp) so max/min and pooling have no ties. */
function distinct(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return new Tensor(
    Float32Array.from(order, (v) => (v - n / 2) * 0.1),
    shape,
  );
}

function assertAllClose(actual: Tensor, expected: readonly number[], what: string, tol = 1e-5): void {
  const a = actual.dataSync();
  if (a.length !== expected.length) throw new Error(`${what}: got ${a.length} values, expected ${expected.length}`);
  expected.forEach((e, i) => {
    if (!(Math.abs(a[i]! - e) <= tol * (1 + Math.abs(e)))) throw new Error(`${what}: value ${i} is ${a[i]}, expected ${e}`);
  });
}

function assertShape(t: Tensor, shape: number[], what: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${what}: shape [${t.shape.join(',')}], expected [${shape.join(',')}]`);
  }
}

function assertThrows(fn: () => unknown, pattern: RegExp, what: string): void {
  try {
    fn();
  } catch (e) {
    if (!pattern.test((e as Error).message)) throw new Error(`${what}: error "${(e as Error).message}" does not match ${pattern}`);
    return;
  }
  throw new Error(`${what}: expected an error matching ${pattern}`);
}

const unaryGradCases: [string, (x: Tensor) => Tensor, () => Tensor][] = [
  ['neg', ops.neg, () => values([3, 4])],
  ['exp', ops.exp, () => values([3, 4])],
  ['log', ops.log, () => values([3, 4], 0.2, 3)],
  ['sqrt', ops.sqrt, () => values([3, 4], 0.2, 3)],
  ['rsqrt', ops.rsqrt, () => values([3, 4], 0.3, 3)],
  ['square', ops.square, () => values([3, 4])],
  ['abs', ops.abs, () => values([3, 4], -2, 2, 0.1)],
  ['reciprocal', ops.reciprocal, () => values([3, 4], 0.3, 3)],
  ['relu', ops.relu, () => values([3, 4], -2, 2, 0.1)],
  ['relu6', ops.relu6, () => new Tensor(Float32Array.from([-1.5, -0.3, 0.4, 2.5, 5.7, 6.3, 7, 9]), [2, 4])],
  ['leakyRelu', (x) => ops.leakyRelu(x, 0.3), () => values([3, 4], -2, 2, 0.1)],
  ['elu', (x) => ops.elu(x, 1.5), () => values([3, 4], -2, 2, 0.1)],
  ['selu', ops.selu, () => values([3, 4], -2, 2, 0.1)],
  ['gelu', ops.gelu, () => values([3, 4])],
  ['sigmoid', ops.sigmoid, () => values([3, 4], -5, 5)],
  ['tanh', ops.tanh, () => values([3, 4])],
  ['softplus', ops.softplus, () => values([3, 4], -5, 5)],
  ['softsign', ops.softsign, () => values([3, 4], -2, 2, 0.1)],
  ['swish', ops.swish, () => values([3, 4])],
  ['clip', (x) => ops.clip(x, -1, 0.5), () => new Tensor(Float32Array.from([-1.7, -1.2, -0.8, -0.2, 0.3, 0.45, 0.6, 1.9]), [2, 4])],
];

const binaryGradCases: [string, (a: Tensor, b: Tensor) => Tensor, number[], number[], [number, number]?][] = [
  ['add', ops.add, [3, 4], [3, 4]],
  ['add broadcast row', ops.add, [3, 4], [4]],
  ['add broadcast [m,1]x[1,n]', ops.add, [3, 1], [1, 5]],
  ['add scalar-shaped', ops.add, [2, 3], []],
  ['sub broadcast rank 3', ops.sub, [2, 3, 4], [3, 1]],
  ['mul broadcast', ops.mul, [2, 3, 4], [2, 1, 4]],
  ['div', ops.div, [3, 4], [3, 4], [0.5, 2]],
  ['div broadcast', ops.div, [3, 4], [1, 4], [0.5, 2]],
  ['pow', ops.pow, [3, 4], [3, 4], [0.5, 2]],
  ['maximum', ops.maximum, [3, 4], [3, 4]],
  ['minimum broadcast', ops.minimum, [3, 4], [4]],
  ['squaredDifference', ops.squaredDifference, [3, 4], [1, 4]],
];

const matmulCases: [string, number[], number[], boolean, boolean][] = [
  ['matmul', [3, 4], [4, 5], false, false],
  ['matmul transposeA', [4, 3], [4, 5], true, false],
  ['matmul transposeB', [3, 4], [5, 4], false, true],
  ['matmul both transposed', [4, 3], [5, 4], true, true],
  ['matmul batched', [2, 3, 4], [2, 4, 5], false, false],
  ['matmul batch broadcast b', [2, 3, 4], [4, 5], false, false],
  ['matmul batch broadcast partial', [2, 1, 3, 4], [1, 3, 4, 2], false, false],
  ['matmul size-1 dims', [1, 1], [1, 7], false, false],
];

const conv: [string, number[], number[], Pair, 'valid' | 'same', Pair][] = [
  ['conv2d valid', [2, 5, 6, 3], [3, 3, 3, 4], 1, 'valid', 1],
  ['conv2d same stride 2', [1, 7, 6, 2], [3, 3, 2, 3], 2, 'same', 1],
  ['conv2d same even kernel', [1, 5, 5, 2], [2, 2, 2, 2], 1, 'same', 1],
  ['conv2d dilation 2', [1, 7, 7, 2], [3, 3, 2, 2], 1, 'valid', 2],
  ['conv2d 1x1', [2, 3, 3, 4], [1, 1, 4, 2], 1, 'valid', 1],
  ['conv2d strides [2,1]', [1, 6, 5, 1], [2, 3, 1, 2], [2, 1], 'same', 1],
];

/** Unary ops by kernel name, with the parameters the reference derivative needs. */
const UNARY_BY_NAME: [UnaryOp, (x: Tensor) => Tensor, UnaryParams?][] = [
  ['neg', ops.neg],
  ['exp', ops.exp],
  ['log', ops.log],
  ['sqrt', ops.sqrt],
  ['rsqrt', ops.rsqrt],
  ['square', ops.square],
  ['abs', ops.abs],
  ['sign', ops.sign],
  ['reciprocal', ops.reciprocal],
  ['relu', ops.relu],
  ['relu6', ops.relu6],
  ['leakyRelu', (x) => ops.leakyRelu(x, 0.3), { alpha: 0.3 }],
  ['elu', (x) => ops.elu(x, 0.7), { alpha: 0.7 }],
  ['selu', ops.selu],
  ['gelu', ops.gelu],
  ['sigmoid', ops.sigmoid],
  ['tanh', ops.tanh],
  ['softplus', ops.softplus],
  ['softsign', ops.softsign],
  ['swish', ops.swish],
  ['clip', (x) => ops.clip(x, -0.5, 2), { alpha: -0.5, beta: 2 }],
  ['step', ops.step],
  ['floor', ops.floor],
  ['round', ops.round],
  ['erf', ops.erf],
];
/** Kinks, clip bounds and saturation, where finite differences cannot check a derivative. */
const KINKS = [-20, -6, -2, -0.5, -1e-3, 0, 1e-3, 0.5, 1.5, 2, 6, 20];
const POSITIVE_POINTS = [1e-3, 0.25, 1, 4, 100];

/**
 * Every op case: gradients against finite differences and forward values against independent
 * expectations, on the active backend.
 *
 * @example
 * ```ts
 * import { opCases } from '@axon/tensor/testing';
 * for (const c of opCases) it(c.name, () => withBackend('js', () => c.run()));
 * ```
 */
export const opCases: OpCase[] = [
  {
    name: 'unary gradients equal the reference derivative at kinks, clip bounds and saturation',
    run: () => {
      for (const [op, f, params] of UNARY_BY_NAME) {
        const points = ['log', 'sqrt', 'rsqrt'].includes(op) ? POSITIVE_POINTS : KINKS;
        const g = grad(f)(new Tensor(Float32Array.from(points), [points.length])).dataSync();
        const expected = points.map((x) => referenceUnaryDerivative(op, Math.fround(x), params));
        expected.forEach((e, i) => {
          const same = g[i] === e || (Number.isNaN(e) && Number.isNaN(g[i]));
          if (!same && !(Math.abs(g[i]! - e) <= 1e-5 + 1e-4 * Math.abs(e))) {
            throw new Error(`grad of ${op} at ${points[i]}: got ${g[i]}, expected ${e}`);
          }
        });
      }
    },
  },
  ...unaryGradCases.map(([name, f, make]) => ({
    name: `grad ${name}`,
    run: () => void checkGradients(f, [make()]),
  })),
  ...binaryGradCases.map(([name, f, aShape, bShape, range]) => ({
    name: `grad ${name}`,
    run: () => {
      const [lo, hi] = range ?? [-2, 2];
      void checkGradients(f, [values(aShape, lo, hi, 0.1), values(bShape, lo, hi, 0.1)]);
    },
  })),
  ...matmulCases.map(([name, a, b, ta, tb]) => ({
    name: `grad ${name}`,
    run: () => void checkGradients((x, y) => ops.matmul(x, y, ta, tb), [values(a), values(b)]),
  })),
  ...conv.map(([name, x, f, strides, padding, dilation]) => ({
    name: `grad ${name}`,
    run: () =>
      void checkGradients((a, w) => ops.conv2d(a, w, strides, padding, dilation), [values(x), values(f)], { maxChecksPerInput: 40 }),
  })),
  { name: 'grad maxPool2d valid', run: () => void checkGradients((x) => ops.maxPool2d(x, 2), [distinct([2, 4, 5, 3])]) },
  { name: 'grad maxPool2d same stride 1', run: () => void checkGradients((x) => ops.maxPool2d(x, 3, 1, 'same'), [distinct([1, 4, 4, 2])]) },
  { name: 'grad avgPool2d valid', run: () => void checkGradients((x) => ops.avgPool2d(x, 2), [values([2, 4, 4, 3])]) },
  { name: 'grad avgPool2d same stride 2', run: () => void checkGradients((x) => ops.avgPool2d(x, 3, 2, 'same'), [values([1, 5, 5, 2])]) },
  { name: 'grad softmax last axis', run: () => void checkGradients((x) => ops.softmax(x), [values([3, 5])]) },
  { name: 'grad softmax axis 0', run: () => void checkGradients((x) => ops.softmax(x, 0), [values([3, 5])]) },
  { name: 'grad logSoftmax', run: () => void checkGradients((x) => ops.logSoftmax(x, 1), [values([2, 4, 3])]) },
  { name: 'grad sum all', run: () => void checkGradients((x) => ops.sum(x), [values([3, 4])]) },
  { name: 'grad sum axes [0,2] keepDims', run: () => void checkGradients((x) => ops.sum(x, [0, 2], true), [values([2, 3, 4])]) },
  { name: 'grad mean axis 1', run: () => void checkGradients((x) => ops.mean(x, 1), [values([2, 3, 4])]) },
  { name: 'grad max axis -1', run: () => void checkGradients((x) => ops.max(x, -1), [distinct([3, 5])]) },
  { name: 'grad min axes [0,1]', run: () => void checkGradients((x) => ops.min(x, [0, 1]), [distinct([3, 2, 4])]) },
  { name: 'grad prod axis 0', run: () => void checkGradients((x) => ops.prod(x, 0), [values([3, 4], 0.5, 1.5)]) },
  { name: 'grad logSumExp', run: () => void checkGradients((x) => ops.logSumExp(x, 1), [values([3, 4])]) },
  {
    name: 'grad reshape',
    run: () => {
      const w = values([4, 3]);
      void checkGradients((x) => ops.mul(ops.reshape(x, [4, -1]), w), [values([2, 6])]);
    },
  },
  { name: 'grad transpose 3-D', run: () => void checkGradients((x) => ops.transpose(x, [2, 0, 1]), [values([2, 3, 4])]) },
  { name: 'grad slice', run: () => void checkGradients((x) => ops.slice(x, [1, 0, 2], [2, -1, 2]), [values([3, 2, 5])]) },
  {
    name: 'grad pad',
    run: () =>
      void checkGradients(
        (x) =>
          ops.pad(
            x,
            [
              [1, 0],
              [2, 3],
            ],
            0.5,
          ),
        [values([2, 3])],
      ),
  },
  { name: 'grad concat axis 1', run: () => void checkGradients((a, b) => ops.concat([a, b, a], 1), [values([2, 3]), values([2, 1])]) },
  { name: 'grad stack axis 1', run: () => void checkGradients((a, b) => ops.stack([a, b], 1), [values([2, 3]), values([2, 3])]) },
  {
    name: 'grad split',
    run: () =>
      void checkGradients(
        (x) => {
          const [p, q] = ops.split(x, [1, -1], 1);
          return ops.mul(ops.sum(p!), q!);
        },
        [values([2, 4])],
      ),
  },
  { name: 'grad gather axis 0 repeated indices', run: () => void checkGradients((x) => ops.gather(x, [2, 0, 2, 1]), [values([3, 4])]) },
  {
    name: 'grad gather axis 1 2-D indices',
    run: () => void checkGradients((x) => ops.gather(x, new Tensor(new Int32Array([1, 0, 1, 1]), [2, 2]), 1), [values([2, 3, 2])]),
  },
  { name: 'grad tile', run: () => void checkGradients((x) => ops.tile(x, [2, 3]), [values([2, 2])]) },
  { name: 'grad broadcastTo', run: () => void checkGradients((x) => ops.broadcastTo(x, [2, 3, 4]), [values([3, 1])]) },
  {
    name: 'grad where',
    run: () =>
      void checkGradients(
        (a, b) => ops.where(new Tensor(new Float32Array([1, 0, 0, 1, 1, 0]), [2, 3]), a, b),
        [values([2, 3]), values([3])],
      ),
  },
  {
    name: 'grad composite expression used twice',
    run: () => void checkGradients((x) => ops.mul(ops.tanh(x), ops.sigmoid(ops.mul(x, x))), [values([4, 3])]),
  },

  {
    name: 'forward values of element-wise ops',
    run: () => {
      const x = new Tensor(Float32Array.from([-1, 0, 0.5, 2]), [4]);
      assertAllClose(ops.relu(x), [0, 0, 0.5, 2], 'relu');
      assertAllClose(
        ops.sigmoid(x),
        [-1, 0, 0.5, 2].map((v) => 1 / (1 + Math.exp(-v))),
        'sigmoid',
      );
      assertAllClose(ops.softplus(new Tensor(Float32Array.from([-100, 0, 100]), [3])), [0, Math.LN2, 100], 'softplus extremes');
      assertAllClose(ops.gelu(x), [-0.15865525393145707, 0, 0.3457312306910339, 1.9544997361036416], 'gelu (erf)');
      assertAllClose(
        ops.selu(x),
        [-1.0507009873554805 * 1.6732632423543772 * (1 - Math.exp(-1)), 0, 0.5 * 1.0507009873554805, 2 * 1.0507009873554805],
        'selu',
      );
      assertAllClose(ops.div(x, 2), [-0.5, 0, 0.25, 1], 'div by scalar');
      assertAllClose(ops.pow(x, 2), [1, 0, 0.25, 4], 'pow');
      assertAllClose(
        ops.add(new Tensor(Float32Array.from([1, 2]), [2, 1]), new Tensor(Float32Array.from([10, 20, 30]), [3])),
        [11, 21, 31, 12, 22, 32],
        'broadcast add',
      );
    },
  },
  {
    name: 'forward values of reductions and argMax',
    run: () => {
      const x = new Tensor(Float32Array.from([1, 5, 3, 4, 2, 6]), [2, 3]);
      assertAllClose(ops.sum(x, 0), [5, 7, 9], 'sum axis 0');
      assertAllClose(ops.mean(x, 1, true), [3, 4], 'mean axis 1');
      assertShape(ops.mean(x, 1, true), [2, 1], 'mean keepDims shape');
      assertAllClose(ops.max(x), [6], 'max all');
      assertAllClose(ops.min(x, -1), [1, 2], 'min last axis');
      const am = ops.argMax(x, 1);
      if (am.dtype !== 'int32') throw new Error('argMax must return int32');
      assertAllClose(am, [1, 2], 'argMax');
      assertAllClose(ops.argMin(x, 0), [0, 1, 0], 'argMin');
      assertAllClose(ops.logSumExp(new Tensor(Float32Array.from([1000, 1000]), [2])), [1000 + Math.LN2], 'logSumExp is stable');
      assertAllClose(ops.softmax(new Tensor(Float32Array.from([1000, 1000, -1000]), [3])), [0.5, 0.5, 0], 'softmax is stable');
      const tied = new Tensor(Float32Array.from([2, 2, 1, 0, 3, 3]), [2, 3]);
      assertAllClose(
        valueAndGrads(() => ops.sum(ops.max(tied, 1)), [tied]).grads[0]!,
        [0.5, 0.5, 0, 0, 0.5, 0.5],
        'max gradient shared by ties',
      );
    },
  },
  {
    name: 'forward values of shape ops',
    run: () => {
      const x = new Tensor(Float32Array.from([0, 1, 2, 3, 4, 5]), [2, 3]);
      assertAllClose(ops.transpose(x), [0, 3, 1, 4, 2, 5], 'transpose');
      assertAllClose(ops.slice(x, [0, 1], [2, 2]), [1, 2, 4, 5], 'slice');
      assertAllClose(
        ops.pad(x, [
          [0, 1],
          [1, 0],
        ]),
        [0, 0, 1, 2, 0, 3, 4, 5, 0, 0, 0, 0],
        'pad',
      );
      assertAllClose(ops.concat([x, x], 0), [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5], 'concat axis 0');
      assertAllClose(ops.gather(x, [1, 1, 0]), [3, 4, 5, 3, 4, 5, 0, 1, 2], 'gather');
      assertAllClose(ops.oneHot([2, 0, 5], 3), [0, 0, 1, 1, 0, 0, 0, 0, 0], 'oneHot with an out-of-range index');
      assertAllClose(ops.tile(new Tensor(Float32Array.from([1, 2]), [1, 2]), [2, 2]), [1, 2, 1, 2, 1, 2, 1, 2], 'tile');
      assertShape(ops.stack([x, x, x], 2), [2, 3, 3], 'stack shape');
      assertShape(ops.squeeze(ops.expandDims(x, 1)), [2, 3], 'expandDims/squeeze');
      const [a, b] = ops.split(x, 3, 1).map((t) => t.dataSync());
      if (a![1] !== 3 || b![0] !== 1) throw new Error('split along axis 1 gave wrong pieces');
      const m = ops.matmul(x, x, false, true);
      assertAllClose(m, [5, 14, 14, 50], 'matmul x·xᵀ');
    },
  },
  {
    name: 'conv2d and pooling forward values and TensorFlow same-padding geometry',
    run: () => {
      const x = new Tensor(
        Float32Array.from({ length: 16 }, (_, i) => i + 1),
        [1, 4, 4, 1],
      );
      const ones = new Tensor(new Float32Array(9).fill(1), [3, 3, 1, 1]);
      assertAllClose(ops.conv2d(x, ones, 1, 'valid'), [54, 63, 90, 99], 'conv2d valid box filter');
      const same = ops.conv2d(x, ones, 2, 'same');
      // TF: out = ceil(4/2) = 2, total pad = 1, put after: windows start at rows/cols 0 and 2.
      assertAllClose(same, [54, 45, 72, 54], 'conv2d same stride 2');
      assertAllClose(ops.maxPool2d(x, 2), [6, 8, 14, 16], 'maxPool2d');
      assertAllClose(
        ops.avgPool2d(x, 3, 2, 'same'),
        [
          (1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11) / 9,
          (3 + 4 + 7 + 8 + 11 + 12) / 6,
          (9 + 10 + 11 + 13 + 14 + 15) / 6,
          (11 + 12 + 15 + 16) / 4,
        ],
        'avgPool2d same excludes padding',
      );
    },
  },
  {
    name: 'shape errors name the op and both shapes',
    run: () => {
      assertThrows(() => ops.add(values([2, 3]), values([4])), /add: shapes \[2,3\] and \[4\] cannot be broadcast/, 'add');
      assertThrows(() => ops.matmul(values([2, 3]), values([4, 5])), /matmul: inner dimensions differ.*\[2,3\].*\[4,5\]/, 'matmul');
      assertThrows(
        () => ops.conv2d(values([1, 5, 5, 3]), values([3, 3, 2, 4])),
        /conv2d: input \[1,5,5,3\] has 3 channels but filter \[3,3,2,4\] expects 2/,
        'conv2d channels',
      );
      assertThrows(
        () => ops.conv2d(values([5, 5, 3]), values([3, 3, 3, 4])),
        /conv2d: x must have rank 4, got shape \[5,5,3\]/,
        'conv2d rank',
      );
      assertThrows(() => ops.reshape(values([2, 3]), [4, 2]), /reshape: cannot reshape \[2,3\]/, 'reshape');
      assertThrows(() => ops.concat([values([2, 3]), values([3, 3])], 1), /concat: tensors\[1\] has shape \[3,3\]/, 'concat');
      assertThrows(() => ops.gather(values([3, 2]), [0, 3]), /gather.*3/, 'gather index out of range');
      assertThrows(() => ops.sum(values([2, 3]), 2), /sum: axis 2 is out of range for a tensor of rank 2/, 'sum axis');
      assertThrows(
        () => ops.maxPool2d(values([1, 2, 2, 1]), 3),
        /maxPool2d: with 'valid' padding the 3x3 window does not fit/,
        'pool window',
      );
    },
  },
];
