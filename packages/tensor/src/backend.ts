/**
 * The Backend interface: the one contract both kernel packages implement.
 *
 * Kernels take flat typed arrays plus plain numbers for shapes and options and
 * write into an output array they are given. They never allocate tensors and
 * never see autograd. Arrays are row-major; images are NHWC.
 *
 * Every array argument may be a view (subarray) into a larger buffer; kernels
 * must honour `byteOffset`/`length`, never the underlying buffer's size.
 */

export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'square' | 'abs' | 'sign' | 'reciprocal'
  | 'relu' | 'relu6' | 'leakyRelu' | 'elu' | 'selu' | 'gelu' | 'sigmoid' | 'tanh'
  | 'softplus' | 'softsign' | 'swish' | 'clip' | 'step' | 'floor' | 'round';

export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum'
  | 'squaredDifference' | 'greater' | 'greaterEqual' | 'less' | 'lessEqual' | 'equal' | 'notEqual';

export type ReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'prod';

/** Scalar parameters of a unary op: `alpha` (leakyRelu slope, elu alpha, clip low), `beta` (clip high). */
export interface UnaryParams {
  alpha?: number;
  beta?: number;
}

/** Geometry of a 2-D convolution over NHWC input, HWIO filter, NHWC output. */
export interface Conv2DInfo {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  /** Zero padding added before the first row / column (TensorFlow's rule puts the odd pixel after). */
  padTop: number;
  padLeft: number;
}

/** Geometry of 2-D pooling over NHWC input. Padded cells never count (TensorFlow semantics). */
export interface Pool2DInfo {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

export interface SgdConfig {
  lr: number;
  momentum: number;
  nesterov: boolean;
}

export interface AdamConfig {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1-based step count, for bias correction. */
  step: number;
  /** Decoupled weight decay (AdamW); 0 for Adam. */
  weightDecay: number;
}

export interface RmspropConfig {
  lr: number;
  rho: number;
  momentum: number;
  epsilon: number;
  centered: boolean;
}

/**
 * The kernel set. Shapes are `number[]`; a batch-broadcast GEMM passes a batch
 * stride of 0 for the operand that is shared by every batch entry.
 */
export interface Backend {
  readonly name: string;

  /**
   * C[i] = alpha * op(A[i]) · op(B[i]) + beta * C[i] for i < batch, with op(A) m×k and op(B) k×n.
   * A[i] starts at i*strideA (elements), B[i] at i*strideB, C[i] at i*m*n.
   * With transA, A is stored k×m; with transB, B is stored n×k.
   */
  gemm(
    a: Float32Array, b: Float32Array, c: Float32Array,
    batch: number, m: number, n: number, k: number,
    transA: boolean, transB: boolean, alpha: number, beta: number,
    strideA: number, strideB: number,
  ): void;

  /** y = op(x) element-wise; x and y have equal length (may be the same array). */
  unary(op: UnaryOp, x: Float32Array, y: Float32Array, params?: UnaryParams): void;

  /**
   * dx = dy * op'(x) element-wise, given the forward input x and output y
   * (each kernel uses whichever is cheaper). All four arrays have equal length.
   */
  unaryGrad(op: UnaryOp, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, params?: UnaryParams): void;

  /** out = a op b with NumPy broadcasting; outShape is the broadcast of aShape and bShape. */
  binary(op: BinaryOp, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[], out: Float32Array, outShape: readonly number[]): void;

  /** out = cond != 0 ? a : b, all broadcast to outShape. */
  select(cond: Float32Array, condShape: readonly number[], a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[], out: Float32Array, outShape: readonly number[]): void;

  /** Reduces the middle axis of x viewed as [outer, size, inner] into out of length outer*inner. */
  reduce(op: ReduceOp, x: Float32Array, out: Float32Array, outer: number, size: number, inner: number): void;

  /** Index of the max (or min) along the middle axis of [outer, size, inner]; first index wins ties. */
  argReduce(op: 'max' | 'min', x: Float32Array, out: Int32Array, outer: number, size: number, inner: number): void;

  /** Softmax (or log-softmax) along the middle axis of [outer, size, inner]. */
  softmax(x: Float32Array, y: Float32Array, outer: number, size: number, inner: number, log: boolean): void;

  /** out = x permuted: out axis i is x axis perm[i]. */
  transpose(x: Float32Array, shape: readonly number[], perm: readonly number[], out: Float32Array): void;

  /** out = x[begin : begin+size] along every axis. */
  slice(x: Float32Array, shape: readonly number[], begin: readonly number[], size: readonly number[], out: Float32Array): void;

  /** out = x padded with `value`: padBefore/padAfter per axis. */
  pad(x: Float32Array, shape: readonly number[], padBefore: readonly number[], padAfter: readonly number[], value: number, out: Float32Array): void;

  /** Concatenates inputs viewed as [outer, sizes[i], inner] along the middle axis. */
  concat(inputs: readonly Float32Array[], sizes: readonly number[], outer: number, inner: number, out: Float32Array): void;

  /** out[o, j, r] = x[o, indices[j], r] for x viewed as [outer, size, inner]; indices are validated in [0, size). */
  gather(x: Float32Array, indices: Int32Array, out: Float32Array, outer: number, size: number, inner: number): void;

  /** dx[o, indices[j], r] += dy[o, j, r] (dx is accumulated into, not cleared). */
  scatterAdd(dy: Float32Array, indices: Int32Array, dx: Float32Array, outer: number, size: number, inner: number): void;

  /** out[i, indices[i]] = onValue, elsewhere offValue; out has length indices.length * depth. */
  oneHot(indices: Int32Array, depth: number, onValue: number, offValue: number, out: Float32Array): void;

  conv2d(x: Float32Array, filter: Float32Array, y: Float32Array, info: Conv2DInfo): void;
  /** dx from dy and the filter (dx is overwritten). */
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, info: Conv2DInfo): void;
  /** dFilter from x and dy (dFilter is overwritten). */
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dFilter: Float32Array, info: Conv2DInfo): void;

  /** Max pooling; writes into argmax, per output cell, the flat index into x of the chosen input. */
  maxPool2d(x: Float32Array, y: Float32Array, argmax: Int32Array, info: Pool2DInfo): void;
  /** dx[argmax[i]] += dy[i] after clearing dx. */
  maxPool2dBackprop(dy: Float32Array, argmax: Int32Array, dx: Float32Array, info: Pool2DInfo): void;
  avgPool2d(x: Float32Array, y: Float32Array, info: Pool2DInfo): void;
  avgPool2dBackprop(dy: Float32Array, dx: Float32Array, info: Pool2DInfo): void;

  /** In place: param -= update; velocity (momentum buffer) may be null when momentum is 0. */
  sgdUpdate(param: Float32Array, grad: Float32Array, velocity: Float32Array | null, config: SgdConfig): void;
  /** In place Adam/AdamW step with first and second moments m and v. */
  adamUpdate(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, config: AdamConfig): void;
  /** In place RMSprop step; mom is null when momentum is 0, meanGrad is null unless centered. */
  rmspropUpdate(param: Float32Array, grad: Float32Array, meanSquare: Float32Array, mom: Float32Array | null, meanGrad: Float32Array | null, config: RmspropConfig): void;

  /** Optional kernels: when absent, ops use a composite of the required kernels. */
  optional?: OptionalKernels;
}

/**
 * Kernels a backend may provide for speed. Each has a composite fallback in
 * @axon/tensor built from required kernels, so leaving one out never changes
 * results. (The fused recurrent kernels join this list with @axon/recurrent.)
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface OptionalKernels {}
