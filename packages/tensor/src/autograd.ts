import { getBackend } from './registry.js';
import { formatShape } from './shape.js';
import { Tensor, type GradNode } from './tensor.js';

let recording = true;

/** True while ops record their backward functions (outside noGrad). */
export function isGradEnabled(): boolean {
  return recording;
}

/** Runs fn without recording gradients: inference, optimizer updates, metrics. */
export function noGrad<T>(fn: () => T): T {
  const previous = recording;
  recording = false;
  try {
    return fn();
  } finally {
    recording = previous;
  }
}

/**
 * Called by every differentiable op after computing `output`: attaches the
 * backward function only when some input needs a gradient, so inference
 * records nothing.
 */
export function recordOp(op: string, output: Tensor, inputs: readonly Tensor[], backward: GradNode['backward']): Tensor {
  if (recording && inputs.some((t) => t.requiresGrad)) {
    output.requiresGrad = true;
    output.gradNode = { op, inputs, backward };
  }
  return output;
}

/** Tensors reachable from `root` through grad nodes, in reverse topological order (root first). */
function reverseTopologicalOrder(root: Tensor): Tensor[] {
  const visited = new Set<number>();
  const order: Tensor[] = [];
  // Iterative DFS: recurrent graphs can be thousands of ops deep.
  const stack: { tensor: Tensor; expanded: boolean }[] = [{ tensor: root, expanded: false }];
  while (stack.length > 0) {
    const top = stack.pop()!;
    if (top.expanded) {
      order.push(top.tensor);
      continue;
    }
    if (visited.has(top.tensor.id)) continue;
    visited.add(top.tensor.id);
    stack.push({ tensor: top.tensor, expanded: true });
    for (const input of top.tensor.gradNode?.inputs ?? []) {
      if (input.requiresGrad && !visited.has(input.id)) stack.push({ tensor: input, expanded: false });
    }
  }
  return order.reverse();
}

/**
 * Back-propagates from `output` (seeded with `dy`, default ones) and returns
 * the gradient of each of `wrt` (zeros where `output` does not depend on it).
 * Gradients accumulate across every use of a tensor.
 */
export function backward(output: Tensor, wrt: readonly Tensor[], dy?: Tensor): Tensor[] {
  return noGrad(() => {
    const seed = dy ?? onesLike(output);
    if (seed.shape.length !== output.shape.length || seed.shape.some((d, i) => d !== output.shape[i])) {
      throw new Error(`backward: dy has shape ${formatShape(seed.shape)}, expected the output's ${formatShape(output.shape)}`);
    }
    const grads = new Map<number, Tensor>([[output.id, seed]]);
    for (const tensor of reverseTopologicalOrder(output)) {
      const node = tensor.gradNode;
      const g = grads.get(tensor.id);
      if (!node || !g) continue;
      const inputGrads = node.backward(g);
      node.inputs.forEach((input, i) => {
        const gi = inputGrads[i];
        if (!gi || !input.requiresGrad) return;
        if (gi.size !== input.size) {
          throw new Error(`backward of '${node.op}': gradient for input ${i} has shape ${formatShape(gi.shape)}, expected ${formatShape(input.shape)}`);
        }
        const previous = grads.get(input.id);
        grads.set(input.id, previous ? accumulate(previous, gi) : gi);
      });
      // Intermediate gradients are no longer needed once propagated; free them early.
      if (tensor !== output && !wrt.includes(tensor)) grads.delete(tensor.id);
    }
    return wrt.map((w) => {
      const g = grads.get(w.id);
      if (!g) return new Tensor(new Float32Array(w.size), w.shape);
      return g.shape.every((d, i) => d === w.shape[i]) && g.rank === w.rank ? g : new Tensor(g.dataSync(), w.shape);
    });
  });
}

function onesLike(t: Tensor): Tensor {
  return new Tensor(new Float32Array(t.size).fill(1), t.shape);
}

function accumulate(a: Tensor, b: Tensor): Tensor {
  const out = new Float32Array(a.size);
  getBackend().binary('add', a.dataSync(), [a.size], b.dataSync(), [b.size], out, [a.size]);
  return new Tensor(out, a.shape);
}

/**
 * Evaluates f() and the gradients of its (scalar or any-shape, summed) value
 * with respect to `wrt`. Tensors in `wrt` that do not yet require a gradient
 * are watched for the duration of the call.
 */
export function valueAndGrads(f: () => Tensor, wrt: readonly Tensor[]): { value: Tensor; grads: Tensor[] } {
  const watched = wrt.filter((t) => !t.requiresGrad);
  for (const t of watched) t.requiresGrad = true;
  try {
    const previous = recording;
    recording = true;
    let value: Tensor;
    try {
      value = f();
    } finally {
      recording = previous;
    }
    if (!(value instanceof Tensor)) throw new Error('valueAndGrads: f must return a Tensor');
    const grads = value.requiresGrad ? backward(value, wrt) : wrt.map((w) => new Tensor(new Float32Array(w.size), w.shape));
    return { value, grads };
  } finally {
    for (const t of watched) t.requiresGrad = false;
  }
}

/** TensorFlow.js-style: grad(f)(x) is the gradient of f at x. */
export function grad(f: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  return (x) => {
    const watched = new Tensor(x.values, x.shape, x.dtype);
    return valueAndGrads(() => f(watched), [watched]).grads[0]!;
  };
}

/** TensorFlow.js-style: grads(f)(xs) gives the gradient for each argument. */
export function grads(f: (...xs: Tensor[]) => Tensor): (xs: readonly Tensor[]) => Tensor[] {
  return (xs) => {
    const watched = xs.map((x) => new Tensor(x.values, x.shape, x.dtype));
    return valueAndGrads(() => f(...watched), watched).grads;
  };
}
