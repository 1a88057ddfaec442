/**
 * Sequential: a linear stack of layers with Keras' training loop. fit runs,
 * per batch, the forward pass under autograd (training = true), the loss plus
 * the layers' regularization penalties, valueAndGrads with respect to the
 * trainable weights, then the optimizer's update without recording.
 */
import {
  Tensor,
  type Variable,
  add,
  argMax,
  cast,
  clone,
  concat,
  formatShape as formatTensorShape,
  gather,
  mul,
  noGrad,
  reshape,
  round,
  scope,
  shuffleInPlace,
  slice,
  sum,
  valueAndGrads,
} from '@axon/tensor';
import { InputLayer, Layer, checkOptions, formatShape, serializeLayer, shapeCompatible, type Shape } from '@axon/layers';
import { CallbackList, History, type CallbackHooks, type Logs, type TrainableModel } from './callbacks.js';
import {
  type DataParallelShare,
  GradientReducer,
  broadcastWeights,
  checkSameOnAllRanks,
  checkStrategy,
  shardOf,
  type DistributedStrategy,
} from './distributed.js';
import { writeDirectoryAtomically } from './io.js';
import { getLoss, type Loss, SparseCategoricalCrossentropy, type LossIdentifier } from './losses.js';
import { getMetric, type Metric, type MetricIdentifier } from './metrics.js';
import { getOptimizer, type Optimizer, type OptimizerIdentifier } from './optimizers.js';
import { optimizerWeights } from './optimizer-state.js';
import { readWeightsInto, writeWeights, type LoadWeightsArgs } from './weights-file.js';
import { toCamelCase } from './names.js';
import { ProgbarLogger, type OutputStream } from './progbar.js';
import {
  GENERATED_BY,
  AXON_MODELS_VERSION,
  encodeWeights,
  toPythonic,
  type JsonObject,
  type ModelJSON,
  type TrainingConfig,
} from './serialization.js';

/** Arguments of the {@link Sequential} constructor. */
export interface SequentialArgs {
  /**
   * The layers, first to last (see {@link Sequential.add}). An InputLayer may come first; the first
   * layer's inputShape, when given, lets the model build at once.
   */
  layers?: Layer[];
  /** The model's name; default `sequential_<n>`. */
  name?: string;
}

/** Arguments of {@link Sequential.compile} (Keras `model.compile`). */
export interface CompileArgs {
  /**
   * The optimizer: a name ('sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', with default settings)
   * or an {@link Optimizer} such as `new Adam({ learningRate: 1e-3 })`. Required.
   */
  optimizer: OptimizerIdentifier;
  /**
   * The loss: a name ('mse', 'mae', 'huber', 'binaryCrossentropy', 'categoricalCrossentropy',
   * 'sparseCategoricalCrossentropy', or the Keras snake_case spelling), a {@link Loss}, or a
   * function (yTrue, yPred) → per-sample losses. Required.
   */
  loss: LossIdentifier;
  /**
   * Metrics reported by fit and evaluate: names ('accuracy', 'mse', 'precision', ...), {@link Metric}
   * objects or functions; see {@link getMetric}. Each is logged under its name.
   */
  metrics?: MetricIdentifier[] | MetricIdentifier;
}

const FIT_OPTIONS = [
  'epochs',
  'batchSize',
  'validationData',
  'validationSplit',
  'shuffle',
  'classWeight',
  'sampleWeight',
  'initialEpoch',
  'callbacks',
  'verbose',
  'output',
  'distributed',
];

/** Arguments of {@link Sequential.fit} (Keras `model.fit`). */
export interface FitArgs {
  /** Number of passes over the training data; default 1. */
  epochs?: number;
  /** Samples per gradient step; default 32 (or the batch size the model declares). The last batch may be smaller. */
  batchSize?: number;
  /** Evaluated after every epoch: [x, y] or [x, y, sampleWeight]. Takes precedence over validationSplit. */
  validationData?: [Tensor, Tensor] | [Tensor, Tensor, Tensor];
  /** Fraction of the samples, taken from the end before shuffling, held out for validation (Keras). */
  validationSplit?: number;
  /** Reshuffle the training samples every epoch (default true). */
  shuffle?: boolean;
  /** Per-class loss weights {class: weight}; classes not listed weigh 1. */
  classWeight?: Record<number, number>;
  /** Per-sample loss weights [n]. */
  sampleWeight?: Tensor;
  /** Epoch to start from (for resuming): epochs run from initialEpoch to epochs - 1. */
  initialEpoch?: number;
  /** Callbacks (EarlyStopping, ModelCheckpoint, ... or objects with hooks), called in order after the progress bar. */
  callbacks?: CallbackHooks[] | CallbackHooks;
  /** 0 silent, 1 progress bar on a terminal or one line per epoch otherwise (default 1). */
  verbose?: 0 | 1;
  /** Where verbose output goes (default process.stdout). */
  output?: OutputStream;
  /**
   * Data-parallel training across processes (e.g. `dataParallel()` from `@axon/distributed`, run
   * under `mpirun -np N`): every rank calls fit with the same data and arguments; weights start
   * from rank 0's, each rank trains on its shard of every global batch of `batchSize`, gradients are
   * summed across ranks before each update, loss and metrics are reported for the whole batch, and
   * callbacks and the progress bar run on rank 0 only (their stopTraining reaches every rank).
   */
  distributed?: DistributedStrategy;
}

/** Arguments of {@link Sequential.evaluate} (Keras `model.evaluate`). */
export interface EvaluateArgs {
  /** Samples per batch; default 32 (or the batch size the model declares). Affects speed and memory, not the result (up to rounding). */
  batchSize?: number;
  /** Per-sample loss weights [n]. */
  sampleWeight?: Tensor;
  /** Return {loss, <metric>: value} instead of a number or [loss, ...metrics]. */
  returnDict?: boolean;
}

/** Arguments of {@link Sequential.summary}. */
export interface SummaryArgs {
  /** Receives each line; default console.log. */
  printFn?: (line: string) => void;
  /** Minimum width of the table's rules, in characters. */
  lineLength?: number;
}

/** Arguments of {@link Sequential.save} and {@link Sequential.toArtifacts}. */
export interface SaveArgs {
  /** Write trainingConfig (loss, metrics, optimizer) when compiled (default true). */
  includeTrainingConfig?: boolean;
  /**
   * Write the optimizer's state (its iteration count and per-weight slots: Adam's moments, SGD's
   * momentum, ...) as weights of group 'optimizer', as tfjs' `includeOptimizer` does, so training
   * resumes exactly after loadModel (default true, as Keras' `include_optimizer`; only when the
   * training config is written).
   */
  includeOptimizer?: boolean;
}

const modelCounters = { sequential: 0 };

function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

function checkPositiveInteger(owner: string, name: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new Error(`${owner}: ${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value as number;
}

function singleOutput(layer: Layer, out: Tensor | Tensor[]): Tensor {
  if (Array.isArray(out)) {
    if (out.length !== 1) throw new Error(`Layer ${layer.name} returned ${out.length} outputs; a Sequential layer must return one tensor`);
    return out[0]!;
  }
  return out;
}

/** `[4,1,0]`: the multi-index of flat position `flat` in a row-major tensor of `shape`. */
function indexOf(shape: readonly number[], flat: number): string {
  const index: number[] = new Array(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = flat % shape[d]!;
    flat = Math.floor(flat / shape[d]!);
  }
  return `[${index.join(',')}]`;
}

/** `[3]` for a rank-1 tensor, `[3,1,0] (sample 3)` otherwise. */
function elementAt(t: Tensor, flat: number): string {
  return t.rank <= 1 ? indexOf(t.shape, flat) : `${indexOf(t.shape, flat)} (sample ${Math.floor(flat / (t.size / t.shape[0]!))})`;
}

/** Throws, naming the argument and the first element, when a float tensor holds NaN or ±Infinity. */
function checkFinite(method: string, argument: string, t: Tensor): void {
  if (t.dtype !== 'float32') return;
  const values = t.dataSync();
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw new Error(
        `${method}: ${argument}${elementAt(t, i)} is ${v}; the data must be finite: remove or impute missing values before training`,
      );
    }
  }
}

function rows(x: Tensor, start: number, count: number): Tensor {
  return start === 0 && count === x.shape[0] ? x : slice(x, start, count);
}

/**
 * A linear stack of layers with Keras' training loop (Keras / TensorFlow.js `Sequential`): each
 * layer's output is the next one's input, and masks (Embedding with maskZero, Masking) flow along.
 * Build it with layers, {@link Sequential.compile} it with an optimizer and a loss, train it with
 * {@link Sequential.fit}, then {@link Sequential.evaluate}, {@link Sequential.predict} and
 * {@link Sequential.save} it (reload with {@link loadModel}). Files are TensorFlow.js layers-model
 * directories, which `@tensorflow/tfjs-layers` loads too.
 *
 * Inputs and labels are whole data sets as tensors whose first axis is the sample; fit cuts them
 * into batches. Memory needs no disposing: each step runs in a {@link scope}.
 *
 * @example
 * ```ts
 * import '@axon/kernels-native'; // or '@axon/kernels-js'
 * import { loadFashionMnist } from '@axon/data';
 * import { conv2d, dense, flatten, maxPooling2d } from '@axon/layers';
 * import { Sequential, loadModel } from '@axon/models';
 *
 * const { train, test } = loadFashionMnist();
 * const model = new Sequential({
 *   layers: [
 *     conv2d({ filters: 16, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
 *     maxPooling2d({ poolSize: 2 }),
 *     flatten(),
 *     dense({ units: 10, activation: 'softmax' }),
 *   ],
 * });
 * model.summary();
 * model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
 * const history = await model.fit(train.x, train.y, { epochs: 3, batchSize: 64, validationSplit: 0.1 });
 * const [loss, accuracy] = model.evaluate(test.x, test.y) as number[];
 * const probabilities = model.predict(test.x); // [10000, 10]
 * await model.save('./fashion-cnn');
 * const again = await loadModel('./fashion-cnn');
 * ```
 */
export class Sequential implements TrainableModel {
  /** The serialized class name. */
  static readonly className = 'Sequential';
  /** The model's name (see {@link SequentialArgs.name}). */
  readonly name: string;
  /** The layers, first to last (an InputLayer is not kept: it only declares the input shape). */
  readonly layers: Layer[] = [];
  /** Set by a callback (EarlyStopping) to end fit after the current batch. */
  stopTraining = false;
  /** The optimizer set by compile(), or null before. */
  optimizer: Optimizer | null = null;
  /** The loss set by compile(), or null before. */
  loss: Loss | null = null;
  /** The metrics set by compile(). */
  metrics: Metric[] = [];
  /** The input shape from an InputLayer, when the model was given one. */
  private inputLayerShape: Shape | null = null;
  private builtInputShape: Shape | null = null;
  private compiled: { loss: LossIdentifier; metrics: MetricIdentifier[] } | null = null;

  /**
   * @throws Error if args is not an object (e.g. an array: use {@link sequential} for that), layers
   *   is not an array, or adding a layer fails (see {@link Sequential.add}).
   */
  constructor(args: SequentialArgs = {}) {
    if (args === null || typeof args !== 'object' || Array.isArray(args)) {
      throw new Error(
        `Sequential: expected {layers?, name?}, got ${Array.isArray(args) ? 'an array (use sequential([...]) or new Sequential({layers: [...]}))' : JSON.stringify(args)}`,
      );
    }
    this.name = args.name ?? `sequential_${++modelCounters.sequential}`;
    if (args.layers !== undefined) {
      if (!Array.isArray(args.layers))
        throw new Error(`Sequential ${this.name}: layers must be an array of layers, got ${typeof args.layers}`);
      for (const layer of args.layers) this.add(layer);
    }
  }

  // ---- structure -----------------------------------------------------------------

  /**
   * Appends a layer; builds it at once when the input shape is known.
   *
   * @throws Error if layer is not a Layer, an InputLayer does not come first, another layer has
   *   the same name, or building it for the current output shape fails (the layer is then not added).
   */
  add(layer: Layer): void {
    if (!(layer instanceof Layer)) {
      throw new Error(
        `Sequential ${this.name}: add() expects a Layer, got ${layer === null ? 'null' : typeof layer === 'object' ? (layer as object).constructor?.name : typeof layer}`,
      );
    }
    if (layer instanceof InputLayer) {
      if (this.layers.length > 0 || this.inputLayerShape) {
        throw new Error(`Sequential ${this.name}: an InputLayer (${layer.name}) may only come first`);
      }
      this.inputLayerShape = [...layer.batchInputShape!];
      return;
    }
    if (this.layers.some((l) => l.name === layer.name)) {
      throw new Error(`Sequential ${this.name}: a layer named '${layer.name}' is already in the model; layer names must be unique`);
    }
    this.layers.push(layer);
    const inputShape = this.declaredInputShape();
    if (inputShape) {
      try {
        this.buildLayers(inputShape);
      } catch (e) {
        this.layers.pop();
        throw e;
      }
    }
  }

  /** The batch input shape the model declares (InputLayer or the first layer's inputShape), if any. */
  declaredInputShape(): Shape | null {
    return this.inputLayerShape ?? this.layers[0]?.batchInputShape ?? null;
  }

  /** The batch input shape the model was built with (null dims are free). */
  get inputShape(): Shape | null {
    return this.builtInputShape ?? this.declaredInputShape();
  }

  /** The output shape, computed layer by layer from the input shape. */
  get outputShape(): Shape {
    const input = this.inputShape;
    if (!input)
      throw new Error(
        `Sequential ${this.name}: the output shape is unknown until the model is built (give the first layer an inputShape, or call build())`,
      );
    return this.layerOutputShapes(input).at(-1) ?? input;
  }

  /** Whether the model knows its input shape and every layer is built (its weights exist). */
  get built(): boolean {
    return this.builtInputShape !== null && this.layers.every((l) => l.built);
  }

  /**
   * Builds every layer for a batch input shape (default: the declared one), creating the weights.
   * fit, evaluate and predict build on their own from the data's shape.
   *
   * @throws Error if no input shape is given or declared, or a layer rejects its input shape.
   *
   * @example
   * ```ts
   * const model = new Sequential({ layers: [dense({ units: 4 })] });
   * model.build([null, 3]); // any batch size, 3 features
   * model.countParams();    // 16
   * ```
   */
  build(inputShape?: Shape): void {
    const shape = inputShape ?? this.declaredInputShape();
    if (!shape) {
      throw new Error(
        `Sequential ${this.name}: cannot build without an input shape: give the first layer an inputShape ` +
          `(e.g. dense({units: 10, inputShape: [784]})) or call build([null, ...shape])`,
      );
    }
    this.buildLayers(shape);
  }

  private buildLayers(inputShape: Shape): void {
    let shape: Shape = [...inputShape];
    for (const layer of this.layers) {
      layer.ensureBuilt(shape);
      shape = layer.computeOutputShape(shape) as Shape;
    }
    this.builtInputShape = [...inputShape];
  }

  private layerOutputShapes(inputShape: Shape): Shape[] {
    const shapes: Shape[] = [];
    let shape: Shape = [...inputShape];
    for (const layer of this.layers) {
      shape = layer.computeOutputShape(shape) as Shape;
      shapes.push(shape);
    }
    return shapes;
  }

  private requireLayers(method: string): void {
    if (this.layers.length === 0) throw new Error(`Sequential ${this.name}: ${method}() needs at least one layer; add() some first`);
  }

  /** Checks x against the model's input shape, naming the argument, the expected and the given shape. */
  private checkInput(method: string, argument: string, x: unknown): asserts x is Tensor {
    if (!isTensor(x))
      throw new Error(`${method}: ${argument} must be a Tensor, got ${x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x}`);
    const expected = this.inputShape;
    // Only the non-batch dims are compared: x is the whole dataset, cut into batches later. A declared
    // batch size is checked against the batchSize argument instead (resolveBatchSize), as Keras does.
    if (expected && !shapeCompatible([null, ...expected.slice(1)], x.shape)) {
      const source = this.inputLayerShape ? 'the InputLayer' : `the inputShape of layer ${this.layers[0]?.name}`;
      throw new Error(
        `${method}: ${argument} has shape ${formatTensorShape(x.shape)}, but model ${this.name} expects input shape ${formatShape(expected)} (${source})`,
      );
    }
  }

  /** The batch size the model declares (batchInputShape[0], e.g. for a stateful RNN), or null when it is free. */
  get declaredBatchSize(): number | null {
    return this.inputShape?.[0] ?? null;
  }

  /** Whether any layer keeps state between batches (a stateful RNN). */
  get stateful(): boolean {
    return this.layers.some((l) => l.stateful);
  }

  /** Where the declared batch size comes from, for messages. */
  private batchSource(): string {
    const shape = formatShape(this.inputShape!);
    return this.inputLayerShape ? `the InputLayer's batchInputShape ${shape}` : `batchInputShape ${shape} of layer ${this.layers[0]?.name}`;
  }

  /**
   * The batch size to run with: the argument, or the declared batch size when the model fixes one
   * (as Keras infers it), else 32. With a declared batch size the argument must equal it, and a
   * stateful model needs every sample count to be a multiple of it (Keras raises for both).
   */
  private resolveBatchSize(method: string, given: unknown, counts: [string, number][]): number {
    const declared = this.declaredBatchSize;
    if (given !== undefined) checkPositiveInteger(method, 'batchSize', given);
    if (declared !== null && given !== undefined && given !== declared) {
      throw new Error(
        `${method}: batchSize ${given as number} does not match the batch size ${declared} that model ${this.name} declares ` +
          `(${this.batchSource()}); pass batchSize: ${declared} or leave it out`,
      );
    }
    const batchSize = (given as number | undefined) ?? declared ?? 32;
    // Stateful layers carry states of the declared batch size, and layers check the declared batch
    // dim of their input, so every batch must be full: no smaller last batch.
    if (declared !== null) {
      for (const [argument, n] of counts) {
        if (n % batchSize !== 0) {
          const kind = this.stateful ? 'in a stateful model' : `in a model with a fixed batch size (${this.batchSource()})`;
          throw new Error(
            `${method}: ${kind} the number of samples must be a multiple of the batch size ${batchSize}: ${argument} has ${n} samples`,
          );
        }
      }
    }
    return batchSize;
  }

  /** With a declared batch size, a single batch must have exactly that many samples. */
  private checkOnBatchSize(method: string, x: Tensor): void {
    const declared = this.declaredBatchSize;
    if (declared !== null && x.shape[0] !== declared) {
      throw new Error(
        `${method}: x has ${x.shape[0]} samples (shape ${formatTensorShape(x.shape)}), but ${this.stateful ? 'stateful ' : ''}model ${this.name} ` +
          `declares batch size ${declared} (${this.batchSource()})`,
      );
    }
  }

  /** Resets the states of every stateful layer that defines resetStates (Keras' model.reset_states()). */
  resetStates(): void {
    for (const layer of this.layers) if (layer.stateful && typeof layer.resetStates === 'function') layer.resetStates();
  }

  /**
   * Runs the layers on one batch (with autograd, unlike predict); `training` is passed to the
   * layers (Dropout, BatchNormalization). Builds them from x's shape on first use.
   *
   * @throws Error if the model has no layers or a layer rejects its input.
   */
  call(x: Tensor, training = false): Tensor {
    this.requireLayers('call');
    if (!this.builtInputShape) this.buildLayers([null, ...x.shape.slice(1)]);
    let y = x;
    let mask: Tensor | null = null;
    for (const layer of this.layers) {
      const out = singleOutput(layer, layer.apply(y, { training, mask }));
      mask = layer.computeMask(y, mask);
      y = out;
    }
    return y;
  }

  // ---- weights -------------------------------------------------------------------

  /** Every weight variable, layer by layer (each layer's trainable then non-trainable weights). */
  get weights(): Variable[] {
    return this.layers.flatMap((l) => l.weights);
  }

  /** The weights fit updates, layer by layer. */
  get trainableWeights(): Variable[] {
    return this.layers.flatMap((l) => l.trainableWeights);
  }

  /** The weights fit leaves alone (frozen layers, BatchNormalization's moving statistics). */
  get nonTrainableWeights(): Variable[] {
    return this.layers.flatMap((l) => l.nonTrainableWeights);
  }

  /** Copies of all weights in Keras order: layer by layer, each layer's trainable then non-trainable weights. */
  getWeights(): Tensor[] {
    return this.layers.flatMap((l) => l.getWeights());
  }

  /**
   * Sets all weights, in getWeights() order (values are copied in place).
   *
   * @throws Error if the count or a shape differs (an unbuilt model has no weights yet).
   */
  setWeights(weights: readonly Tensor[]): void {
    const own = this.weights;
    if (!Array.isArray(weights) || weights.length !== own.length) {
      throw new Error(
        `Sequential ${this.name}: setWeights expects ${own.length} tensors (${own.map((w) => w.name).join(', ')}), ` +
          `got ${Array.isArray(weights) ? weights.length : typeof weights}` +
          (this.built ? '' : ' (the model is not built yet: give the first layer an inputShape or call build())'),
      );
    }
    let offset = 0;
    for (const layer of this.layers) {
      const n = layer.weights.length;
      layer.setWeights(weights.slice(offset, offset + n));
      offset += n;
    }
  }

  /** The number of scalar weights (0 before the model is built). */
  countParams(): number {
    return this.weights.reduce((n, w) => n + w.size, 0);
  }

  // ---- compile ---------------------------------------------------------------------

  /**
   * Configures the model for training: the optimizer, the loss and the metrics (Keras
   * `model.compile`). Needed before fit, evaluate and trainOnBatch; calling it again replaces the
   * configuration (the weights stay).
   *
   * @throws Error if optimizer or loss is missing or unknown, a metric is unknown, or two metrics
   *   share a name.
   *
   * @example
   * ```ts
   * model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
   * model.compile({
   *   optimizer: new SGD({ learningRate: 0.01, momentum: 0.9 }),
   *   loss: new CategoricalCrossentropy({ labelSmoothing: 0.1 }),
   *   metrics: ['accuracy', new Precision()],
   * });
   * ```
   */
  compile(args: CompileArgs): void {
    checkOptions('compile', args, ['optimizer', 'loss', 'metrics']);
    if (!args || typeof args !== 'object') throw new Error(`compile: expected {optimizer, loss, metrics?}, got ${JSON.stringify(args)}`);
    if (args.optimizer === undefined || args.optimizer === null)
      throw new Error("compile: optimizer is required (e.g. 'adam', 'sgd', or new Adam({learningRate: 0.01}))");
    if (args.loss === undefined || args.loss === null)
      throw new Error("compile: loss is required (e.g. 'sparseCategoricalCrossentropy', 'mse')");
    const optimizer = getOptimizer(args.optimizer);
    const loss = getLoss(args.loss);
    const metricIds = args.metrics === undefined ? [] : Array.isArray(args.metrics) ? args.metrics : [args.metrics];
    const metrics = metricIds.map((m) => getMetric(m, loss));
    const names = new Set<string>(['loss']);
    for (const m of metrics) {
      if (names.has(m.name)) throw new Error(`compile: metric name '${m.name}' appears twice (or clashes with 'loss')`);
      names.add(m.name);
    }
    this.optimizer = optimizer;
    this.loss = loss;
    this.metrics = metrics;
    this.compiled = { loss: args.loss, metrics: metricIds };
  }

  private requireCompiled(method: string): { optimizer: Optimizer; loss: Loss } {
    if (!this.optimizer || !this.loss) {
      throw new Error(`Sequential ${this.name}: call compile({optimizer, loss}) before ${method}()`);
    }
    return { optimizer: this.optimizer, loss: this.loss };
  }

  private checkXY(method: string, x: unknown, y: unknown, xName = 'x', yName = 'y'): asserts x is Tensor {
    this.checkInput(method, xName, x);
    if (!isTensor(y))
      throw new Error(`${method}: ${yName} must be a Tensor, got ${y === null ? 'null' : Array.isArray(y) ? 'an array' : typeof y}`);
    if (x.rank === 0 || y.rank === 0 || x.shape[0] !== y.shape[0]) {
      throw new Error(
        `${method}: ${xName} and ${yName} must have the same number of samples: ${xName} has ${x.shape[0] ?? 'no batch axis'} ` +
          `(shape ${formatTensorShape(x.shape)}), ${yName} has ${y.shape[0] ?? 'no batch axis'} (shape ${formatTensorShape(y.shape)})`,
      );
    }
    if (x.shape[0] === 0) throw new Error(`${method}: ${xName} has no samples (shape ${formatTensorShape(x.shape)})`);
  }

  private checkSampleWeight(method: string, name: string, w: unknown, n: number): Tensor {
    if (!isTensor(w) || w.size !== n || w.shape[0] !== n) {
      throw new Error(
        `${method}: ${name} must be a Tensor of shape [${n}] (one weight per sample), got ${isTensor(w) ? formatTensorShape(w.shape) : typeof w}`,
      );
    }
    return reshape(w, [n]);
  }

  // ---- training ----------------------------------------------------------------------

  private regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const layer of this.layers) {
      for (const penalty of layer.regularizationLosses()) total = total ? add(total, penalty) : penalty;
    }
    return total;
  }

  /**
   * One optimization step, then the metrics' updates on its predictions; returns the batch loss
   * (including regularization). Runs in a scope: every tensor the step makes goes back to the
   * pool when it returns (only numbers leave it).
   */
  private trainStep(x: Tensor, y: Tensor, sampleWeight: Tensor | null, labelsChecked: boolean, share?: DataParallelShare): number {
    const { optimizer, loss } = this.requireCompiled('fit');
    const variables = this.trainableWeights;
    return scope(`training step of ${this.name}`, () => {
      let yPred: Tensor | null = null;
      const { value, grads } = valueAndGrads(
        () => {
          yPred = this.call(x, true);
          const dataLoss = loss.compute(y, yPred, sampleWeight, { labelsChecked });
          const penalty = this.regularizationLoss();
          const total = penalty ? add(dataLoss, penalty) : dataLoss;
          // A rank's share of the global batch loss: the shares (and their gradients) sum to it.
          return share ? mul(total, share.fraction) : total;
        },
        variables,
        share ? { onGradient: share.reducer.onGradient } : {},
      );
      optimizer.applyGradients(variables, share ? share.reducer.finish() : grads);
      return this.readStepValues(value, y, yPred!);
    });
  }

  /**
   * The step's loss as a number, after updating every metric on (yTrue, yPred): all the values
   * come back in one read (a device is synchronised once per step, not once per metric).
   */
  private readStepValues(loss: Tensor, yTrue: Tensor, yPred: Tensor): number {
    return noGrad(() => {
      const values: Tensor[] = [reshape(loss, [1])];
      const commits: { from: number; to: number; commit: (read: ArrayLike<number>) => void }[] = [];
      for (const m of this.metrics) {
        if (!m.pendingUpdate) {
          m.update(yTrue, yPred);
          continue;
        }
        const pending = m.pendingUpdate(yTrue, yPred);
        commits.push({ from: values.length, to: values.length + pending.values.length, commit: pending.commit });
        for (const v of pending.values) values.push(reshape(v, [1]));
      }
      // toArray copies: the step's buffer goes back to the pool (dataSync would hand it out for good).
      const read = values.length === 1 ? [loss.item()] : (concat(values, 0).toArray() as number[]);
      for (const c of commits) c.commit(read.slice(c.from, c.to));
      return read[0]!;
    });
  }

  /** classWeight as a table indexed by class (classes it does not list weigh 1), on the device. */
  private classWeightTable(classWeight: Record<number, number>): Tensor {
    const output = this.outputShape;
    const classes = output[output.length - 1];
    const size = Math.max(typeof classes === 'number' && classes > 1 ? classes : 2, ...Object.keys(classWeight).map((k) => Number(k) + 1));
    return new Tensor(
      Float32Array.from({ length: size }, (_, c) => classWeight[c] ?? 1),
      [size],
    );
  }

  /** Per-sample weights from the class weight table (by label) times sampleWeight, or null when neither is given. */
  private batchWeights(y: Tensor, weightTable: Tensor | null, sampleWeight: Tensor | null): Tensor | null {
    if (!weightTable) return sampleWeight;
    return noGrad(() => {
      const n = y.shape[0]!;
      const labels = y.rank === 1 || (y.rank === 2 && y.shape[1] === 1) ? reshape(y, [n]) : cast(argMax(y, -1), 'float32');
      // Class indices are rounded, as Keras does (binary labels given as probabilities); on the device.
      const weights = gather(weightTable, cast(round(labels), 'int32'));
      return sampleWeight ? mul(sampleWeight, weights) : weights;
    });
  }

  /**
   * Checks a whole dataset once, before any batch (so errors name the sample's index in the
   * arguments as given, not in a shuffled batch): finite x and y, sparse labels in [0, classes),
   * and labels classWeight can read.
   */
  /** Returns whether the labels were checked for the loss (its validate() then need not run per batch). */
  private checkData(method: string, x: Tensor, y: Tensor, names: [string, string], classWeight?: Record<number, number>): boolean {
    checkFinite(method, names[0], x);
    checkFinite(method, names[1], y);
    if (!this.builtInputShape) this.buildLayers([null, ...x.shape.slice(1)]);
    const output = this.outputShape;
    const classes = output[output.length - 1];
    let labelsChecked = !(this.loss instanceof SparseCategoricalCrossentropy);
    if (this.loss instanceof SparseCategoricalCrossentropy && typeof classes === 'number') {
      labelsChecked = true;
      const values = y.dtype === 'int32' ? y.intDataSync() : y.dataSync();
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (!Number.isInteger(v) || v < 0 || v >= classes) {
          throw new Error(
            `${method}: ${names[1]}${elementAt(y, i)} is ${v}, not a valid label for ` +
              `${this.loss.displayName}: labels must be integers in [0, ${classes}) (the model outputs ${classes} classes)`,
          );
        }
      }
    }
    if (classWeight) this.checkClassWeightLabels(method, names[1], y, output);
    return labelsChecked;
  }

  /**
   * classWeight reads one class per sample: from class indices [n] or [n, 1], or the arg-max of
   * one-hot / probability labels [n, C] for a model that outputs [n, C]. Keras raises for 3+
   * dimensional targets; per-timestep labels [n, T] (for an output [n, T, C]) would be arg-maxed
   * over time, so they are refused too instead of silently weighting the wrong thing.
   */
  private checkClassWeightLabels(method: string, name: string, y: Tensor, output: Shape): void {
    if (y.rank === 1 || (y.rank === 2 && y.shape[1] === 1)) return;
    if (y.rank === 2 && output.length === 2 && (output[1] === null || output[1] === y.shape[1])) return;
    throw new Error(
      `${method}: classWeight needs one class per sample: labels of shape [n] or [n,1] (class indices) or ` +
        `[n,C] (one-hot or class probabilities for a model output [n,C]), but ${name} has shape ${formatTensorShape(y.shape)} ` +
        `and the model outputs ${formatShape(output)}; classWeight is not supported for per-timestep or higher-rank labels`,
    );
  }

  private checkClassWeight(method: string, classWeight: unknown): Record<number, number> | undefined {
    if (classWeight === undefined || classWeight === null) return undefined;
    if (typeof classWeight !== 'object' || Array.isArray(classWeight))
      throw new Error(`${method}: classWeight must be an object {classIndex: weight}, got ${JSON.stringify(classWeight)}`);
    for (const [k, v] of Object.entries(classWeight)) {
      if (!/^\d+$/.test(k) || typeof v !== 'number' || !(v >= 0)) {
        throw new Error(
          `${method}: classWeight must map class indices to non-negative numbers, got ${JSON.stringify(k)}: ${JSON.stringify(v)}`,
        );
      }
    }
    return classWeight as Record<number, number>;
  }

  /**
   * Trains the model on x and y for a number of epochs (Keras `model.fit`): per batch the
   * forward pass in training mode, the loss plus the layers' regularization penalties, the
   * gradients of the trainable weights and one optimizer step. Samples are shuffled every epoch
   * unless `shuffle: false`; the whole data set is checked first (finite values, valid sparse labels).
   *
   * Logs per batch and per epoch hold `loss` and each metric (running means over the epoch), and
   * with validation data `val_loss`, `val_<metric>`. Hooks may be async: fit awaits them, and it
   * yields to the event loop about every 200 ms during long epochs.
   *
   * @param x - Inputs, the first axis the sample: [n, ...inputShape].
   * @param y - Targets [n, ...] (class indices [n] for sparseCategoricalCrossentropy).
   * @returns The {@link History}: per epoch, every logged value.
   * @throws Error if the model has no layers or is not compiled, x or y is not a Tensor, their
   *   sample counts differ, x does not match the input shape, the data holds NaN or Infinity, a
   *   sparse label is out of range, or an argument is invalid (epochs, batchSize, validationSplit, ...).
   *
   * @example
   * ```ts
   * model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
   * const history = await model.fit(train.x, train.y, {
   *   epochs: 10,
   *   batchSize: 64,
   *   validationData: [test.x, test.y],
   *   callbacks: [new EarlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true })],
   * });
   * console.log(history.history.val_accuracy); // one value per epoch run
   * ```
   */
  async fit(x: Tensor, y: Tensor, args: FitArgs = {}): Promise<History> {
    checkOptions('fit', args, FIT_OPTIONS);
    const strategy = args.distributed === undefined ? null : checkStrategy('fit', args.distributed);
    if (!strategy || strategy.size === 1) return this.fitOnThisProcess(x, y, args, strategy);
    try {
      return await this.fitOnThisProcess(x, y, args, strategy);
    } catch (e) {
      // The other ranks wait in a collective for this one: stop them all, with the reason.
      strategy.abort(`fit failed on rank ${strategy.rank} of ${strategy.size}: ${(e as Error).message}`);
      throw e; // abort() does not return; a strategy that did would still surface the error
    }
  }

  private async fitOnThisProcess(x: Tensor, y: Tensor, args: FitArgs, strategy: DistributedStrategy | null): Promise<History> {
    this.requireLayers('fit');
    this.requireCompiled('fit');
    this.checkXY('fit', x, y);
    const epochs = checkPositiveInteger('fit', 'epochs', args.epochs ?? 1);
    const initialEpoch = args.initialEpoch ?? 0;
    if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch >= epochs) {
      throw new Error(`fit: initialEpoch must be an integer in [0, epochs) = [0, ${epochs}), got ${JSON.stringify(args.initialEpoch)}`);
    }
    const verbose = args.verbose ?? 1;
    if (verbose !== 0 && verbose !== 1) throw new Error(`fit: verbose must be 0 or 1, got ${JSON.stringify(verbose)}`);
    const classWeight = this.checkClassWeight('fit', args.classWeight);
    const labelsChecked = this.checkData('fit', x, y, ['x', 'y'], classWeight);
    const weightTable = classWeight ? this.classWeightTable(classWeight) : null;
    const n = x.shape[0]!;
    let sampleWeight = args.sampleWeight === undefined ? null : this.checkSampleWeight('fit', 'sampleWeight', args.sampleWeight, n);

    // Validation data: explicit, or the last fraction of x/y before any shuffling (as Keras).
    // Labels are gathered every batch: convert int32 labels to float32 once rather than per batch.
    const labels = cast(y, 'float32');
    let xTrain = x;
    let yTrain = labels;
    let validation: { x: Tensor; y: Tensor; sampleWeight: Tensor | null } | null = null;
    let validationLabelsChecked = labelsChecked;
    if (args.validationData !== undefined) {
      const vd = args.validationData;
      if (!Array.isArray(vd) || vd.length < 2 || vd.length > 3) {
        throw new Error(
          `fit: validationData must be [x, y] or [x, y, sampleWeight], got ${Array.isArray(vd) ? `an array of ${vd.length}` : typeof vd}`,
        );
      }
      this.checkXY('fit', vd[0], vd[1], 'validationData x', 'validationData y');
      validationLabelsChecked = this.checkData('fit', vd[0], vd[1], ['validationData x', 'validationData y']);
      validation = {
        x: vd[0],
        y: vd[1],
        sampleWeight: vd[2] === undefined ? null : this.checkSampleWeight('fit', 'validationData sampleWeight', vd[2], vd[0].shape[0]!),
      };
    } else if (args.validationSplit !== undefined && args.validationSplit !== 0) {
      const split = args.validationSplit;
      if (typeof split !== 'number' || !(split > 0 && split < 1))
        throw new Error(`fit: validationSplit must be a number in [0, 1), got ${JSON.stringify(split)}`);
      const trainCount = Math.floor(n * (1 - split));
      if (trainCount === 0 || trainCount === n) {
        throw new Error(
          `fit: validationSplit ${split} of ${n} samples leaves ${trainCount} for training and ${n - trainCount} for validation; both must be non-empty`,
        );
      }
      xTrain = rows(x, 0, trainCount);
      yTrain = rows(labels, 0, trainCount);
      validation = {
        x: rows(x, trainCount, n - trainCount),
        y: rows(labels, trainCount, n - trainCount),
        sampleWeight: sampleWeight ? rows(sampleWeight, trainCount, n - trainCount) : null,
      };
      if (sampleWeight) sampleWeight = rows(sampleWeight, 0, trainCount);
    }

    const samples = xTrain.shape[0]!;
    const split = args.validationData === undefined && validation ? ` (after validationSplit ${args.validationSplit})` : '';
    const batchSize = this.resolveBatchSize('fit', args.batchSize, [
      [`x${split}`, samples],
      ...(validation ? [[split ? `the validation split` : 'validationData x', validation.x.shape[0]!] as [string, number]] : []),
    ]);
    const steps = Math.ceil(samples / batchSize);
    const history = new History();
    const userCallbacks = args.callbacks === undefined ? [] : Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks];
    // With several ranks, callbacks and the progress bar run on rank 0 only; every rank keeps a History.
    const chief = !strategy || strategy.rank === 0;
    const callbacks = new CallbackList(
      chief ? [...(verbose ? [new ProgbarLogger(args.output)] : []), ...userCallbacks, history] : [history],
    );
    if (strategy) {
      checkSameOnAllRanks(strategy, 'fit', {
        samples,
        batchSize,
        epochs,
        initialEpoch,
        validationSamples: validation ? validation.x.shape[0]! : 0,
        weights: this.weights.length,
        parameters: this.weights.reduce((n, w) => n + w.size, 0),
      });
      broadcastWeights(strategy, this.weights);
    }
    const reducer = strategy ? new GradientReducer(strategy, this.trainableWeights) : null;
    // Rank 0's decision to stop (EarlyStopping, TerminateOnNaN, ...) reaches every rank.
    const agreeOnStop = (): void => {
      if (!strategy) return;
      const flag = Float32Array.of(this.stopTraining ? 1 : 0);
      strategy.broadcast(flag, 0);
      this.stopTraining = flag[0] === 1;
    };
    const metricNames = ['loss', ...this.metrics.map((m) => m.name)];
    callbacks.setModel(this);
    callbacks.setParams({
      epochs,
      initialEpoch,
      steps,
      samples,
      batchSize,
      verbose,
      metrics: [...metricNames, ...(validation ? metricNames.map((k) => `val_${k}`) : [])],
    });

    this.stopTraining = false;
    const order = Int32Array.from({ length: samples }, (_, i) => i);
    let lastYield = performance.now();
    await callbacks.onTrainBegin();
    for (let epoch = initialEpoch; epoch < epochs && !this.stopTraining; epoch++) {
      await callbacks.onEpochBegin(epoch);
      for (const m of this.metrics) m.reset();
      if (args.shuffle ?? true) {
        shuffleInPlace(order);
        if (strategy) {
          // Every rank trains on its shard of the same global batches: rank 0's order.
          const shared = Float32Array.from(order);
          strategy.broadcast(shared, 0);
          order.set(shared);
        }
      }
      let localSeen = 0;
      let lossTotal = 0;
      let seen = 0;
      const epochLogs: Logs = {};
      for (let step = 0; step < steps; step++) {
        const start = step * batchSize;
        const size = Math.min(batchSize, samples - start);
        await callbacks.onBatchBegin(step, { batch: step, size });
        const shard = strategy ? shardOf(start, size, strategy.rank, strategy.size) : { start, end: start + size };
        const count = shard.end - shard.start;
        const loss =
          count === 0
            ? this.idleStep(reducer!)
            : scope(`batch of ${this.name}.fit`, () => {
                const indices = new Tensor(order.slice(shard.start, shard.end), [count], 'int32');
                const xb = gather(xTrain, indices, 0);
                const yb = gather(yTrain, indices, 0);
                const swb = this.batchWeights(yb, weightTable, sampleWeight ? gather(sampleWeight, indices, 0) : null);
                return this.trainStep(xb, yb, swb, labelsChecked, reducer ? { reducer, fraction: count / size } : undefined);
              });
        localSeen += count;
        const totals = this.combineAcrossRanks(strategy, loss, localSeen);
        lossTotal += totals.loss * size;
        seen += size;
        const batchLogs: Logs = { batch: step, size, loss: lossTotal / seen, ...totals.metrics };
        await callbacks.onBatchEnd(step, batchLogs);
        agreeOnStop();
        Object.assign(epochLogs, batchLogs);
        if (performance.now() - lastYield > 200) {
          // Let timers and I/O (progress output, signals) run during long epochs.
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
        if (this.stopTraining) break;
      }
      delete epochLogs.batch;
      delete epochLogs.size;
      if (validation) {
        const v = this.evaluateShard(strategy, validation, batchSize, validationLabelsChecked);
        for (const [k, value] of Object.entries(v)) epochLogs[`val_${k}`] = value;
      }
      await callbacks.onEpochEnd(epoch, epochLogs);
      agreeOnStop();
    }
    await callbacks.onTrainEnd();
    return history;
  }

  /** A step in which this rank has no samples (a global batch smaller than the ranks): zero gradients, the same update. */
  private idleStep(reducer: GradientReducer): number {
    const { optimizer } = this.requireCompiled('fit');
    scope(`idle training step of ${this.name}`, () => {
      reducer.contributeZeros();
      optimizer.applyGradients(this.trainableWeights, reducer.finish());
    });
    return 0;
  }

  /**
   * The step's loss and the epoch's metrics so far over every rank: the loss shares summed, each
   * metric averaged over the ranks' samples (exact for the built-in metrics, which are sample means).
   */
  private combineAcrossRanks(strategy: DistributedStrategy | null, loss: number, localSeen: number): { loss: number; metrics: Logs } {
    const metrics: Logs = {};
    if (!strategy) {
      for (const m of this.metrics) metrics[m.name] = m.result();
      return { loss, metrics };
    }
    const totals = Float64Array.of(loss, localSeen, ...this.metrics.map((m) => (localSeen > 0 ? m.result() * localSeen : 0)));
    const packed = Float32Array.from(totals);
    strategy.allReduceSum(packed);
    this.metrics.forEach((m, k) => (metrics[m.name] = packed[2 + k]! / packed[1]!));
    return { loss: packed[0]!, metrics };
  }

  /** evaluateLogs on this rank's shard of the validation data, combined over the ranks. */
  private evaluateShard(
    strategy: DistributedStrategy | null,
    data: { x: Tensor; y: Tensor; sampleWeight: Tensor | null },
    batchSize: number,
    labelsChecked: boolean,
  ): Logs {
    if (!strategy) return this.evaluateLogs(data.x, data.y, batchSize, data.sampleWeight, labelsChecked);
    const { start, end } = shardOf(0, data.x.shape[0]!, strategy.rank, strategy.size);
    const count = end - start;
    const local =
      count > 0
        ? this.evaluateLogs(
            rows(data.x, start, count),
            rows(data.y, start, count),
            batchSize,
            data.sampleWeight ? rows(data.sampleWeight, start, count) : null,
            labelsChecked,
          )
        : null;
    const names = ['loss', ...this.metrics.map((m) => m.name)];
    const packed = Float32Array.from([count, ...names.map((k) => (local ? local[k]! * count : 0))]);
    strategy.allReduceSum(packed);
    return Object.fromEntries(names.map((k, i) => [k, packed[1 + i]! / packed[0]!]));
  }

  /** Loss (with regularization) and metrics over x/y, in batches, without gradients. */
  private evaluateLogs(x: Tensor, y: Tensor, batchSize: number, sampleWeight: Tensor | null, labelsChecked: boolean): Logs {
    const { loss } = this.requireCompiled('evaluate');
    for (const m of this.metrics) m.reset();
    const n = x.shape[0]!;
    let total = 0;
    noGrad(() => {
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        total += scope(`evaluation batch of ${this.name}`, () => {
          const xb = rows(x, start, size);
          const yb = rows(y, start, size);
          const yPred = this.call(xb, false);
          let value = loss.compute(yb, yPred, sampleWeight ? rows(sampleWeight, start, size) : null, { labelsChecked });
          const penalty = this.regularizationLoss();
          if (penalty) value = add(value, penalty);
          return this.readStepValues(value, yb, yPred) * size;
        });
      }
    });
    const logs: Logs = { loss: total / n };
    for (const m of this.metrics) logs[m.name] = m.result();
    return logs;
  }

  /**
   * Loss and metrics on x/y (Keras: a number when there are no metrics, else
   * [loss, ...metrics]; with returnDict, {loss, <metric>: value}). Runs in batches, in inference
   * mode, without gradients; the loss includes the regularization penalties, as in fit.
   *
   * @throws Error as fit does for invalid data, or if the model is not compiled.
   *
   * @example
   * ```ts
   * model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
   * const [loss, accuracy] = model.evaluate(test.x, test.y) as number[];
   * const logs = model.evaluate(test.x, test.y, { returnDict: true }); // { loss, accuracy }
   * ```
   */
  evaluate(x: Tensor, y: Tensor, args: EvaluateArgs & { returnDict: true }): Logs;
  evaluate(x: Tensor, y: Tensor, args?: EvaluateArgs): number | number[];
  evaluate(x: Tensor, y: Tensor, args: EvaluateArgs = {}): number | number[] | Logs {
    checkOptions('evaluate', args, ['batchSize', 'sampleWeight', 'returnDict']);
    this.requireLayers('evaluate');
    this.requireCompiled('evaluate');
    this.checkXY('evaluate', x, y);
    const labelsChecked = this.checkData('evaluate', x, y, ['x', 'y']);
    const batchSize = this.resolveBatchSize('evaluate', args.batchSize, [['x', x.shape[0]!]]);
    const sw = args.sampleWeight === undefined ? null : this.checkSampleWeight('evaluate', 'sampleWeight', args.sampleWeight, x.shape[0]!);
    const logs = this.evaluateLogs(x, y, batchSize, sw, labelsChecked);
    return args.returnDict ? logs : this.toResult(logs);
  }

  private toResult(logs: Logs): number | number[] {
    return this.metrics.length === 0 ? logs.loss! : [logs.loss!, ...this.metrics.map((m) => logs[m.name]!)];
  }

  /**
   * One optimization step on one batch; returns the loss, or [loss, ...metrics] (metrics of this batch only).
   * For custom training loops; fit does this for every batch.
   *
   * @throws Error as fit does for invalid arguments (the data is not checked for NaN here).
   */
  trainOnBatch(x: Tensor, y: Tensor, args: { sampleWeight?: Tensor; classWeight?: Record<number, number> } = {}): number | number[] {
    this.requireLayers('trainOnBatch');
    this.requireCompiled('trainOnBatch');
    this.checkXY('trainOnBatch', x, y);
    this.checkOnBatchSize('trainOnBatch', x);
    const n = x.shape[0]!;
    const sw = args.sampleWeight === undefined ? null : this.checkSampleWeight('trainOnBatch', 'sampleWeight', args.sampleWeight, n);
    const classWeight = this.checkClassWeight('trainOnBatch', args.classWeight);
    if (classWeight) {
      if (!this.builtInputShape) this.buildLayers([null, ...x.shape.slice(1)]);
      this.checkClassWeightLabels('trainOnBatch', 'y', y, this.outputShape);
    }
    for (const m of this.metrics) m.reset();
    const loss = scope(`${this.name}.trainOnBatch`, () => {
      const weights = this.batchWeights(y, classWeight ? this.classWeightTable(classWeight) : null, sw);
      return this.trainStep(x, y, weights, false);
    });
    const logs: Logs = { loss };
    for (const m of this.metrics) logs[m.name] = m.result();
    return this.toResult(logs);
  }

  // ---- inference ------------------------------------------------------------------------

  /**
   * Outputs for x, computed in batches (default 32) in inference mode without gradients (Keras
   * `model.predict`). The result is one tensor [n, ...outputShape].
   *
   * @throws Error if the model has no layers, x is not a Tensor, has no samples or does not match
   *   the input shape, or batchSize is invalid.
   *
   * @example
   * ```ts
   * const probabilities = model.predict(test.x);   // [n, 10] for a 10-class softmax model
   * const classes = argMax(probabilities, -1);      // [n] int32
   * ```
   */
  predict(x: Tensor, args: { batchSize?: number } = {}): Tensor {
    checkOptions('predict', args, ['batchSize']);
    this.requireLayers('predict');
    this.checkInput('predict', 'x', x);
    const n = x.shape[0]!;
    if (!(n > 0)) throw new Error(`predict: x has no samples (shape ${formatTensorShape(x.shape)})`);
    const batchSize = this.resolveBatchSize('predict', args.batchSize, [['x', n]]);
    // Each batch in a scope of its own (its intermediates are recycled at once); the outputs are
    // joined in one more, which then lets the per-batch outputs go.
    return noGrad(() =>
      scope(`${this.name}.predict`, () => {
        const outputs: Tensor[] = [];
        for (let start = 0; start < n; start += batchSize) {
          outputs.push(scope(`prediction batch of ${this.name}`, () => this.call(rows(x, start, Math.min(batchSize, n - start)), false)));
        }
        return outputs.length === 1 ? outputs[0]! : concat(outputs, 0);
      }),
    );
  }

  /**
   * Outputs for one batch, without batching or gradients.
   *
   * @throws Error as predict does, or if x's size differs from a batch size the model declares.
   */
  predictOnBatch(x: Tensor): Tensor {
    this.requireLayers('predictOnBatch');
    this.checkInput('predictOnBatch', 'x', x);
    this.checkOnBatchSize('predictOnBatch', x);
    return noGrad(() => scope(`${this.name}.predictOnBatch`, () => this.call(x, false)));
  }

  /**
   * The gradient of the model's output for class `classIndex` (summed over the
   * batch, so each sample gets its own gradient) with respect to the input:
   * a saliency map of x's shape. For a softmax output this is the gradient of
   * the class probability.
   *
   * @throws Error if the model output is not [batch, classes] or classIndex is out of range.
   */
  inputGradients(x: Tensor, classIndex: number): Tensor {
    this.requireLayers('inputGradients');
    this.checkInput('inputGradients', 'x', x);
    return scope(`${this.name}.inputGradients`, () => {
      const watched = clone(x);
      const { grads } = valueAndGrads(() => {
        const y = this.call(watched, false);
        if (y.rank !== 2) throw new Error(`inputGradients: the model output must be [batch, classes], got ${formatTensorShape(y.shape)}`);
        const classes = y.shape[1]!;
        if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= classes) {
          throw new Error(
            `inputGradients: classIndex must be an integer in [0, ${classes - 1}] (the model outputs ${classes} classes), got ${classIndex}`,
          );
        }
        return sum(slice(y, [0, classIndex], [-1, 1]));
      }, [watched]);
      return grads[0]!;
    });
  }

  // ---- summary ------------------------------------------------------------------------

  /**
   * Prints the layers (name, type, output shape, parameter count) and parameter totals, as Keras'
   * `model.summary()`.
   *
   * @example
   * ```ts
   * model.summary();                               // to the console
   * const lines: string[] = [];
   * model.summary({ printFn: (l) => lines.push(l) });
   * ```
   */
  summary(args: SummaryArgs = {}): void {
    checkOptions('summary', args, ['printFn', 'lineLength']);
    const print = args.printFn ?? ((line: string) => console.log(line));
    const input = this.inputShape;
    const shapes = input ? this.layerOutputShapes(input) : null;
    const table = this.layers.map((layer, i) => [
      `${layer.name} (${layer.getClassName()})`,
      shapes ? formatShape(shapes[i]!) : 'unknown',
      layer.built ? layer.countParams().toLocaleString('en-US') : '0 (unbuilt)',
    ]);
    const header = ['Layer (type)', 'Output Shape', 'Param #'];
    const widths = header.map((h, c) => Math.max(h.length, ...table.map((r) => r[c]!.length)) + 3);
    const width = Math.max(
      args.lineLength ?? 0,
      widths.reduce((a, b) => a + b, 0),
    );
    const row = (cells: string[]): string =>
      cells
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('')
        .trimEnd();
    print(`Model: "${this.name}"`);
    print('_'.repeat(width));
    print(row(header));
    print('='.repeat(width));
    table.forEach((cells, i) => {
      print(row(cells));
      print(i < table.length - 1 ? '_'.repeat(width) : '='.repeat(width));
    });
    if (table.length === 0) print('='.repeat(width));
    const trainable = this.trainableWeights.reduce((n, w) => n + w.size, 0);
    const nonTrainable = this.nonTrainableWeights.reduce((n, w) => n + w.size, 0);
    print(`Total params: ${(trainable + nonTrainable).toLocaleString('en-US')}`);
    print(`Trainable params: ${trainable.toLocaleString('en-US')}`);
    print(`Non-trainable params: ${nonTrainable.toLocaleString('en-US')}`);
    print('_'.repeat(width));
  }

  // ---- serialization ---------------------------------------------------------------------

  /** The model config as TensorFlow.js' getConfig: {name, layers: [{className, config}]} (camelCase). */
  getConfig(): {
    /** The model's name. */
    name: string;
    /** Every layer's `{className, config}`; the first carries the batch input shape. */
    layers: {
      /** The layer's registered class name. */
      className: string;
      /** The layer's getConfig(). */
      config: Record<string, unknown>;
    }[];
  } {
    const layers = this.layers.map((l) => serializeLayer(l));
    const input = this.declaredInputShape() ?? this.builtInputShape;
    const first = layers[0];
    if (first && input && first.config.batchInputShape === undefined) first.config = { ...first.config, batchInputShape: [...input] };
    return { name: this.name, layers };
  }

  /** The training configuration as tfjs writes it, or null when not compiled or not serializable (custom functions). */
  private trainingConfig(): TrainingConfig | null {
    if (!this.compiled || !this.optimizer || !this.loss) return null;
    if (typeof this.compiled.loss === 'function' || this.compiled.metrics.some((m) => typeof m !== 'string')) return null;
    // tfjs optimizers cannot clip gradients: a clipping optimizer is written in Keras' terms.
    const tfjs = Object.keys(this.optimizer.clipping).length === 0 ? this.optimizer.toTfjs() : null;
    const optimizer = tfjs ?? { className: this.optimizer.className, config: this.optimizer.getConfig() };
    const lossConfig = this.loss.getConfig();
    return {
      loss: this.loss.name,
      metrics: this.compiled.metrics as string[],
      optimizer_config: { class_name: optimizer.className, config: optimizer.config },
      ...(Object.keys(lossConfig).length ? { loss_config: toPythonic(lossConfig) as Record<string, number | boolean> } : {}),
    };
  }

  /**
   * model.json's content and the weight shards, without writing anything (save writes them).
   *
   * @throws Error if the model has no layers or is not built.
   */
  toArtifacts(args: SaveArgs = {}): {
    /** The content of model.json. */
    json: ModelJSON;
    /** The weight files model.json refers to. */
    shards: {
      /** The file name (group1-shard1of1.bin, ...). */
      name: string;
      /** The file's bytes (little-endian float32 values). */
      data: Uint8Array;
    }[];
  } {
    this.requireLayers('save');
    if (!this.built) {
      throw new Error(
        `Sequential ${this.name}: save() needs a built model: give the first layer an inputShape, call build(), or fit/predict once`,
      );
    }
    const topology: JsonObject = {
      class_name: 'Sequential',
      config: toPythonic(this.getConfig()) as JsonObject,
      keras_version: `axon ${AXON_MODELS_VERSION}`,
      backend: 'axon',
    };
    const training = args.includeTrainingConfig === false ? null : this.trainingConfig();
    const named: { name: string; tensor: Tensor; group?: string }[] = this.weights.map((w) => ({ name: w.name, tensor: w as Tensor }));
    if (training && args.includeOptimizer !== false) named.push(...optimizerWeights(this.optimizer!, this.trainableWeights));
    const { manifest, shards } = encodeWeights(named);
    const json: ModelJSON = {
      modelTopology: topology,
      format: 'layers-model',
      generatedBy: GENERATED_BY,
      convertedBy: null,
      weightsManifest: manifest,
    };
    if (training) {
      // tfjs-layers compiles a loaded model from trainingConfig and fails on names it lacks
      // (AdamW, huber, fromLogits); such configs go to userDefinedMetadata, which tfjs ignores.
      if (isTfjsCompatible(training, this.optimizer!)) json.trainingConfig = training;
      else json.userDefinedMetadata = { axonTrainingConfig: training as unknown as JsonObject };
    }
    return { json, shards };
  }

  /**
   * Saves to directory `path` (model.json + group1-shard*.bin) in the
   * TensorFlow.js layers format, atomically: a crash leaves the old model or the new one, never a
   * mix. The topology, the weights and (when compiled) the training configuration and the
   * optimizer's state (see {@link SaveArgs.includeOptimizer}) are written, so loadModel resumes
   * training where it stopped. A `file://` prefix is accepted. Reload with {@link loadModel}.
   *
   * @throws Error if the model has no layers or is not built, or `path` exists and is a file or a
   *   non-empty directory without a model.json (it is never replaced), or writing fails.
   *
   * @example
   * ```ts
   * await model.save('./models/classifier');           // ./models/classifier/model.json + shards
   * const restored = await loadModel('./models/classifier');
   * ```
   */
  async save(path: string, args: SaveArgs = {}): Promise<void> {
    checkOptions('save', args, ['includeTrainingConfig', 'includeOptimizer']);
    const { json, shards } = this.toArtifacts(args);
    writeDirectoryAtomically(path, [...shards, { name: 'model.json', data: JSON.stringify(json, null, 1) }], 'model.json');
  }

  /**
   * Saves the weights only (Keras `model.save_weights`) to directory `path`, atomically:
   * `weights.json` (each layer's name and weight names, and the TensorFlow.js weights manifest)
   * plus binary shards `group1-shard<i>of<n>.bin`. No topology, training configuration or
   * optimizer state; reload into a model of the same layers with {@link Sequential.loadWeights}.
   * A `file://` prefix is accepted.
   *
   * @throws Error if the model has no layers or is not built, or `path` exists and is a file or a
   *   non-empty directory without a weights.json (it is never replaced), or writing fails.
   *
   * @example
   * ```ts
   * await model.saveWeights('./checkpoints/epoch-10');
   * await sameArchitecture.loadWeights('./checkpoints/epoch-10');
   * ```
   */
  async saveWeights(path: string): Promise<void> {
    this.requireLayers('saveWeights');
    if (!this.built) {
      throw new Error(
        `Sequential ${this.name}: saveWeights() needs a built model: give the first layer an inputShape, call build(), or fit/predict once`,
      );
    }
    writeWeights(this, path);
  }

  /**
   * Loads weights saved by {@link Sequential.saveWeights} into this built model (Keras
   * `model.load_weights`): layers are matched by name, and each layer's weights by name and shape.
   * Nothing is assigned when anything mismatches (unless `skipMismatch`).
   *
   * @throws Error if the model is not built, the file is missing or not a weights file, or a layer
   *   is missing from the file, holds a weight of another shape, lacks a weight or has extra ones,
   *   or the file holds layers the model lacks — naming the layer and the weight (with
   *   `{ skipMismatch: true }` such layers are skipped with a warning instead).
   *
   * @example
   * ```ts
   * const model = buildModel(); // the same layer names as the saved one
   * await model.loadWeights('./checkpoints/epoch-10');
   * ```
   */
  async loadWeights(path: string, args: LoadWeightsArgs = {}): Promise<void> {
    checkOptions('loadWeights', args, ['skipMismatch']);
    this.requireLayers('loadWeights');
    if (!this.built) {
      throw new Error(
        `Sequential ${this.name}: loadWeights() needs a built model: give the first layer an inputShape or call build() first`,
      );
    }
    readWeightsInto(this, path, args);
  }

  /** `Sequential(name: Layer(name) -> ...)`. */
  toString(): string {
    return `Sequential(${this.name}: ${this.layers.map((l) => l.toString()).join(' -> ')})`;
  }
}

/** Loss and metric names tfjs-layers' compile() accepts (after its toCamelCase of the saved names). */
const TFJS_LOSSES = new Set([
  'meanSquaredError',
  'meanAbsoluteError',
  'binaryCrossentropy',
  'categoricalCrossentropy',
  'sparseCategoricalCrossentropy',
]);
const TFJS_METRICS = new Set([
  'accuracy',
  'acc',
  'binaryAccuracy',
  'categoricalAccuracy',
  'precision',
  'categoricalCrossentropy',
  'sparseCategoricalCrossentropy',
  'mse',
  'MSE',
  'mae',
  'MAE',
]);

/** Whether tfjs-layers can compile a model from this training config (else loading the file there would fail). */
function isTfjsCompatible(config: TrainingConfig, optimizer: Optimizer): boolean {
  return (
    optimizer.toTfjs() !== null &&
    Object.keys(optimizer.clipping).length === 0 &&
    TFJS_LOSSES.has(toCamelCase(config.loss)) &&
    config.loss_config === undefined &&
    config.metrics.every((m) => TFJS_METRICS.has(toCamelCase(m)))
  );
}

/**
 * Keras / TensorFlow.js style factory: sequential([layer, ...]) or sequential({layers, name}).
 *
 * @throws Error as the {@link Sequential} constructor does.
 *
 * @example
 * ```ts
 * const model = sequential([dense({ units: 16, activation: 'relu', inputShape: [4] }), dense({ units: 3, activation: 'softmax' })]);
 * ```
 */
export function sequential(layersOrArgs: Layer[] | SequentialArgs = {}): Sequential {
  return Array.isArray(layersOrArgs) ? new Sequential({ layers: layersOrArgs }) : new Sequential(layersOrArgs);
}
