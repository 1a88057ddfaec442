/**
 * The Layer base class, after TensorFlow.js layers (tfjs-layers' engine/topology.ts)
 * and Keras: lazy build from the first input's shape, named weights, config
 * round-trips through a class registry. Layers compose @axon/tensor ops only.
 */
import { Tensor, Variable, add, clone, keep, noGrad, scalar, type DType } from '@axon/tensor';
import { getInitializer, type InitializerIdentifier } from './initializers.js';
import { getRegularizer, type Regularizer, type RegularizerIdentifier } from './regularizers.js';
import { camelCaseKeys, isSerializedObject, serializedClassName, toSnakeCase, type SerializedObject } from './serialization.js';
import { checkOptions } from './options.js';
import { bool, positiveInteger } from './layers/util.js';
import { checkShapeArg, formatShape, shapeCompatible, type Shape } from './shape.js';
import { type LayerNode, SymbolicTensor, isSymbolic } from './symbolic.js';

/** Arguments every layer accepts (Keras' base layer keyword arguments); each layer's own Args extend them. */
export interface LayerArgs {
  /** Unique name; defaults to the snake_case class name plus a per-class counter (`dense_1`, `dense_2`, ...). */
  name?: string;
  /** Input shape without the batch dimension; only meaningful for a model's first layer. */
  inputShape?: Shape;
  /** Input shape including the batch dimension (null = any); takes precedence over inputShape. */
  batchInputShape?: Shape;
  /** Batch size to pair with inputShape. */
  batchSize?: number;
  /** Whether `fit` updates this layer's weights (default true). */
  trainable?: boolean;
  /** The layer's dtype, 'float32' (default) or 'int32'; recorded in the config. Weights are always float32. */
  dtype?: DType;
  /** Initial weight values, set right after the first build (Keras order). */
  weights?: Tensor[];
}

/** The options every layer takes (LayerArgs). */
export const LAYER_OPTIONS: readonly string[] = ['name', 'inputShape', 'batchInputShape', 'batchSize', 'trainable', 'dtype', 'weights'];

/** Marks constructor arguments that come from a saved config (not checked for unknown options). */
const FROM_CONFIG = Symbol('axon.fromConfig');

/** Whether constructor arguments come from a saved config (fromConfig), whose keys are not checked. */
export function isFromConfig(args: object | null | undefined): boolean {
  return (args as { [FROM_CONFIG]?: boolean } | null | undefined)?.[FROM_CONFIG] === true;
}

/** Keyword arguments of `call` / `apply`. Recurrent layers add their own (initialState, ...). */
export interface CallKwargs {
  /** True while fitting: Dropout drops, BatchNormalization uses batch statistics. */
  training?: boolean;
  /** The input's mask (e.g. from Embedding with maskZero or Masking): [batch, timesteps] of 0/1; null = none. */
  mask?: Tensor | null;
  /** Layer-specific keyword arguments. */
  [key: string]: unknown;
}

/** What a layer requires of an input, checked by `apply` (messages name the layer). */
export interface InputSpec {
  /** Exact rank required. */
  ndim?: number;
  /** Minimum rank. */
  minNDim?: number;
  /** Maximum rank. */
  maxNDim?: number;
  /** Required sizes of particular axes (negative axes count from the end). */
  axes?: Record<number, number>;
  /** Full shape, null meaning any size. */
  shape?: Shape;
}

/** A layer class as seen by the registry. */
export interface LayerClass<T extends Layer = Layer> {
  /** Constructs the layer from its Args. */
  new (args: never): T;
  /** The serialized class name the registry keys it by ('Dense', 'LSTM', ...). */
  readonly className: string;
  /** Builds a layer from a getConfig() result (see {@link Layer.fromConfig}). */
  fromConfig(config: Record<string, unknown>): Layer;
}

const nameCounters = new Map<string, number>();

/** A fresh `<prefix>_<n>` (`dense_1`, `dense_2`, ...) as Keras numbers layers. */
export function uniqueLayerName(prefix: string): string {
  const n = (nameCounters.get(prefix) ?? 0) + 1;
  nameCounters.set(prefix, n);
  return `${prefix}_${n}`;
}

/** Restarts default layer names from `_1` (Keras' clear_session for names); for tests. */
export function resetLayerNames(): void {
  nameCounters.clear();
}

function toList<T>(x: T | T[]): T[] {
  return Array.isArray(x) ? x : [x];
}

interface RegularizedWeight {
  variable: Variable;
  regularizer: Regularizer;
}

/**
 * The base class of every layer, after Keras and TensorFlow.js: a layer builds its weights lazily
 * from the first input's shape, names them `<layer>/<weight>`, and round-trips through
 * getConfig() / fromConfig() and the class registry (so @axon/models can save and load it).
 *
 * Use a layer through a model (`new Sequential({ layers: [...] })`) or call {@link Layer.apply}
 * directly. To write one, override build (create weights with {@link Layer.addWeight}), call,
 * computeOutputShape and getConfig, set a static className, and pass the class to
 * {@link registerLayer}.
 *
 * @example
 * ```ts
 * import { Layer, registerLayer, type LayerArgs, type CallKwargs, type Shape } from '@axon/layers';
 * import { mul, type Tensor, type Variable } from '@axon/tensor';
 *
 * // Multiplies each feature by a learned scale.
 * class Scale extends Layer {
 *   static override className = 'Scale';
 *   scale!: Variable;
 *   constructor(args: LayerArgs = {}) {
 *     super(args);
 *   }
 *   override build(inputShape: Shape): void {
 *     this.scale = this.addWeight('scale', [inputShape[inputShape.length - 1]!], 'ones');
 *     this.built = true;
 *   }
 *   override call(inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor {
 *     return mul(inputs as Tensor, this.scale);
 *   }
 * }
 * registerLayer(Scale);
 * ```
 */
export abstract class Layer {
  /** The registered, serialized class name ('Dense', 'Conv2D', ...). Every subclass sets its own. */
  static className = 'Layer';

  /** The layer's unique name (see {@link LayerArgs.name}); prefixes its weights' names. */
  readonly name: string;
  /** Declared input shape including the batch dimension, or null when not given. */
  readonly batchInputShape: Shape | null;
  /** The layer's dtype (see {@link LayerArgs.dtype}). */
  readonly dtype: DType;
  /** Input requirements checked by apply(); subclasses set it (often in build). */
  inputSpec: InputSpec[] | null = null;
  /** Whether the layer propagates a mask (computeMask passes it through). */
  supportsMasking = false;
  /** Penalty on the layer's outputs, added to the loss (Keras' activity_regularizer). */
  activityRegularizer: Regularizer | null = null;
  /** Whether build() has run (weights exist). */
  built = false;

  /** Backing field of {@link Layer.trainable}. */
  protected _trainable: boolean;
  private readonly _trainableWeights: Variable[] = [];
  private readonly _nonTrainableWeights: Variable[] = [];
  private readonly regularized: RegularizedWeight[] = [];
  private activityLosses: Tensor[] = [];
  private initialWeights: Tensor[] | null;

  /**
   * @throws Error if name is empty or not a string, an input shape is invalid, or dtype is not
   *   'float32' or 'int32'.
   */
  constructor(args: LayerArgs = {}) {
    // A class that lists its options (a static `optionNames`, declared on the class itself) refuses
    // others: `dense({ unit: 3 })` fails instead of being ignored. Configs read from a file
    // (fromConfig) are not checked: Keras and tfjs write keys a layer may legitimately not use.
    const own = Object.hasOwn(new.target, 'optionNames') ? (new.target as { optionNames?: readonly string[] }).optionNames : undefined;
    if (own && !isFromConfig(args)) {
      checkOptions(new.target.name === 'ActivationLayer' ? 'Activation' : new.target.name, args, [...LAYER_OPTIONS, ...own]);
    }
    if (args.name !== undefined && (typeof args.name !== 'string' || args.name === '')) {
      throw new Error(`${this.getClassName()}: name must be a non-empty string, got ${JSON.stringify(args.name)}`);
    }
    this.name = args.name ?? uniqueLayerName(toSnakeCase(this.getClassName()));
    this._trainable = bool(this.name, 'trainable', args.trainable, true);
    const batchSize =
      args.batchSize === undefined || args.batchSize === null ? null : positiveInteger(this.name, 'batchSize', args.batchSize);
    if (args.batchInputShape !== undefined && args.batchInputShape !== null) {
      this.batchInputShape = checkShapeArg(this.name, 'batchInputShape', args.batchInputShape);
    } else if (args.inputShape !== undefined && args.inputShape !== null) {
      const inputShape = checkShapeArg(this.name, 'inputShape', args.inputShape);
      this.batchInputShape = [batchSize, ...inputShape];
    } else {
      this.batchInputShape = null;
    }
    const dtype = args.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'int32') throw new Error(`Layer ${this.name}: dtype must be 'float32' or 'int32', got '${dtype}'`);
    this.dtype = dtype;
    this.initialWeights = args.weights ?? null;
  }

  /** The registered class name of this instance. */
  getClassName(): string {
    return (this.constructor as unknown as LayerClass).className;
  }

  // ---- the subclass contract -------------------------------------------------

  /** Creates the weights, given the input shape (batch dimension included, possibly null). */
  build(_inputShape: Shape | Shape[]): void {
    this.built = true;
  }

  /** The forward computation. The default is the identity. */
  call(inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor | Tensor[] {
    return inputs;
  }

  /** The output shape for an input shape (batch dimension included). The default is the identity. */
  computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  /** The output mask: the input mask when the layer supports masking, else null. */
  computeMask(_inputs: Tensor | Tensor[], mask?: Tensor | null): Tensor | null {
    if (!this.supportsMasking) return null;
    return mask ?? null;
  }

  private _stateful = false;

  /** Whether the layer keeps state between batches (stateful recurrent layers set it; a model is stateful when one of its layers is). */
  get stateful(): boolean {
    return this._stateful;
  }

  /** Recurrent layers set it from their `stateful` option. */
  set stateful(value: boolean) {
    this._stateful = value;
  }

  /** Implemented by stateful (recurrent) layers; a model resets those that define it. */
  resetStates?(): void;

  // ---- applying ----------------------------------------------------------------

  /**
   * Builds the layer once (a no-op when built) and then applies the `weights`
   * given at construction. Containers that build layers up front (Sequential)
   * call this rather than build(), so initial weights are never skipped.
   */
  ensureBuilt(inputShape: Shape | Shape[]): void {
    if (this.built) return;
    this.build(inputShape);
    this.built = true;
    if (this.initialWeights) {
      this.setWeights(this.initialWeights);
      this.initialWeights = null;
    }
  }

  /**
   * Runs the layer: checks the inputs against the declared input shape and the
   * input spec, builds on first use from the actual input shape, then calls `call`.
   * Keras' `layer(x)`.
   *
   * @throws Error (naming the layer) if an input is not a Tensor or does not match the declared
   *   shape or the input spec.
   *
   * @example
   * ```ts
   * const layer = dense({ units: 4, activation: 'relu' });
   * const y = layer.apply(randomNormal([2, 3])) as Tensor; // builds a [3, 4] kernel; y is [2, 4]
   * layer.apply(randomNormal([2, 3]), { training: true });
   * ```
   */
  apply(inputs: Tensor, kwargs?: CallKwargs): Tensor | Tensor[];
  apply(inputs: Tensor[], kwargs?: CallKwargs): Tensor | Tensor[];
  apply(inputs: Tensor | Tensor[], kwargs?: CallKwargs): Tensor | Tensor[];
  apply(inputs: SymbolicTensor | SymbolicTensor[], kwargs?: CallKwargs): SymbolicTensor | SymbolicTensor[];
  apply(
    inputs: Tensor | Tensor[] | SymbolicTensor | SymbolicTensor[],
    kwargs: CallKwargs = {},
  ): Tensor | Tensor[] | SymbolicTensor | SymbolicTensor[] {
    if (toList<unknown>(inputs).some(isSymbolic)) return this.applySymbolic(inputs as SymbolicTensor | SymbolicTensor[], kwargs);
    const list = toList(inputs as Tensor | Tensor[]);
    list.forEach((x, i) => {
      if (!(x instanceof Tensor)) {
        throw new Error(`Layer ${this.name}: input ${i} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
      }
    });
    this.assertDeclaredShape(list);
    if (!this.built) {
      this.assertInputCompatibility(list);
      const shapes = list.map((x) => [...x.shape] as Shape);
      this.ensureBuilt(Array.isArray(inputs) ? shapes : shapes[0]!);
    }
    this.assertInputCompatibility(list);
    const outputs = this.call(inputs as Tensor | Tensor[], kwargs);
    if (this.activityRegularizer) {
      const regularizer = this.activityRegularizer;
      // Kept: the model's loss reads them after this call, maybe past the scope it ran in.
      this.activityLosses = toList(outputs).map((y) => keep(regularizer.apply(y)));
    }
    return outputs;
  }

  /** Applications of this layer to symbolic tensors (the functional API), in order. */
  readonly inboundNodes: LayerNode[] = [];

  /**
   * The functional API: builds the layer from the symbolic inputs' shapes (if it is not built),
   * records the application, and returns symbolic outputs of computeOutputShape's shapes.
   */
  private applySymbolic(inputs: SymbolicTensor | SymbolicTensor[], kwargs: CallKwargs): SymbolicTensor | SymbolicTensor[] {
    const list = toList(inputs);
    list.forEach((x, i) => {
      if (!isSymbolic(x)) {
        throw new Error(
          `Layer ${this.name}: input ${i} is a Tensor among symbolic inputs; give all symbolic (from input()) or all concrete tensors`,
        );
      }
    });
    const shapes = list.map((x) => [...x.shape]);
    const shapeArg = Array.isArray(inputs) ? shapes : shapes[0]!;
    const declared = this.batchInputShape;
    if (declared && list.length === 1 && !shapeCompatible(declared, shapes[0]!)) {
      throw new Error(`Layer ${this.name}: expected input shape ${formatShape(declared)}, got ${formatShape(shapes[0]!)}`);
    }
    if (!this.built) this.ensureBuilt(shapeArg);
    const out = this.computeOutputShape(shapeArg);
    const outShapes = (Array.isArray(out[0]) ? out : [out]) as Shape[];
    const { training: _training, mask: _mask, ...rest } = kwargs;
    const outputs: SymbolicTensor[] = [];
    const node: LayerNode = { layer: this, inputs: list, inputsAsList: Array.isArray(inputs), outputs, kwargs: rest };
    const index = this.inboundNodes.length;
    outShapes.forEach((shape, k) =>
      outputs.push(new SymbolicTensor(shape, this.dtype, node, k, `${this.name}/${index}${outShapes.length > 1 ? `:${k}` : ''}`)),
    );
    this.inboundNodes.push(node);
    return outputs.length === 1 ? outputs[0]! : outputs;
  }

  /** The symbolic output of this layer's first application (Keras `layer.output`): for models of intermediate outputs. */
  get output(): SymbolicTensor | SymbolicTensor[] {
    const node = this.inboundNodes[0];
    if (!node) throw new Error(`Layer ${this.name} has no output: it was never applied to symbolic inputs (input())`);
    return node.outputs.length === 1 ? node.outputs[0]! : [...node.outputs];
  }

  /** The symbolic input of this layer's first application (Keras `layer.input`). */
  get input(): SymbolicTensor | SymbolicTensor[] {
    const node = this.inboundNodes[0];
    if (!node) throw new Error(`Layer ${this.name} has no input: it was never applied to symbolic inputs (input())`);
    return node.inputsAsList ? [...node.inputs] : node.inputs[0]!;
  }

  /** The declared (batch)inputShape, when given, must match every call. */
  private assertDeclaredShape(inputs: Tensor[]): void {
    const declared = this.batchInputShape;
    if (!declared || inputs.length !== 1) return;
    const actual = inputs[0]!.shape;
    if (!shapeCompatible(declared, actual)) {
      throw new Error(`Layer ${this.name}: expected input shape ${formatShape(declared)}, got ${formatShape(actual)}`);
    }
  }

  /** Checks the inputs against `inputSpec`, naming the layer, the expectation and what was given. */
  protected assertInputCompatibility(inputs: Tensor[]): void {
    const specs = this.inputSpec;
    if (!specs || specs.length === 0) return;
    if (inputs.length !== specs.length) {
      throw new Error(`Layer ${this.name} expects ${specs.length} input(s), got ${inputs.length}`);
    }
    inputs.forEach((x, i) => {
      const spec = specs[i]!;
      const got = `got shape ${formatShape(x.shape)}`;
      const which = inputs.length > 1 ? `input ${i}` : 'input';
      if (spec.ndim !== undefined && x.rank !== spec.ndim) {
        throw new Error(`Layer ${this.name}: expected ${which} of rank ${spec.ndim}, ${got} (rank ${x.rank})`);
      }
      if (spec.minNDim !== undefined && x.rank < spec.minNDim) {
        throw new Error(`Layer ${this.name}: expected ${which} of rank >= ${spec.minNDim}, ${got} (rank ${x.rank})`);
      }
      if (spec.maxNDim !== undefined && x.rank > spec.maxNDim) {
        throw new Error(`Layer ${this.name}: expected ${which} of rank <= ${spec.maxNDim}, ${got} (rank ${x.rank})`);
      }
      for (const [key, size] of Object.entries(spec.axes ?? {})) {
        const axis = Number(key);
        const actual = x.shape[axis < 0 ? x.rank + axis : axis];
        if (actual !== size) {
          throw new Error(`Layer ${this.name}: expected axis ${axis} of the ${which} to have size ${size}, ${got}`);
        }
      }
      if (spec.shape && !shapeCompatible(spec.shape, x.shape)) {
        throw new Error(`Layer ${this.name}: expected ${which} shape ${formatShape(spec.shape)}, ${got}`);
      }
    });
  }

  // ---- weights -------------------------------------------------------------------

  /**
   * Creates a weight variable named `<layer>/<name>` with values from the
   * initializer; a regularizer adds its penalty to regularizationLosses().
   * Call it from build().
   *
   * @param trainable - false for state the optimizer must not touch (moving statistics).
   * @throws Error if the layer already has a weight of that name, or the initializer or
   *   regularizer is unknown.
   */
  addWeight(
    name: string,
    shape: readonly number[],
    initializer: InitializerIdentifier = 'glorotUniform',
    regularizer?: RegularizerIdentifier | null,
    trainable = true,
  ): Variable {
    const fullName = `${this.name}/${name}`;
    if (this.allWeights().some((w) => w.name === fullName)) {
      throw new Error(`Layer ${this.name}: a weight named '${fullName}' already exists`);
    }
    let values: Tensor;
    try {
      values = getInitializer(initializer).apply(shape);
    } catch (e) {
      // The initializer knows neither the layer nor the weight it was chosen for: say which.
      throw new Error(`Layer ${this.name}: cannot initialize weight '${name}' of shape [${shape.join(',')}]: ${(e as Error).message}`);
    }
    const variable = new Variable(values, { name: fullName, trainable: trainable && this._trainable });
    (trainable ? this._trainableWeights : this._nonTrainableWeights).push(variable);
    const reg = getRegularizer(regularizer);
    if (reg) this.regularized.push({ variable, regularizer: reg });
    return variable;
  }

  private allWeights(): Variable[] {
    return [...this._trainableWeights, ...this._nonTrainableWeights];
  }

  /** Whether `fit` updates this layer's weights (see the setter). */
  get trainable(): boolean {
    return this._trainable;
  }

  /** Freezing a layer makes its weights non-trainable (no gradients are recorded for them). */
  set trainable(value: boolean) {
    this._trainable = value;
    for (const w of this._trainableWeights) {
      w.trainable = value;
      w.requiresGrad = value;
    }
  }

  /** Weights updated by the optimizer, in creation order (empty when the layer is frozen). */
  get trainableWeights(): Variable[] {
    return this._trainable ? this._trainableWeights.filter((w) => w.trainable) : [];
  }

  /** Weights the optimizer leaves alone (BatchNormalization's moving statistics; all weights of a frozen layer). */
  get nonTrainableWeights(): Variable[] {
    return this._trainable
      ? [...this._trainableWeights.filter((w) => !w.trainable), ...this._nonTrainableWeights]
      : [...this._trainableWeights, ...this._nonTrainableWeights];
  }

  /** Keras order: trainable weights, then non-trainable, each in creation order. */
  get weights(): Variable[] {
    return [...this.trainableWeights, ...this.nonTrainableWeights];
  }

  /** Copies of the weight values, in `weights` order. */
  getWeights(): Tensor[] {
    return noGrad(() => this.weights.map((w) => clone(w)));
  }

  /**
   * Sets every weight, in `weights` order; count and shapes must match. Values are copied in place.
   *
   * @throws Error if the count or a shape differs (an unbuilt layer has no weights yet).
   */
  setWeights(weights: readonly Tensor[]): void {
    const own = this.weights;
    if (!Array.isArray(weights) || weights.length !== own.length) {
      throw new Error(
        `Layer ${this.name}: setWeights expects ${own.length} weight(s) [${own.map((w) => w.name).join(', ')}], ` +
          `got ${Array.isArray(weights) ? weights.length : typeof weights}` +
          (this.built ? '' : ' (the layer is not built yet: apply it to an input or call build() first)'),
      );
    }
    own.forEach((w, i) => {
      const value = weights[i];
      if (!(value instanceof Tensor)) throw new Error(`Layer ${this.name}: weight ${w.name} must be set to a Tensor, got ${typeof value}`);
      if (value.rank !== w.rank || value.shape.some((d, j) => d !== w.shape[j])) {
        throw new Error(`Layer ${this.name}: weight ${w.name} expects shape ${formatShape(w.shape)}, got ${formatShape(value.shape)}`);
      }
    });
    own.forEach((w, i) => w.assign(weights[i]!));
  }

  /**
   * Number of scalar weights; the layer must be built.
   *
   * @throws Error if the layer is not built.
   */
  countParams(): number {
    if (!this.built) {
      throw new Error(`Layer ${this.name}: countParams() needs a built layer; apply it to an input or call build(inputShape) first`);
    }
    return this.weights.reduce((n, w) => n + w.size, 0);
  }

  /**
   * The penalties of the layer's weight regularizers, computed now from the
   * current weights (so autograd sees them), followed by the activity
   * regularizer's penalties on the outputs of the most recent apply().
   */
  regularizationLosses(): Tensor[] {
    return [...this.regularized.map(({ variable, regularizer }) => regularizer.apply(variable)), ...this.activityLosses];
  }

  /** Sum of regularizationLosses() as one scalar (0 when there are none). */
  regularizationLoss(): Tensor {
    return this.regularizationLosses().reduce((a, b) => add(a, b), scalar(0));
  }

  // ---- serialization ---------------------------------------------------------------

  /** The constructor arguments as TensorFlow.js serializes them (camelCase). */
  getConfig(): Record<string, unknown> {
    const config: Record<string, unknown> = { name: this.name, trainable: this.trainable };
    if (this.batchInputShape) config.batchInputShape = [...this.batchInputShape];
    config.dtype = this.dtype;
    return config;
  }

  /**
   * Builds a layer from getConfig() output. Keras' snake_case keys
   * (`batch_input_shape`, `kernel_initializer`) and Keras 3 dtype policies
   * (`{class_name: 'DTypePolicy', config: {name}}`) are accepted too.
   */
  static fromConfig<T extends Layer>(this: new (args: never) => T, config: Record<string, unknown>): T {
    const args: Record<string | symbol, unknown> = camelCaseKeys(config);
    args[FROM_CONFIG] = true;
    const dtype = args.dtype as { config?: { name?: unknown } } | string | undefined;
    if (typeof dtype === 'object' && dtype !== null) args.dtype = dtype.config?.name ?? 'float32';
    if (args.batchShape !== undefined && args.batchInputShape === undefined) args.batchInputShape = args.batchShape;
    delete args.batchShape;
    return new this(args as never);
  }

  /** `ClassName(name)`, e.g. `Dense(dense_1)`. */
  toString(): string {
    return `${this.getClassName()}(${this.name})`;
  }
}

// ---- the class registry ----------------------------------------------------------------

const registry = new Map<string, LayerClass>();

/**
 * Makes a layer class known to deserializeLayer (and so to loadModel) under its static className.
 * Registering a className again replaces the earlier class. Returns the class.
 *
 * @throws Error if the class does not define its own static className.
 */
export function registerLayer<T extends LayerClass>(cls: T): T {
  if (!Object.hasOwn(cls, 'className') || !cls.className) {
    throw new Error(`registerLayer: class ${cls.name} must define its own static className`);
  }
  registry.set(cls.className, cls);
  return cls;
}

/**
 * The registered class of a className.
 *
 * @throws Error listing the registered names if none has that className.
 */
export function getLayerClass(className: string): LayerClass {
  const cls = registry.get(className);
  if (!cls) {
    throw new Error(`Unknown layer class '${className}'. Registered layers: ${[...registry.keys()].sort().join(', ')}`);
  }
  return cls;
}

/** The registered class names, sorted. */
export function registeredLayerNames(): string[] {
  return [...registry.keys()].sort();
}

/**
 * `{className, config}` → a new layer of that registered class.
 *
 * @throws Error if the object is not `{className, config}` or the class is not registered.
 */
export function deserializeLayer(serialized: SerializedObject): Layer {
  if (!isSerializedObject(serialized)) {
    throw new Error(`deserializeLayer: expected {className, config}, got ${JSON.stringify(serialized)}`);
  }
  return getLayerClass(serializedClassName(serialized)).fromConfig(serialized.config ?? {});
}

/** A layer → `{className, config}`, as TensorFlow.js writes it in model.json. */
export function serializeLayer(layer: Layer): SerializedObject {
  return { className: layer.getClassName(), config: layer.getConfig() };
}
