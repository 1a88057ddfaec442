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
 * results (up to float rounding).
 *
 * The fused recurrent kernels run a whole SimpleRNN / GRU / LSTM sequence in
 * one call: one GEMM for the input projection of every timestep, then per
 * step one GEMM h·U for all gates (two for a GRU without resetAfter) and the
 * gate math in a single pass. Backward walks the steps in reverse with one
 * GEMM per step for dh (two for GRU without resetAfter), then gets dx, dW and
 * dU from GEMMs over all timesteps at once. The op `lstmSequence` etc.
 * (ops/recurrent.ts) allocates every array; its composite path defines the
 * semantics.
 */
export interface OptionalKernels {
  /** LSTM (Keras gate order i, f, c, o; G = 4): c = f*c + i*act(zc), h = o*act(c), gates use recurrentActivation. */
  lstmForward?(arrays: RnnForwardArrays, info: RnnSequenceInfo): void;
  lstmBackward?(arrays: RnnBackwardArrays, info: RnnSequenceInfo): void;
  /**
   * GRU (Keras gate order z, r, h; G = 3), h = z*h' + (1-z)*hh where h' is the previous state.
   * resetAfter: hh = act(xh + r*(h'·Uh + bRec_h)), gates add h'·U + bRec (bias [2, 3U]: input row, recurrent row).
   * Otherwise: hh = act(xh + (r*h')·Uh), z and r add h'·Uz, h'·Ur (bias [3U], input side only).
   */
  gruForward?(arrays: RnnForwardArrays, info: RnnSequenceInfo): void;
  gruBackward?(arrays: RnnBackwardArrays, info: RnnSequenceInfo): void;
  /** SimpleRNN (G = 1): h = act(x·W + b + h'·U). */
  simpleRnnForward?(arrays: RnnForwardArrays, info: RnnSequenceInfo): void;
  simpleRnnBackward?(arrays: RnnBackwardArrays, info: RnnSequenceInfo): void;
}

/**
 * Activations the fused recurrent kernels compute. Each derivative is taken
 * from the activation's output y: tanh 1-y², sigmoid y(1-y), hardSigmoid
 * (clip(0.2x + 0.5, 0, 1), as Keras 2 and TensorFlow.js) 0.2 where 0 < y < 1,
 * relu y > 0, linear 1. Other activations take the composite path.
 */
export type RnnActivation = 'tanh' | 'sigmoid' | 'hardSigmoid' | 'relu' | 'linear';

/**
 * Geometry and options of a fused recurrent sequence: B = batch, T = timesteps,
 * I = inputSize, U = units, G = gates per unit (LSTM 4, GRU 3, SimpleRNN 1).
 *
 * Step s (0 <= s < T) processes time t(s) = goBackwards ? T-1-s : s. Outputs
 * and saved arrays are in step order (Keras returns a goBackwards sequence
 * reversed); x, dx and the mask are in time order.
 *
 * Masks follow Keras: where mask[b, t(s)] is 0 the states are carried over
 * unchanged and the step's output is the previous step's output (zeros before
 * the first step), or zeros when zeroOutputForMask is set. Without
 * returnSequences the output is the last step's output (with a mask, not
 * necessarily the final state).
 */
export interface RnnSequenceInfo {
  batch: number;
  timesteps: number;
  inputSize: number;
  units: number;
  goBackwards: boolean;
  returnSequences: boolean;
  /** Masked steps output zeros instead of the previous output (Keras sets it in Bidirectional with returnSequences). */
  zeroOutputForMask: boolean;
  /** SimpleRNN's activation; LSTM's cell and output activation; GRU's candidate activation. */
  activation: RnnActivation;
  /** LSTM and GRU gate activation (ignored by SimpleRNN). */
  recurrentActivation: RnnActivation;
  /** GRU only (ignored by the others): see OptionalKernels.gruForward. */
  resetAfter: boolean;
}

/**
 * Arrays of a fused forward pass. Inputs are read-only; outputs and saved
 * arrays are overwritten whole (the caller need not clear them). Arrays may
 * be views (subarrays) and never alias each other.
 */
export interface RnnForwardArrays {
  /** [B, T, I], time order. */
  x: Float32Array;
  /** [I, G*U], Keras layout: gate g of unit j is column g*U + j. */
  kernel: Float32Array;
  /** [U, G*U]. */
  recurrentKernel: Float32Array;
  /** [G*U], or [2, 3U] for a GRU with resetAfter; null = no bias. */
  bias: Float32Array | null;
  /** Initial hidden state [B, U]; null = zeros. */
  h0: Float32Array | null;
  /** LSTM initial cell state [B, U]; null = zeros (and always null for GRU and SimpleRNN). */
  c0: Float32Array | null;
  /** [B, T] of 0/1 in time order; null = every step taken. */
  mask: Float32Array | null;
  /** Out: [B, T, U] in step order with returnSequences, else [B, U]. */
  output: Float32Array;
  /** Out: final hidden state [B, U]. */
  hT: Float32Array;
  /** Out: LSTM final cell state [B, U] (null for GRU and SimpleRNN). */
  cT: Float32Array | null;
  /**
   * Saved for backward, [T+1, B, U]: slot 0 the initial hidden state, slot s+1
   * the hidden state after step s (masked steps repeat the previous slot).
   */
  hs: Float32Array;
  /** Saved, LSTM only (else null), [T+1, B, U]: the cell states, laid out like hs. */
  cs: Float32Array | null;
  /**
   * Saved, [T, B, G*U] in step order (null for SimpleRNN): the activated gates.
   * LSTM: i, f, act(zc), o. GRU: z, r, hh.
   */
  gates: Float32Array | null;
  /**
   * Saved, GRU only (else null), [T, B, U]: with resetAfter the recurrent
   * candidate term h'·Uh + bRec_h before the reset gate; without it r*h'.
   */
  aux: Float32Array | null;
}

/**
 * Arrays of a fused backward pass: the forward's inputs and saved arrays
 * (unchanged since the forward), the gradients flowing in, and the gradients
 * to compute. Each gradient out is overwritten whole; a null one is skipped.
 */
export interface RnnBackwardArrays {
  x: Float32Array;
  kernel: Float32Array;
  recurrentKernel: Float32Array;
  mask: Float32Array | null;
  hs: Float32Array;
  cs: Float32Array | null;
  gates: Float32Array | null;
  aux: Float32Array | null;
  /** Gradient of the output (shape of the forward's output); null = zero. */
  dOutput: Float32Array | null;
  /** Gradient of the final hidden state [B, U]; null = zero. */
  dhT: Float32Array | null;
  /** Gradient of the LSTM final cell state [B, U]; null = zero. */
  dcT: Float32Array | null;
  /** Out: [B, T, I]. */
  dx: Float32Array | null;
  /** Out: [I, G*U]. */
  dKernel: Float32Array | null;
  /** Out: [U, G*U]. */
  dRecurrentKernel: Float32Array | null;
  /** Out: shaped like the bias. */
  dBias: Float32Array | null;
  /** Out: [B, U]. */
  dh0: Float32Array | null;
  /** Out: LSTM [B, U]. */
  dc0: Float32Array | null;
}
