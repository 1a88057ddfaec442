import { activeKernels } from './registry.js';
import { formatShape, shapesEqual } from './shape.js';
import { type Storage, allocStorage } from './memory.js';
import { Tensor, bufferOf, type GradNode } from './tensor.js';

let recording = true;

/** True while ops record their backward functions (outside noGrad). */
export function isGradEnabled(): boolean {
  return recording;
}

/** Runs fn without recording gradients (inference, optimizer updates, metrics) and returns its result. */
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

/**
 * A node with several outputs: its backward runs once, with the gradient of
 * every output (null for an output nothing depended on).
 */
interface MultiOutputNode {
  readonly op: string;
  readonly outputs: readonly Tensor[];
  readonly backward: (dys: readonly (Tensor | null)[]) => readonly (Tensor | null)[];
}

const multiOutput = new WeakMap<GradNode, { node: MultiOutputNode; index: number }>();

/**
 * recordOp for an op with several outputs (a fused recurrent sequence: its
 * output and final states): `backward` receives one gradient per output.
 */
export function recordMultiOutputOp(
  op: string,
  outputs: readonly Tensor[],
  inputs: readonly Tensor[],
  backward: MultiOutputNode['backward'],
): readonly Tensor[] {
  if (!(recording && inputs.some((t) => t.requiresGrad))) return outputs;
  const node: MultiOutputNode = { op, outputs, backward };
  outputs.forEach((output, index) => {
    const gradNode: GradNode = {
      op,
      inputs,
      backward: () => {
        throw new Error(`backward of '${op}': a multi-output node runs through backward()`);
      },
    };
    multiOutput.set(gradNode, { node, index });
    output.requiresGrad = true;
    output.gradNode = gradNode;
  });
  return outputs;
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

function checkGradient(op: string, i: number, g: Tensor, input: Tensor): void {
  if (!shapesEqual(g.shape, input.shape)) {
    throw new Error(`backward of '${op}': gradient for input ${i} has shape ${formatShape(g.shape)}, expected ${formatShape(input.shape)}`);
  }
}

/**
 * Called by {@link backward} (and {@link valueAndGrads}) as soon as the gradient of `wrt[index]` is
 * final — before the backward pass ends — so a caller can start using it (say, summing it across
 * processes) while the rest is computed. Every index is reported exactly once.
 */
export type GradientCallback = (index: number, grad: Tensor) => void;

/**
 * Back-propagates from `output` (seeded with `dy`, default ones) and returns
 * the gradient of each of `wrt` (zeros where `output` does not depend on it).
 * Gradients accumulate across every use of a tensor. `onGradient` hears of each gradient as soon
 * as it is final.
 */
export function backward(output: Tensor, wrt: readonly Tensor[], dy?: Tensor, onGradient?: GradientCallback): Tensor[] {
  return noGrad(() => {
    const seed = dy ?? filled(output.shape, 1);
    if (!shapesEqual(seed.shape, output.shape)) {
      throw new Error(`backward: dy has shape ${formatShape(seed.shape)}, expected the output's ${formatShape(output.shape)}`);
    }
    const grads = new Map<number, Tensor>([[output.id, seed]]);
    const order = reverseTopologicalOrder(output);
    // For multi-output nodes: how many of their outputs are in the graph, and their gradients so far.
    const pending = new Map<MultiOutputNode, { remaining: number; dys: (Tensor | null)[] }>();
    for (const tensor of order) {
      const entry = tensor.gradNode ? multiOutput.get(tensor.gradNode) : undefined;
      if (!entry) continue;
      const p = pending.get(entry.node) ?? { remaining: 0, dys: entry.node.outputs.map(() => null) };
      p.remaining++;
      pending.set(entry.node, p);
    }
    const propagate = (op: string, inputs: readonly Tensor[], inputGrads: readonly (Tensor | null)[]): void => {
      inputs.forEach((input, i) => {
        const gi = inputGrads[i];
        if (!gi || !input.requiresGrad) return;
        checkGradient(op, i, gi, input);
        const previous = grads.get(input.id);
        grads.set(input.id, previous ? accumulate(previous, gi) : gi);
      });
    };
    // For onGradient: at which position of `order` each wrt tensor (other than the output) is last consumed.
    const finalAt = new Map<number, Tensor[]>();
    if (onGradient) {
      const wanted = new Set(wrt.filter((w) => w !== output));
      const last = new Map<Tensor, number>();
      order.forEach((t, i) => {
        for (const input of t.gradNode?.inputs ?? []) if (wanted.has(input)) last.set(input, i);
      });
      for (const [w, i] of last) finalAt.set(i, [...(finalAt.get(i) ?? []), w]);
    }
    let position = 0;
    for (const tensor of order) {
      const node = tensor.gradNode;
      const g = grads.get(tensor.id) ?? null;
      if (node) {
        const entry = multiOutput.get(node);
        if (entry) {
          const p = pending.get(entry.node)!;
          p.dys[entry.index] = g;
          // Every output of the node comes before its inputs in this order: run it after the last one.
          if (--p.remaining === 0 && p.dys.some((d) => d !== null)) propagate(node.op, node.inputs, entry.node.backward(p.dys));
        } else if (g) {
          propagate(node.op, node.inputs, node.backward(g));
        }
      }
      // A wrt tensor's gradient is final once its last consumer in this order has propagated.
      for (const w of finalAt.get(position) ?? []) {
        const g = grads.get(w.id);
        if (g) wrt.forEach((x, i) => x === w && onGradient!(i, g));
      }
      position++;
      // Intermediate gradients are no longer needed once propagated.
      if (tensor !== output && !wrt.includes(tensor)) grads.delete(tensor.id);
    }
    return wrt.map((w, i) => {
      const g = grads.get(w.id);
      if (g && (w !== output || !onGradient)) return g;
      const result = g ?? filled(w.shape, 0);
      onGradient?.(i, result); // the output itself, or a tensor the output does not depend on
      return result;
    });
  });
}

function filled(shape: readonly number[], value: number): Tensor {
  const s = allocStorage(
    shape.reduce((a, b) => a * b, 1),
    'float32',
  );
  activeKernels().fill(s.buffer, value);
  return new Tensor(s, shape);
}

function accumulate(a: Tensor, b: Tensor): Tensor {
  const s: Storage = allocStorage(a.size, 'float32');
  activeKernels().binary('add', bufferOf(a, 'backward'), [a.size], bufferOf(b, 'backward'), [b.size], s.buffer, [a.size]);
  return new Tensor(s, a.shape);
}

/**
 * Evaluates f() and the gradients of its (scalar or any-shape, summed) value
 * with respect to `wrt`. Tensors in `wrt` that do not yet require a gradient
 * are watched for the duration of the call. f records gradients even when
 * called inside {@link noGrad}. A tensor f's value does not depend on gets zeros.
 *
 * @throws Error if f does not return a Tensor.
 *
 * @example
 * ```ts
 * const w = variable(tensor([[0.5], [-0.5]]));
 * const x = tensor([[1, 2], [3, 4]]);
 * const { value, grads } = valueAndGrads(() => mean(square(matmul(x, w))), [w]);
 * value.item();        // the loss
 * grads[0].shape;      // [2, 1], like w
 * ```
 */
export function valueAndGrads(
  f: () => Tensor,
  wrt: readonly Tensor[],
  options: {
    /** Hears of each gradient as soon as it is final, during the backward pass (see {@link GradientCallback}). */
    onGradient?: GradientCallback;
  } = {},
): {
  /** f's result. */
  value: Tensor;
  /** One gradient per tensor of `wrt`, shaped like it. */
  grads: Tensor[];
} {
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
    const grads = value.requiresGrad
      ? backward(value, wrt, undefined, options.onGradient)
      : wrt.map((w, i) => {
          const zero = noGrad(() => filled(w.shape, 0));
          options.onGradient?.(i, zero);
          return zero;
        });
    return { value, grads };
  } finally {
    for (const t of watched) t.requiresGrad = false;
  }
}

/** A new tensor viewing t's values (no copy), which gradients can be asked for independently of t. */
function watchable(t: Tensor): Tensor {
  bufferOf(t, 'grad');
  return new Tensor(t.storage, t.shape);
}

/**
 * TensorFlow.js-style: grad(f)(x) is the gradient of f at x (of f's value summed, when not a scalar).
 *
 * @example
 * ```ts
 * const dSquare = grad((x) => square(x));
 * dSquare(tensor([1, 2, 3])).toArray(); // [2, 4, 6]
 * ```
 */
export function grad(f: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  return (x) => {
    const watched = watchable(x);
    return valueAndGrads(() => f(watched), [watched]).grads[0]!;
  };
}

/** TensorFlow.js-style: grads(f)(xs) gives the gradient of f (summed) for each argument. */
export function grads(f: (...xs: Tensor[]) => Tensor): (xs: readonly Tensor[]) => Tensor[] {
  return (xs) => {
    const watched = xs.map(watchable);
    return valueAndGrads(() => f(...watched), watched).grads;
  };
}
