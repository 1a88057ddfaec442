import { describe, expect, it } from 'vitest';
import {
  add,
  relu,
  exp,
  grad,
  grads,
  matmul,
  mul,
  noGrad,
  reshape,
  sum,
  tanh,
  tensor,
  valueAndGrads,
  variable,
  type Tensor,
  sub,
  square,
  mean,
  recordOp,
  recordMultiOutputOp,
  slice,
  transpose,
  concat,
  broadcastTo,
  cast,
  squeeze,
  Variable,
} from '../src/index.js';
import { useTestBackend } from './test-backend.js';

useTestBackend();

describe('autograd', () => {
  it('accumulates gradients across every use of a tensor', () => {
    const x = tensor([1, -2, 3]);
    const g = grad((v) => add(mul(v, v), mul(v, 3)))(x); // d/dx (x² + 3x) = 2x + 3
    expect(Array.from(g.dataSync())).toEqual([5, -1, 9]);
  });

  it('differentiates through a chain and a matmul with variables', () => {
    const w = variable(
      tensor([
        [1, 2],
        [3, 4],
      ]),
    );
    const x = tensor([[1, 1]]);
    const {
      value,
      grads: [gw],
    } = valueAndGrads(() => sum(matmul(x, w)), [w]);
    expect(value.item()).toBe(10);
    expect(gw!.toArray()).toEqual([
      [1, 1],
      [1, 1],
    ]);
  });

  it('grads(f) returns one gradient per argument', () => {
    const [ga, gb] = grads((a, b) => sum(mul(a!, b!)))([tensor([1, 2]), tensor([3, 4])]);
    expect(Array.from(ga!.dataSync())).toEqual([3, 4]);
    expect(Array.from(gb!.dataSync())).toEqual([1, 2]);
  });

  it('records nothing when no input requires a gradient, or under noGrad', () => {
    const x = tensor([1, 2]);
    const y = exp(x);
    expect(y.requiresGrad).toBe(false);
    expect(y.gradNode).toBeNull();
    const w = variable(tensor([1, 2]));
    const z = noGrad(() => exp(w));
    expect(z.requiresGrad).toBe(false);
    expect(z.gradNode).toBeNull();
    expect(exp(w).gradNode?.op).toBe('exp');
  });

  it('gives zeros for a tensor the value does not depend on', () => {
    const a = variable(tensor([1, 2]));
    const b = variable(tensor([5]));
    const {
      grads: [ga, gb],
    } = valueAndGrads(() => sum(square(a)), [a, b]);
    expect(Array.from(ga!.dataSync())).toEqual([2, 4]);
    expect(Array.from(gb!.dataSync())).toEqual([0]);
  });

  it('handles graphs thousands of ops deep without overflowing the stack', () => {
    const x = variable(tensor([0.5]));
    const {
      grads: [g],
    } = valueAndGrads(() => {
      let h: Tensor = x;
      for (let i = 0; i < 20000; i++) h = add(h, mul(x, 1e-4));
      return h;
    }, [x]);
    expect(g!.item()).toBeCloseTo(3, 2); // 20000 float32 accumulations
  });

  it('does not leave watched tensors requiring gradients', () => {
    const x = tensor([1, 2]);
    valueAndGrads(() => sum(tanh(x)), [x]);
    expect(x.requiresGrad).toBe(false);
  });

  it('fits a line by gradient descent', () => {
    const xs = tensor([0, 1, 2, 3]);
    const ys = tensor([1, 3, 5, 7]);
    const w = variable(tensor([0]));
    const b = variable(tensor([0]));
    for (let i = 0; i < 500; i++) {
      const {
        grads: [gw, gb],
      } = valueAndGrads(() => mean(square(sub(add(mul(xs, w), b), ys))), [w, b]);
      w.assign(sub(w, mul(gw!, 0.05)));
      b.assign(sub(b, mul(gb!, 0.05)));
    }
    expect(w.item()).toBeCloseTo(2, 3);
    expect(b.item()).toBeCloseTo(1, 3);
  });

  it('rejects assigning a value of the wrong shape to a variable', () => {
    const w = variable(tensor([1, 2]), true, 'dense/kernel');
    expect(() => w.assign(tensor([1, 2, 3]))).toThrow("assign to 'dense/kernel': expected shape [2], got [3]");
  });
});

describe('variables', () => {
  it('assign overwrites in place; arrays read before and a reshaped view taken before do not follow', () => {
    const w = variable(tensor([1, 2, 3, 4]));
    const before = w.dataSync();
    const view = reshape(w, [2, 2]);
    w.assign(tensor([5, 6, 7, 8]));
    expect(Array.from(w.dataSync())).toEqual([5, 6, 7, 8]);
    expect(Array.from(before)).toEqual([1, 2, 3, 4]);
    expect(view.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });
});

describe('backward checks gradient shapes exactly', () => {
  it('rejects a gradient of the right size but the wrong shape, naming the op', () => {
    const x = variable(
      tensor([
        [1, 2],
        [3, 4],
      ]),
    );
    const bad = (v: Tensor): Tensor =>
      recordOp(
        'badOp',
        add(
          noGrad(() => mul(v, 1)),
          0,
        ),
        [v],
        (dy) => [reshape(dy, [4])],
      );
    expect(() => valueAndGrads(() => sum(bad(x)), [x])).toThrow("backward of 'badOp': gradient for input 0 has shape [4], expected [2,2]");
  });
});

describe('multi-output ops', () => {
  it('run their backward once, with a null gradient for an output nothing used', () => {
    const x = variable(tensor([1, 2, 3]));
    let calls = 0;
    let seen: (Tensor | null)[] = [];
    const [twice, thrice] = noGrad(() => [mul(x, 2), mul(x, 3)]);
    recordMultiOutputOp('pair', [twice!, thrice!], [x], (dys) => {
      calls++;
      seen = [...dys];
      return [add(mul(dys[0] ?? tensor([0, 0, 0]), 2), mul(dys[1] ?? tensor([0, 0, 0]), 3))];
    });
    const {
      grads: [g],
    } = valueAndGrads(() => sum(mul(twice!, twice!)), [x]);
    expect(calls).toBe(1);
    expect(seen[1]).toBeNull();
    // d/dx sum((2x)²) = 8x
    expect(Array.from(g!.dataSync())).toEqual([8, 16, 24]);
    const both = valueAndGrads(() => add(sum(twice!), sum(thrice!)), [x]).grads[0]!;
    expect(calls).toBe(2);
    expect(Array.from(both.dataSync())).toEqual([5, 5, 5]);
  });
});

describe('no op result aliases a Variable', () => {
  const cases: [string, (v: Tensor) => Tensor][] = [
    ['slice of the whole', (v) => slice(v, [0, 0], [2, 2])],
    ['identity transpose', (v) => transpose(v, [0, 1])],
    ['reshape to the same shape', (v) => reshape(v, [2, 2])],
    ['reshape to another shape', (v) => reshape(v, [4])],
    ['concat of one tensor', (v) => concat([v], 0)],
    ['broadcastTo the same shape', (v) => broadcastTo(v, [2, 2])],
    ['cast to float32', (v) => cast(v, 'float32')],
    ['squeeze without unit axes', (v) => squeeze(v)],
  ];
  for (const [name, op] of cases) {
    it(`${name}: a new tensor that keeps its values when the variable changes, with the gradient flowing`, () => {
      const v = variable(
        tensor([
          [1, 2],
          [3, 4],
        ]),
      );
      const y = op(v);
      expect(y).not.toBe(v);
      expect(y).not.toBeInstanceOf(Variable);
      const before = Array.from(y.dataSync());
      v.assign(
        tensor([
          [9, 9],
          [9, 9],
        ]),
      );
      expect(Array.from(y.dataSync())).toEqual(before);
      const {
        grads: [g],
      } = valueAndGrads(() => sum(mul(op(v), 2)), [v]);
      expect(g!.toArray()).toEqual([
        [2, 2],
        [2, 2],
      ]);
    });
  }
});

describe('valueAndGrads onGradient', () => {
  it('reports each gradient once, as soon as it is final: later layers first, unused inputs with zeros', () => {
    const w1 = variable(
      tensor([
        [0.5, -1],
        [2, 0.25],
      ]),
    );
    const w2 = variable(tensor([[1], [-2]]));
    const unused = variable(tensor([3, 4]));
    const x = tensor([[1, 2]]);
    const seen: { index: number; values: number[] }[] = [];
    const { grads } = valueAndGrads(() => sum(square(matmul(relu(matmul(x, w1)), w2))), [w1, unused, w2], {
      onGradient: (index, g) => seen.push({ index, values: Array.from(g.dataSync()) }),
    });
    expect(seen.map((s) => s.index).sort()).toEqual([0, 1, 2]);
    // w2 is used after w1 in the forward pass, so its gradient is complete before w1's.
    expect(seen.findIndex((s) => s.index === 2)).toBeLessThan(seen.findIndex((s) => s.index === 0));
    for (const s of seen) expect(s.values).toEqual(Array.from(grads[s.index]!.dataSync()));
    expect(seen.find((s) => s.index === 1)!.values).toEqual([0, 0]);
  });
});
