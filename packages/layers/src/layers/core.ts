import { greaterEqual, matmul, mul, randomUniform, reshape, tensor, type DType, type Tensor, type Variable } from '@axon/tensor';
import { serializeActivation, type Activation, type ActivationIdentifier } from '../activations.js';
import { seededRng, serializeInitializer, type Initializer } from '../initializers.js';
import { Layer, registerLayer, uniqueLayerName, type CallKwargs, type LayerArgs } from '../layer.js';
import { serializeRegularizer, type Regularizer } from '../regularizers.js';
import { checkShapeArg, formatShape, shapeSize, singleShape, type Shape } from '../shape.js';
import { checkOptions } from '../options.js';
import { type LayerNode, SymbolicTensor } from '../symbolic.js';
import {
  KERNEL_BIAS_OPTIONS,
  activationOption,
  biasAndActivation,
  channelsLastOnly,
  kernelBiasOptions,
  oneTensor,
  positiveInteger,
  seedOption,
  type KernelBiasArgs,
} from './util.js';

// ---- InputLayer ------------------------------------------------------------------------

/** Arguments of {@link InputLayer}: exactly one of inputShape and batchInputShape is required. */
export interface InputLayerArgs {
  /** The input shape without the batch dimension, e.g. [28, 28, 1]; null entries are any size. */
  inputShape?: Shape;
  /** The input shape with the batch dimension (null = any), e.g. [null, 784]. */
  batchInputShape?: Shape;
  /** Batch size to pair with inputShape (default: any). */
  batchSize?: number;
  /** The input's dtype (default 'float32'; 'int32' for Embedding indices). */
  dtype?: DType;
  /** Not supported: sparse inputs are rejected. */
  sparse?: boolean;
  /** Layer name; default `input_<n>`. */
  name?: string;
}

/**
 * Declares a model's input shape: the first layer of a Sequential. It passes
 * its input through after checking the shape (as Keras' InputLayer).
 */
export class InputLayer extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['sparse'];
  static override className = 'InputLayer';
  /** Always false (sparse inputs are not supported). */
  readonly sparse: boolean;

  /** @throws Error if neither or both of inputShape and batchInputShape are given, or sparse is set. */
  constructor(args: InputLayerArgs) {
    const name = args?.name ?? uniqueLayerName('input');
    if (!args || (args.inputShape == null && args.batchInputShape == null)) {
      throw new Error(`Layer ${name}: InputLayer needs inputShape or batchInputShape, got ${JSON.stringify(args ?? {})}`);
    }
    if (args.inputShape != null && args.batchInputShape != null) {
      throw new Error(`Layer ${name}: give either inputShape or batchInputShape, not both`);
    }
    super({ ...args, name });
    if (args.sparse) throw new Error(`Layer ${name}: sparse inputs are not supported`);
    this.sparse = false;
    this.built = true;
  }

  override computeOutputShape(): Shape {
    return [...this.batchInputShape!];
  }

  override getConfig(): Record<string, unknown> {
    return { batchInputShape: [...this.batchInputShape!], dtype: this.dtype, sparse: this.sparse, name: this.name };
  }
}
registerLayer(InputLayer);

/**
 * An InputLayer, for the start of a Sequential model (Keras `InputLayer`, tfjs `tf.layers.inputLayer`).
 *
 * @example
 * ```ts
 * const model = new Sequential({ layers: [inputLayer({ inputShape: [784] }), dense({ units: 10 })] });
 * ```
 */
export function inputLayer(args: InputLayerArgs): InputLayer {
  return new InputLayer(args);
}

/** Arguments of {@link input} (tfjs `InputConfig`, Keras `Input`). */
export interface InputConfig {
  /** The shape of one sample (without the batch dimension); null for a dimension of any size. */
  shape?: Shape;
  /** The shape including the batch dimension; takes the place of shape and batchSize. */
  batchShape?: Shape;
  /** A fixed batch size to pair with shape. */
  batchSize?: number;
  /** 'float32' (default) or 'int32' (token indices for an Embedding). */
  dtype?: DType;
  /** The input layer's name (default `input_<n>`). */
  name?: string;
}

/**
 * The functional API's starting point (Keras `Input`, tfjs `tf.input`): a symbolic tensor standing
 * for a model's input. Apply layers to it to describe a graph, then make a model of it with
 * `model({ inputs, outputs })` from @axon/models.
 *
 * @throws Error for an unknown option, or without shape or batchShape.
 *
 * @example
 * ```ts
 * const x = input({ shape: [28, 28, 1] });
 * const y = dense({ units: 10, activation: 'softmax' }).apply(flatten().apply(x)); // symbolic, [null, 10]
 * ```
 */
export function input(config: InputConfig): SymbolicTensor {
  checkOptions('input', config, ['shape', 'batchShape', 'batchSize', 'dtype', 'name']);
  if (!config || (config.shape == null && config.batchShape == null)) {
    throw new Error(`input: give shape (without the batch dimension) or batchShape, got ${JSON.stringify(config ?? {})}`);
  }
  const layer = new InputLayer({
    ...(config.batchShape ? { batchInputShape: config.batchShape } : { inputShape: config.shape!, batchSize: config.batchSize }),
    ...(config.dtype ? { dtype: config.dtype } : {}),
    ...(config.name ? { name: config.name } : {}),
  });
  return symbolicInputOf(layer);
}

/**
 * The symbolic tensor an InputLayer stands for (made once, on first use): how `input()` starts a
 * graph, and how a loaded functional model restarts one from its saved InputLayers.
 */
export function symbolicInputOf(layer: InputLayer): SymbolicTensor {
  const existing = layer.inboundNodes[0];
  if (existing) return existing.outputs[0]!;
  const outputs: SymbolicTensor[] = [];
  const node: LayerNode = { layer, inputs: [], inputsAsList: false, outputs, kwargs: {} };
  outputs.push(new SymbolicTensor([...layer.batchInputShape!], layer.dtype, node, 0, layer.name));
  layer.inboundNodes.push(node);
  return outputs[0]!;
}

// ---- Dense -------------------------------------------------------------------------------

/**
 * Arguments of {@link Dense} (Keras `Dense`): units, plus the activation, initializer and
 * regularizer options and the base layer options.
 */
export interface DenseArgs extends LayerArgs, KernelBiasArgs {
  /** Output size: the last dimension of the output (a positive integer). */
  units: number;
  /** Shortcut for inputShape: [inputDim]. */
  inputDim?: number;
}

/**
 * A fully connected layer (Keras `Dense`): y = activation(x · kernel + bias), over the last axis
 * of an input of any rank >= 2. Kernel [in, units], bias [units]; built on the first input.
 * Make one with {@link dense}.
 */
export class Dense extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [...KERNEL_BIAS_OPTIONS, 'units', 'inputDim'];
  static override className = 'Dense';
  /** Output size. */
  readonly units: number;
  /** The activation applied to the output (linear when none was given). */
  readonly activation: Activation;
  /** Whether the layer adds a bias. */
  readonly useBias: boolean;
  /** The kernel's initializer. */
  readonly kernelInitializer: Initializer;
  /** The bias's initializer. */
  readonly biasInitializer: Initializer;
  /** The kernel's regularizer, or null. */
  readonly kernelRegularizer: Regularizer | null;
  /** The bias's regularizer, or null. */
  readonly biasRegularizer: Regularizer | null;
  /** The weight [inputDim, units], `<name>/kernel`; null until built. */
  kernel: Variable | null = null;
  /** The bias [units], `<name>/bias`; null until built or without useBias. */
  bias: Variable | null = null;

  /** @throws Error if units is not a positive integer, an option is unknown, or a constraint is given. */
  constructor(args: DenseArgs) {
    const withInput =
      args?.inputDim != null && args.inputShape == null && args.batchInputShape == null ? { ...args, inputShape: [args.inputDim] } : args;
    super(withInput ?? {});
    this.units = positiveInteger(this.name, 'units', args?.units);
    ({
      activation: this.activation,
      useBias: this.useBias,
      kernelInitializer: this.kernelInitializer,
      biasInitializer: this.biasInitializer,
      kernelRegularizer: this.kernelRegularizer,
      biasRegularizer: this.biasRegularizer,
      activityRegularizer: this.activityRegularizer,
    } = kernelBiasOptions(this.name, args));
    this.inputSpec = [{ minNDim: 2 }];
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(this.name, inputShape);
    const inputDim = shape[shape.length - 1];
    if (shape.length < 2 || inputDim == null) {
      throw new Error(`Layer ${this.name}: expected an input of rank >= 2 with a known last dimension, got shape ${formatShape(shape)}`);
    }
    this.kernel = this.addWeight('kernel', [inputDim, this.units], this.kernelInitializer, this.kernelRegularizer);
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], this.biasInitializer, this.biasRegularizer);
    this.inputSpec = [{ minNDim: 2, axes: { [-1]: inputDim } }];
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    const inputDim = x.shape[x.rank - 1]!;
    const y =
      x.rank === 2
        ? matmul(x, this.kernel!)
        : reshape(matmul(reshape(x, [-1, inputDim]), this.kernel!), [...x.shape.slice(0, -1), this.units]);
    return biasAndActivation(y, this.bias, this.activation);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return [...shape.slice(0, -1), this.units];
  }

  override getConfig(): Record<string, unknown> {
    return {
      units: this.units,
      activation: serializeActivation(this.activation),
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
      kernelRegularizer: serializeRegularizer(this.kernelRegularizer),
      biasRegularizer: serializeRegularizer(this.biasRegularizer),
      activityRegularizer: serializeRegularizer(this.activityRegularizer),
      kernelConstraint: null,
      biasConstraint: null,
      ...super.getConfig(),
    };
  }
}
registerLayer(Dense);
/**
 * A {@link Dense} (fully connected) layer: y = activation(x · kernel + bias), Keras `layers.Dense`.
 *
 * @throws Error if units is not a positive integer, an option is unknown, or a constraint is given.
 *
 * @example
 * ```ts
 * import { dense, l2 } from '@axon/layers';
 * import { Sequential } from '@axon/models';
 *
 * const model = new Sequential({
 *   layers: [
 *     dense({ units: 64, activation: 'relu', inputShape: [784] }),
 *     dense({ units: 10, activation: 'softmax', kernelRegularizer: l2({ l2: 1e-4 }) }),
 *   ],
 * });
 * ```
 */
export const dense = (args: DenseArgs): Dense => new Dense(args);

// ---- Flatten ------------------------------------------------------------------------------

/** Arguments of {@link Flatten}. */
export interface FlattenArgs extends LayerArgs {
  /** Only channels-last is supported (Axon images are NHWC); anything else is rejected. */
  dataFormat?: 'channelsLast' | 'channels_last';
}

/** [batch, ...] → [batch, prod(...)]: Keras `Flatten`, e.g. between convolutions and Dense layers. */
export class Flatten extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['dataFormat'];
  static override className = 'Flatten';
  private readonly dataFormat: 'channelsLast' | null;

  constructor(args: FlattenArgs = {}) {
    super(args);
    this.dataFormat = args.dataFormat == null ? null : channelsLastOnly(this.name, args.dataFormat);
    this.inputSpec = [{ minNDim: 1 }];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    return reshape(x, [x.shape[0]!, x.shape.slice(1).reduce((a, b) => a * b, 1)]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return [shape[0] ?? null, shapeSize(shape.slice(1))];
  }

  override getConfig(): Record<string, unknown> {
    return { ...(this.dataFormat ? { dataFormat: this.dataFormat } : {}), ...super.getConfig() };
  }
}
registerLayer(Flatten);
/**
 * A {@link Flatten} layer: [batch, ...] → [batch, prod(...)].
 *
 * @example
 * ```ts
 * const model = new Sequential({
 *   layers: [conv2d({ filters: 8, kernelSize: 3, inputShape: [28, 28, 1] }), flatten(), dense({ units: 10 })],
 * });
 * ```
 */
export const flatten = (args: FlattenArgs = {}): Flatten => new Flatten(args);

// ---- Reshape ------------------------------------------------------------------------------

/** Arguments of {@link Reshape}. */
export interface ReshapeArgs extends LayerArgs {
  /** The per-sample output shape; one dimension may be -1 (inferred). */
  targetShape: number[];
}

/** [batch, ...] → [batch, ...targetShape]: Keras `Reshape`. */
export class Reshape extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['targetShape'];
  static override className = 'Reshape';
  /** The per-sample output shape (may hold one -1). */
  readonly targetShape: number[];

  /** @throws Error if targetShape is not positive integers with at most one -1. */
  constructor(args: ReshapeArgs) {
    super(args ?? {});
    const target = args?.targetShape;
    if (
      !Array.isArray(target) ||
      !target.every((d) => d === -1 || (Number.isInteger(d) && d > 0)) ||
      target.filter((d) => d === -1).length > 1
    ) {
      throw new Error(
        `Layer ${this.name}: targetShape must be an array of positive integers with at most one -1, got ${JSON.stringify(target)}`,
      );
    }
    this.targetShape = [...target];
  }

  /** The target shape with -1 resolved for a sample of `perSample` values (null when unknown). */
  private resolve(inputShape: readonly (number | null)[]): Shape {
    const perSample = shapeSize(inputShape.slice(1));
    const known = this.targetShape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const fail = (): never => {
      throw new Error(
        `Layer ${this.name}: cannot reshape an input of shape ${formatShape(inputShape)} (${perSample} values per sample) ` +
          `to target shape ${formatShape(this.targetShape)}`,
      );
    };
    if (perSample === null) return this.targetShape.map((d) => (d === -1 ? null : d));
    if (this.targetShape.includes(-1)) {
      if (perSample % known !== 0) fail();
      return this.targetShape.map((d) => (d === -1 ? perSample / known : d));
    }
    if (known !== perSample) fail();
    return [...this.targetShape];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    return reshape(x, [x.shape[0]!, ...(this.resolve(x.shape) as number[])]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return [shape[0] ?? null, ...this.resolve(shape)];
  }

  override getConfig(): Record<string, unknown> {
    return { targetShape: [...this.targetShape], ...super.getConfig() };
  }
}
registerLayer(Reshape);
/**
 * A {@link Reshape} layer, exported as `reshape` from `@axon/layers`.
 *
 * @throws Error if targetShape is not positive integers with at most one -1.
 *
 * @example
 * ```ts
 * reshape({ targetShape: [28, 28, 1], inputShape: [784] }); // [batch, 784] → [batch, 28, 28, 1]
 * ```
 */
export const reshapeLayer = (args: ReshapeArgs): Reshape => new Reshape(args);

// ---- Dropout ------------------------------------------------------------------------------

/** Arguments of {@link Dropout}. */
export interface DropoutArgs extends LayerArgs {
  /** Fraction of the inputs to drop, in [0, 1). */
  rate: number;
  /** Shape of the keep/drop mask (batch dim included), broadcast over the input; null entries take the input's size. */
  noiseShape?: (number | null)[] | null;
  /** Seed of the layer's own generator; without it the global (setSeed) generator is used. */
  seed?: number | null;
}

/**
 * Inverted dropout: in training (`training: true`) each element is zeroed with
 * probability `rate` and the survivors are scaled by 1/(1-rate); otherwise identity.
 */
export class Dropout extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['rate', 'noiseShape', 'seed'];
  static override className = 'Dropout';
  /** Fraction of the inputs dropped in training. */
  readonly rate: number;
  /** The mask's shape (see {@link DropoutArgs.noiseShape}), or null for the input's shape. */
  readonly noiseShape: (number | null)[] | null;
  /** The layer's own seed, or null to use the global generator. */
  readonly seed: number | null;
  private readonly rng: { uniform(): number } | null;

  /** @throws Error if rate is not a number in [0, 1) or noiseShape is invalid. */
  constructor(args: DropoutArgs) {
    super(args ?? {});
    const rate = args?.rate;
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
      throw new Error(`Layer ${this.name}: rate must be a number in [0, 1), got ${JSON.stringify(rate)}`);
    }
    this.rate = rate;
    this.noiseShape = args.noiseShape == null ? null : checkShapeArg(this.name, 'noiseShape', args.noiseShape);
    this.seed = seedOption(this.name, args.seed);
    this.rng = this.seed === null ? null : seededRng(this.seed);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs): Tensor {
    const x = oneTensor(this.name, inputs);
    if (kwargs.training !== true || this.rate === 0) return x;
    const shape = this.maskShape(x);
    const uniform = this.rng ? this.seededUniform(shape) : randomUniform(shape);
    const keep = greaterEqual(uniform, this.rate); // 1 with probability 1 - rate
    return mul(x, mul(keep, 1 / (1 - this.rate)));
  }

  /** The keep/drop mask's shape for input x (subclasses such as SpatialDropout1D override it). */
  protected maskShape(x: Tensor): number[] {
    if (!this.noiseShape) return [...x.shape];
    if (this.noiseShape.length !== x.rank) {
      throw new Error(
        `Layer ${this.name}: noiseShape ${formatShape(this.noiseShape)} must have the input's rank ${x.rank} (input shape ${formatShape(x.shape)})`,
      );
    }
    return this.noiseShape.map((d, i) => {
      const size = d ?? x.shape[i]!;
      if (size !== 1 && size !== x.shape[i]) {
        throw new Error(
          `Layer ${this.name}: noiseShape ${formatShape(this.noiseShape!)} does not broadcast to the input shape ${formatShape(x.shape)}`,
        );
      }
      return size;
    });
  }

  /** Uniform [0, 1) values of the given shape from the layer's own seeded generator. */
  protected seededUniform(shape: number[]): Tensor {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = this.rng!.uniform();
    return tensor(values, shape);
  }

  override getConfig(): Record<string, unknown> {
    return { rate: this.rate, noiseShape: this.noiseShape, seed: this.seed, ...super.getConfig() };
  }
}
registerLayer(Dropout);
/**
 * A {@link Dropout} layer (Keras `Dropout`): active only in training (fit), identity otherwise.
 *
 * @throws Error if rate is not a number in [0, 1).
 *
 * @example
 * ```ts
 * const model = new Sequential({
 *   layers: [dense({ units: 128, activation: 'relu', inputShape: [784] }), dropout({ rate: 0.5 }), dense({ units: 10 })],
 * });
 * ```
 */
export const dropout = (args: DropoutArgs): Dropout => new Dropout(args);

// ---- Activation ---------------------------------------------------------------------------

/** Arguments of {@link ActivationLayer}. */
export interface ActivationArgs extends LayerArgs {
  /** The activation to apply (required), by name or as an Activation object. */
  activation: ActivationIdentifier;
}

/** Applies an activation function: Keras `Activation` (serialized as className 'Activation'). */
export class ActivationLayer extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['activation'];
  static override className = 'Activation';
  /** The activation applied. */
  readonly activation: Activation;

  /** @throws Error if activation is missing or unknown. */
  constructor(args: ActivationArgs) {
    super(args ?? {});
    if (args?.activation == null) throw new Error(`Layer ${this.name}: activation is required, got ${JSON.stringify(args?.activation)}`);
    this.activation = activationOption(this.name, 'activation', args.activation);
    this.supportsMasking = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return this.activation.apply(oneTensor(this.name, inputs));
  }

  override getConfig(): Record<string, unknown> {
    return { activation: serializeActivation(this.activation), ...super.getConfig() };
  }
}
registerLayer(ActivationLayer);
/**
 * An {@link ActivationLayer}: applies an activation on its own, e.g. after BatchNormalization.
 *
 * @throws Error if activation is missing or unknown.
 *
 * @example
 * ```ts
 * [dense({ units: 64, useBias: false }), batchNormalization(), activation({ activation: 'relu' })];
 * ```
 */
export const activation = (args: ActivationArgs): ActivationLayer => new ActivationLayer(args);
