import { getBackend } from '../registry.js';
import { formatShape, sizeOf, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';

export type TensorLike = Tensor | number;

export function asTensor(x: TensorLike): Tensor {
  return x instanceof Tensor ? x : new Tensor(new Float32Array([x]), []);
}

/** float32 storage of a tensor; int32 tensors are converted. */
export function floatValues(t: Tensor): Float32Array {
  return t.dataSync();
}

export function assertTensor(op: string, x: unknown, name = 'x'): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    throw new Error(`${op}: ${name} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  }
}

export function assertRank(op: string, t: Tensor, rank: number, name = 'x'): void {
  if (t.rank !== rank) {
    throw new Error(`${op}: ${name} must have rank ${rank}, got shape ${formatShape(t.shape)} (rank ${t.rank})`);
  }
}

export function newTensor(shape: Shape): { t: Tensor; out: Float32Array } {
  const out = new Float32Array(sizeOf(shape));
  return { t: new Tensor(out, shape), out };
}

export const backend = getBackend;
