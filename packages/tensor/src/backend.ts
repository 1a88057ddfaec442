/**
 * The Backend contract (v2): devices own storage, backends declare the kernels
 * they implement, and the dispatcher (registry.ts) takes each kernel from the
 * highest-priority backend that has it.
 *
 * - A `Device` owns buffers: it allocates them, and moves values between them
 *   and the host (`write` = upload, `read` = download). The CPU backends share
 *   one host device (`cpuDevice`), whose buffers are the `Float32Array`s and
 *   `Int32Array`s their kernels read and write, zero copy.
 * - `Kernels<F, I>` is the kernel set over float buffers F and int32 buffers I.
 *   Kernels never allocate tensors and never see autograd; they read inputs and
 *   write into output buffers the caller allocated (from a pool: an output's
 *   previous contents are unspecified, so a kernel overwrites every element
 *   unless its comment says it accumulates). Arrays are row-major; images NHWC.
 * - A `Backend` is a device plus any subset of the kernels. Kernels a backend
 *   leaves out are taken from the next backend by priority; where that one
 *   computes on another device, the dispatcher moves the buffers there and
 *   back (`bridgeKernel`, driven by `KERNEL_ARGS`).
 *
 * On a host device every buffer argument may be a view (subarray) into a
 * larger buffer; kernels must honour `byteOffset`/`length`, never the
 * underlying buffer's size.
 */

/** Element type of a tensor: 32-bit float or 32-bit signed integer (indices, labels). */
export type DType = 'float32' | 'int32';
/** The host array of either dtype: `Float32Array` for float32, `Int32Array` for int32. */
export type TypedArray = Float32Array | Int32Array;

/**
 * The element-wise functions of {@link Kernels.unary}, one per unary op of the same name
 * (`leakyRelu`, `elu` and `clip` take {@link UnaryParams}; `step` is 1 where x > 0, else 0: relu's derivative).
 */
export type UnaryOp =
  | 'neg'
  | 'exp'
  | 'log'
  | 'sqrt'
  | 'rsqrt'
  | 'square'
  | 'abs'
  | 'sign'
  | 'reciprocal'
  | 'relu'
  | 'relu6'
  | 'leakyRelu'
  | 'elu'
  | 'selu'
  | 'gelu'
  | 'sigmoid'
  | 'tanh'
  | 'softplus'
  | 'softsign'
  | 'swish'
  | 'clip'
  | 'step'
  | 'floor'
  | 'round'
  | 'erf';

/**
 * The broadcasting element-wise functions of {@link Kernels.binary}. The comparisons
 * (`greater` ... `notEqual`) produce 1 or 0 as float32.
 */
export type BinaryOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'squaredDifference'
  | 'greater'
  | 'greaterEqual'
  | 'less'
  | 'lessEqual'
  | 'equal'
  | 'notEqual';

/** The reductions of {@link Kernels.reduce}. */
export type ReduceOp = 'sum' | 'mean' | 'max' | 'min' | 'prod';

/** Scalar parameters of a unary op: `alpha` (leakyRelu slope, elu alpha, clip low), `beta` (clip high). */
export interface UnaryParams {
  /** leakyRelu's negative slope, elu's alpha, or clip's lower bound. */
  alpha?: number;
  /** clip's upper bound. */
  beta?: number;
}

/**
 * Activations the fused bias-activation and recurrent kernels compute. Each
 * derivative is taken from the activation's output y: tanh 1-y², sigmoid
 * y(1-y), hardSigmoid (clip(0.2x + 0.5, 0, 1), as Keras 2 and TensorFlow.js)
 * 0.2 where 0 < y < 1, relu y > 0, linear 1.
 */
export type FusedActivation = 'tanh' | 'sigmoid' | 'hardSigmoid' | 'relu' | 'linear';
/** The activations the fused recurrent kernels compute (the same set). */
export type RnnActivation = FusedActivation;

/** Geometry of a 2-D convolution over NHWC input, HWIO filter, NHWC output. */
export interface Conv2DInfo {
  /** N: images in the batch. */
  batch: number;
  /** Input height in pixels. */
  inHeight: number;
  /** Input width in pixels. */
  inWidth: number;
  /** Input channels (the filter's I). */
  inChannels: number;
  /** Output height in pixels. */
  outHeight: number;
  /** Output width in pixels. */
  outWidth: number;
  /** Output channels (the filter's O). */
  outChannels: number;
  /** Filter height (the filter's H). */
  filterHeight: number;
  /** Filter width (the filter's W). */
  filterWidth: number;
  /** Step between output rows, in input rows. */
  strideHeight: number;
  /** Step between output columns, in input columns. */
  strideWidth: number;
  /** Spacing between filter taps along the height (1 = dense filter). */
  dilationHeight: number;
  /** Spacing between filter taps along the width (1 = dense filter). */
  dilationWidth: number;
  /** Zero padding added before the first row / column (TensorFlow's rule puts the odd pixel after). */
  padTop: number;
  /** Zero padding added before the first column (see padTop). */
  padLeft: number;
}

/** Geometry of 2-D pooling over NHWC input. Padded cells never count (TensorFlow semantics). */
export interface Pool2DInfo {
  /** N: images in the batch. */
  batch: number;
  /** Input height in pixels. */
  inHeight: number;
  /** Input width in pixels. */
  inWidth: number;
  /** Channels (pooling keeps them). */
  channels: number;
  /** Output height in pixels. */
  outHeight: number;
  /** Output width in pixels. */
  outWidth: number;
  /** Pooling window height. */
  filterHeight: number;
  /** Pooling window width. */
  filterWidth: number;
  /** Step between output rows, in input rows. */
  strideHeight: number;
  /** Step between output columns, in input columns. */
  strideWidth: number;
  /** Padding rows before the first row (padded cells never count). */
  padTop: number;
  /** Padding columns before the first column (padded cells never count). */
  padLeft: number;
}

/**
 * Hyperparameters of {@link Kernels.sgdUpdate} (Keras SGD): with momentum 0, p -= lr·g;
 * otherwise v = momentum·v - lr·g, then p += v (Nesterov: p += momentum·v - lr·g).
 */
export interface SgdConfig {
  /** Learning rate. */
  lr: number;
  /** Momentum factor in [0, 1); 0 disables the velocity buffer. */
  momentum: number;
  /** Nesterov momentum (only matters when momentum > 0). */
  nesterov: boolean;
}

/**
 * Hyperparameters of {@link Kernels.adamUpdate} (Keras Adam / AdamW): m and v are the
 * first and second moment estimates; p -= lr_t·m / (sqrt(v) + epsilon) with
 * lr_t = lr·sqrt(1 - beta2^step) / (1 - beta1^step), after the decoupled decay p -= lr·weightDecay·p.
 */
export interface AdamConfig {
  /** Learning rate. */
  lr: number;
  /** Decay rate of the first moment estimate (Keras default 0.9). */
  beta1: number;
  /** Decay rate of the second moment estimate (Keras default 0.999). */
  beta2: number;
  /** Added to sqrt(v) in the denominator, for numerical stability. */
  epsilon: number;
  /** 1-based step count, for bias correction. */
  step: number;
  /** Decoupled weight decay (AdamW); 0 for Adam. */
  weightDecay: number;
}

/**
 * Hyperparameters of {@link Kernels.rmspropUpdate} (Keras RMSprop): ms = rho·ms + (1 - rho)·g²,
 * step = lr·g / sqrt(ms - mg² + epsilon) (mg², the squared mean gradient, only when centered),
 * then p -= step, or with momentum mom = momentum·mom + step and p -= mom.
 */
export interface RmspropConfig {
  /** Learning rate. */
  lr: number;
  /** Decay rate of the moving averages. */
  rho: number;
  /** Momentum factor; 0 disables the momentum buffer. */
  momentum: number;
  /** Added under the square root, for numerical stability. */
  epsilon: number;
  /** Normalise by the estimated variance (ms - mg²) instead of the raw second moment. */
  centered: boolean;
}

/**
 * The kernel set over float buffers F and int32 buffers I. Shapes are
 * `number[]`; a batch-broadcast GEMM passes a batch stride of 0 for the
 * operand that every batch entry shares.
 */
export interface Kernels<F = Float32Array, I = Int32Array> {
  /** Every element of out (float or int32) = value. */
  fill(out: F | I, value: number): void;
  /**
   * y = x converted from xType to yType (equal lengths): float to int32 truncates toward zero
   * (as JavaScript's `Int32Array.from(Math.trunc)`); equal types copy. A float whose truncation is
   * outside the int32 range (NaN and ±Infinity included) throws an Error whose message starts
   * `cast:` and names the value and its index, rather than wrapping silently.
   */
  cast(x: F | I, xType: DType, y: F | I, yType: DType): void;

  /**
   * C[i] = alpha * op(A[i]) · op(B[i]) + beta * C[i] for i < batch, with op(A) m×k and op(B) k×n.
   * A[i] starts at i*strideA (elements), B[i] at i*strideB, C[i] at i*m*n. beta = 0 ignores C's
   * previous contents (NaN included). With transA, A is stored k×m; with transB, B is stored n×k.
   */
  gemm(
    a: F,
    b: F,
    c: F,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    alpha: number,
    beta: number,
    strideA: number,
    strideB: number,
  ): void;

  /** y = op(x) element-wise; x and y have equal length (may be the same buffer). */
  unary(op: UnaryOp, x: F, y: F, params?: UnaryParams): void;

  /**
   * out = a op b with NumPy broadcasting: a and b each broadcast to outShape (which may be larger
   * than their common broadcast: the result then repeats along the extra axes).
   */
  binary(op: BinaryOp, a: F, aShape: readonly number[], b: F, bShape: readonly number[], out: F, outShape: readonly number[]): void;

  /** out = cond != 0 ? a : b, all broadcast to outShape. */
  select(
    cond: F,
    condShape: readonly number[],
    a: F,
    aShape: readonly number[],
    b: F,
    bShape: readonly number[],
    out: F,
    outShape: readonly number[],
  ): void;

  /** Reduces the middle axis of x viewed as [outer, size, inner] into out of length outer*inner. */
  reduce(op: ReduceOp, x: F, out: F, outer: number, size: number, inner: number): void;

  /** Index of the max (or min) along the middle axis of [outer, size, inner]; first index wins ties. */
  argReduce(op: 'max' | 'min', x: F, out: I, outer: number, size: number, inner: number): void;

  /** Softmax (or log-softmax) along the middle axis of [outer, size, inner]. */
  softmax(x: F, y: F, outer: number, size: number, inner: number, log: boolean): void;

  /** out = x permuted: out axis i is x axis perm[i]. */
  transpose(x: F, shape: readonly number[], perm: readonly number[], out: F): void;

  /** out = x[begin : begin+size] along every axis. */
  slice(x: F, shape: readonly number[], begin: readonly number[], size: readonly number[], out: F): void;

  /** out = x padded with `value`: padBefore/padAfter per axis. */
  pad(x: F, shape: readonly number[], padBefore: readonly number[], padAfter: readonly number[], value: number, out: F): void;

  /** Concatenates inputs (any number of them) viewed as [outer, sizes[i], inner] along the middle axis. */
  concat(inputs: readonly F[], sizes: readonly number[], outer: number, inner: number, out: F): void;

  /** out[o, j, r] = x[o, indices[j], r] for x viewed as [outer, size, inner]; indices are validated in [0, size). */
  gather(x: F, indices: I, out: F, outer: number, size: number, inner: number): void;

  /** dx[o, indices[j], r] += dy[o, j, r] (dx is accumulated into, not cleared). */
  scatterAdd(dy: F, indices: I, dx: F, outer: number, size: number, inner: number): void;

  /** out[i, indices[i]] = onValue, elsewhere offValue; out has length indices.length * depth. */
  oneHot(indices: I, depth: number, onValue: number, offValue: number, out: F): void;

  /** y = x ⊛ filter: x [N, H, W, I], filter [fh, fw, I, O], y [N, outH, outW, O] (y is overwritten). */
  conv2d(x: F, filter: F, y: F, info: Conv2DInfo): void;
  /** dx from dy and the filter (dx is overwritten). */
  conv2dBackpropInput(dy: F, filter: F, dx: F, info: Conv2DInfo): void;
  /** dFilter from x and dy (dFilter is overwritten). */
  conv2dBackpropFilter(x: F, dy: F, dFilter: F, info: Conv2DInfo): void;

  /** Max pooling; writes into argmax, per output cell, the flat index into x of the chosen input. */
  maxPool2d(x: F, y: F, argmax: I, info: Pool2DInfo): void;
  /** dx[argmax[i]] += dy[i] after clearing dx. */
  maxPool2dBackprop(dy: F, argmax: I, dx: F, info: Pool2DInfo): void;
  /** Average pooling; each window averages only its cells inside the input (padding never counts). */
  avgPool2d(x: F, y: F, info: Pool2DInfo): void;
  /** dx from dy for avgPool2d: each dy cell is spread evenly over the window's cells inside the input (dx is overwritten). */
  avgPool2dBackprop(dy: F, dx: F, info: Pool2DInfo): void;

  /**
   * y = act(x + bias) with x viewed as [rows, channels] and bias [channels] (null = no bias):
   * the epilogue of Dense and Conv2D. x and y may be the same buffer.
   */
  biasActivation(x: F, bias: F | null, y: F, rows: number, channels: number, activation: FusedActivation): void;
  /**
   * The backward of biasActivation, from its output y: dx = dy * act'(y) (dx may be dy's buffer),
   * and dBias[c] = Σ_rows dx[r, c] when dBias is not null.
   */
  biasActivationGrad(y: F, dy: F, dx: F, dBias: F | null, rows: number, channels: number, activation: FusedActivation): void;

  /** In place: param -= update; velocity (momentum buffer) may be null when momentum is 0. */
  sgdUpdate(param: F, grad: F, velocity: F | null, config: SgdConfig): void;
  /** In place Adam/AdamW step with first and second moments m and v. */
  adamUpdate(param: F, grad: F, m: F, v: F, config: AdamConfig): void;
  /** In place RMSprop step; mom is null when momentum is 0, meanGrad is null unless centered. */
  rmspropUpdate(param: F, grad: F, meanSquare: F, mom: F | null, meanGrad: F | null, config: RmspropConfig): void;

  /**
   * Fused whole-sequence recurrent kernels: one GEMM for the input projection
   * of every timestep, then per step one GEMM h·U for all gates (two for a GRU
   * without resetAfter) and the gate math in a single pass. Backward walks the
   * steps in reverse with one GEMM per step for dh, then gets dx, dW and dU
   * from GEMMs over all timesteps at once. The op `lstmSequence` etc.
   * (ops/recurrent.ts) has a composite path of ordinary ops that defines the
   * semantics, taken when no backend has these kernels.
   *
   * LSTM (Keras gate order i, f, c, o; G = 4): c = f*c + i*act(zc), h = o*act(c), gates use recurrentActivation.
   */
  lstmForward(arrays: RnnForwardArrays<F>, info: RnnSequenceInfo): void;
  /** The backward of lstmForward, from its saved buffers. */
  lstmBackward(arrays: RnnBackwardArrays<F>, info: RnnSequenceInfo): void;
  /**
   * GRU (Keras gate order z, r, h; G = 3), h = z*h' + (1-z)*hh where h' is the previous state.
   * resetAfter: hh = act(xh + r*(h'·Uh + bRec_h)), gates add h'·U + bRec (bias [2, 3U]: input row, recurrent row).
   * Otherwise: hh = act(xh + (r*h')·Uh), z and r add h'·Uz, h'·Ur (bias [3U], input side only).
   */
  gruForward(arrays: RnnForwardArrays<F>, info: RnnSequenceInfo): void;
  /** The backward of gruForward, from its saved buffers. */
  gruBackward(arrays: RnnBackwardArrays<F>, info: RnnSequenceInfo): void;
  /** SimpleRNN (G = 1): h = act(x·W + b + h'·U). */
  simpleRnnForward(arrays: RnnForwardArrays<F>, info: RnnSequenceInfo): void;
  /** The backward of simpleRnnForward, from its saved buffers. */
  simpleRnnBackward(arrays: RnnBackwardArrays<F>, info: RnnSequenceInfo): void;
}

/** The name of a kernel: a key of {@link Kernels} (`'gemm'`, `'conv2d'`, ...). */
export type KernelName = keyof Kernels;

/**
 * Memory a backend computes on. Backends whose `device` is the same object
 * share storage: a tensor made by one is read by the other's kernels as is.
 */
export interface Device<B = unknown> {
  /** The device's name, e.g. `'cpu'` for {@link cpuDevice}. */
  readonly name: string;
  /**
   * A host device's buffers are the Float32Array / Int32Array themselves: `read`
   * returns the buffer without copying and kernels may receive subarray views.
   */
  readonly host: boolean;
  /** A buffer of `length` elements; its contents are unspecified. */
  alloc(length: number, dtype: DType): B;
  /** Upload: copies `values` (same length and dtype) into the buffer. */
  write(buffer: B, values: TypedArray): void;
  /** Download: the buffer's values on the host (the buffer itself on a host device). */
  read(buffer: B): TypedArray;
  /** The element count and dtype of a buffer. */
  describe(buffer: B): {
    /** Element count. */
    length: number;
    /** Element type. */
    dtype: DType;
  };
  /** Returns a buffer's memory for good (a buffer the pool does not keep); optional. */
  free?(buffer: B): void;
}

/**
 * A device plus the kernels a backend implements (any subset). `F` and `I` are
 * its float and int32 buffer types (Float32Array and Int32Array on the host).
 */
export type Backend<F = Float32Array, I = Int32Array> = Partial<Kernels<F, I>> & {
  /** The name the backend is registered under (`'js'`, `'native'`, ...). */
  readonly name: string;
  /** The device whose buffers the kernels read and write. */
  readonly device: Device<F | I>;
};

/**
 * A backend of any device's buffer types: what the registry stores and test kits take, where the
 * buffer types are the backend's own business (kernel parameters make Backend<F, I> invariant in F and I).
 */
// biome-ignore lint/suspicious/noExplicitAny: the buffer types are opaque to code that only passes them back to the same backend
export type AnyBackend = Backend<any, any>;

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
  /** B: sequences in the batch. */
  batch: number;
  /** T: steps per sequence. */
  timesteps: number;
  /** I: features per step. */
  inputSize: number;
  /** U: hidden units. */
  units: number;
  /** Process the sequence from the last step to the first. */
  goBackwards: boolean;
  /** Output every step's hidden state ([B, T, U]) instead of the last one ([B, U]). */
  returnSequences: boolean;
  /** Masked steps output zeros instead of the previous output (Keras sets it in Bidirectional with returnSequences). */
  zeroOutputForMask: boolean;
  /** SimpleRNN's activation; LSTM's cell and output activation; GRU's candidate activation. */
  activation: FusedActivation;
  /** LSTM and GRU gate activation (ignored by SimpleRNN). */
  recurrentActivation: FusedActivation;
  /** GRU only (ignored by the others): see Kernels.gruForward. */
  resetAfter: boolean;
}

/**
 * Buffers of a fused forward pass. Inputs are read-only; outputs and saved
 * buffers are overwritten whole (the caller need not clear them). Buffers may
 * be views (subarrays) and never alias each other.
 */
export interface RnnForwardArrays<F = Float32Array> {
  /** [B, T, I], time order. */
  x: F;
  /** [I, G*U], Keras layout: gate g of unit j is column g*U + j. */
  kernel: F;
  /** [U, G*U]. */
  recurrentKernel: F;
  /** [G*U], or [2, 3U] for a GRU with resetAfter; null = no bias. */
  bias: F | null;
  /** Initial hidden state [B, U]; null = zeros. */
  h0: F | null;
  /** LSTM initial cell state [B, U]; null = zeros (and always null for GRU and SimpleRNN). */
  c0: F | null;
  /** [B, T] of 0/1 in time order; null = every step taken. */
  mask: F | null;
  /** Out: [B, T, U] in step order with returnSequences, else [B, U]. */
  output: F;
  /** Out: final hidden state [B, U]. */
  hT: F;
  /** Out: LSTM final cell state [B, U] (null for GRU and SimpleRNN). */
  cT: F | null;
  /**
   * Saved for backward, [T+1, B, U]: slot 0 the initial hidden state, slot s+1
   * the hidden state after step s (masked steps repeat the previous slot).
   */
  hs: F;
  /** Saved, LSTM only (else null), [T+1, B, U]: the cell states, laid out like hs. */
  cs: F | null;
  /**
   * Saved, [T, B, G*U] in step order (null for SimpleRNN): the activated gates.
   * LSTM: i, f, act(zc), o. GRU: z, r, hh.
   */
  gates: F | null;
  /**
   * Saved, GRU only (else null), [T, B, U]: with resetAfter the recurrent
   * candidate term h'·Uh + bRec_h before the reset gate; without it r*h'.
   */
  aux: F | null;
}

/**
 * Buffers of a fused backward pass: the forward's inputs and saved buffers
 * (unchanged since the forward), the gradients flowing in, and the gradients
 * to compute. Each gradient out is overwritten whole; a null one is skipped.
 */
export interface RnnBackwardArrays<F = Float32Array> {
  /** The forward's input [B, T, I], time order. */
  x: F;
  /** The forward's kernel [I, G*U]. */
  kernel: F;
  /** The forward's recurrent kernel [U, G*U]. */
  recurrentKernel: F;
  /** The forward's mask [B, T], or null. */
  mask: F | null;
  /** The forward's saved hidden states (see {@link RnnForwardArrays.hs}). */
  hs: F;
  /** The forward's saved cell states (LSTM; else null). */
  cs: F | null;
  /** The forward's saved activated gates (null for SimpleRNN). */
  gates: F | null;
  /** The forward's saved GRU candidate term (GRU; else null). */
  aux: F | null;
  /** Gradient of the output (shape of the forward's output); null = zero. */
  dOutput: F | null;
  /** Gradient of the final hidden state [B, U]; null = zero. */
  dhT: F | null;
  /** Gradient of the LSTM final cell state [B, U]; null = zero. */
  dcT: F | null;
  /** Out: [B, T, I]. */
  dx: F | null;
  /** Out: [I, G*U]. */
  dKernel: F | null;
  /** Out: [U, G*U]. */
  dRecurrentKernel: F | null;
  /** Out: shaped like the bias. */
  dBias: F | null;
  /** Out: [B, U]. */
  dh0: F | null;
  /** Out: LSTM [B, U]. */
  dc0: F | null;
}

// ---- argument roles, for moving buffers between devices ------------------------------------

/**
 * The role of each positional argument of a kernel: '' (not a buffer), 'in'
 * (read), 'out' (written whole), 'inout' (read and written), 'ins' (a list of
 * inputs), or an object whose fields are buffers with those roles. A null
 * buffer argument is passed through. Used to run a kernel on another device
 * (see bridgeKernel) and by the testing kits; every kernel is listed.
 */
export type ArgRole = '' | 'in' | 'out' | 'inout' | 'ins' | { readonly [field: string]: 'in' | 'out' };
/** An argument's role, or a function of the call's arguments giving it. */
export type ArgSpec = ArgRole | ((args: readonly unknown[]) => ArgRole);

const RNN_FORWARD: { [K in keyof RnnForwardArrays]: 'in' | 'out' } = {
  x: 'in',
  kernel: 'in',
  recurrentKernel: 'in',
  bias: 'in',
  h0: 'in',
  c0: 'in',
  mask: 'in',
  output: 'out',
  hT: 'out',
  cT: 'out',
  hs: 'out',
  cs: 'out',
  gates: 'out',
  aux: 'out',
};
const RNN_BACKWARD: { [K in keyof RnnBackwardArrays]: 'in' | 'out' } = {
  x: 'in',
  kernel: 'in',
  recurrentKernel: 'in',
  mask: 'in',
  hs: 'in',
  cs: 'in',
  gates: 'in',
  aux: 'in',
  dOutput: 'in',
  dhT: 'in',
  dcT: 'in',
  dx: 'out',
  dKernel: 'out',
  dRecurrentKernel: 'out',
  dBias: 'out',
  dh0: 'out',
  dc0: 'out',
};
const CONV: readonly ArgSpec[] = ['in', 'in', 'out', ''];

/**
 * The {@link ArgSpec} of every positional argument of every kernel, used to move a kernel's
 * buffers to the device that runs it (the dispatcher's `bridgeKernel`) and by the testing kits.
 */
export const KERNEL_ARGS: { readonly [K in KernelName]: readonly ArgSpec[] } = {
  fill: ['out', ''],
  cast: ['in', '', 'out', ''],
  // C is read only when beta is not 0.
  gemm: ['in', 'in', (args) => (args[10] === 0 ? 'out' : 'inout'), '', '', '', '', '', '', '', '', '', ''],
  unary: ['', 'in', 'out', ''],
  binary: ['', 'in', '', 'in', '', 'out', ''],
  select: ['in', '', 'in', '', 'in', '', 'out', ''],
  reduce: ['', 'in', 'out', '', '', ''],
  argReduce: ['', 'in', 'out', '', '', ''],
  softmax: ['in', 'out', '', '', '', ''],
  transpose: ['in', '', '', 'out'],
  slice: ['in', '', '', '', 'out'],
  pad: ['in', '', '', '', '', 'out'],
  concat: ['ins', '', '', '', 'out'],
  gather: ['in', 'in', 'out', '', '', ''],
  scatterAdd: ['in', 'in', 'inout', '', '', ''],
  oneHot: ['in', '', '', '', 'out'],
  conv2d: CONV,
  conv2dBackpropInput: CONV,
  conv2dBackpropFilter: CONV,
  maxPool2d: ['in', 'out', 'out', ''],
  maxPool2dBackprop: ['in', 'in', 'out', ''],
  avgPool2d: ['in', 'out', ''],
  avgPool2dBackprop: ['in', 'out', ''],
  biasActivation: ['in', 'in', 'out', '', '', ''],
  biasActivationGrad: ['in', 'in', 'out', 'out', '', '', ''],
  sgdUpdate: ['inout', 'in', 'inout', ''],
  adamUpdate: ['inout', 'in', 'inout', 'inout', ''],
  rmspropUpdate: ['inout', 'in', 'inout', 'inout', 'inout', ''],
  lstmForward: [RNN_FORWARD, ''],
  lstmBackward: [RNN_BACKWARD, ''],
  gruForward: [RNN_FORWARD, ''],
  gruBackward: [RNN_BACKWARD, ''],
  simpleRnnForward: [RNN_FORWARD, ''],
  simpleRnnBackward: [RNN_BACKWARD, ''],
};

/** Every kernel name, in the order of the interface. */
export const KERNEL_NAMES = Object.keys(KERNEL_ARGS) as KernelName[];

/**
 * Kernels an op can do without: when no registered backend has them, the op
 * computes the same values from other kernels (its composite path).
 */
export const COMPOSABLE_KERNELS: ReadonlySet<KernelName> = new Set<KernelName>([
  'lstmForward',
  'lstmBackward',
  'gruForward',
  'gruBackward',
  'simpleRnnForward',
  'simpleRnnBackward',
  'biasActivation',
  'biasActivationGrad',
]);

/** A backend on host memory that implements every kernel (what kernels-js provides). */
export type CompleteHostBackend = Kernels & {
  /** The name the backend is registered under. */
  readonly name: string;
  /** A host device (buffers are the typed arrays themselves). */
  readonly device: Device<TypedArray>;
};
