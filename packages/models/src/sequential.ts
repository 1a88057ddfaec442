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
import { InputLayer, Layer, formatShape, serializeLayer, shapeCompatible, type Shape } from '@axon/layers';
import { CallbackList, History, type CallbackHooks, type Logs, type TrainableModel } from './callbacks.js';
import { writeDirectoryAtomically } from './io.js';
import { getLoss, type Loss, SparseCategoricalCrossentropy, type LossIdentifier } from './losses.js';
import { getMetric, type Metric, type MetricIdentifier } from './metrics.js';
import { getOptimizer, type Optimizer, type OptimizerIdentifier } from './optimizers.js';
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

export interface SequentialArgs {
  layers?: Layer[];
  name?: string;
}

export interface CompileArgs {
  optimizer: OptimizerIdentifier;
  loss: LossIdentifier;
  metrics?: MetricIdentifier[] | MetricIdentifier;
}

export interface FitArgs {
  epochs?: number;
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
  callbacks?: CallbackHooks[] | CallbackHooks;
  /** 0 silent, 1 progress bar on a terminal or one line per epoch otherwise (default 1). */
  verbose?: 0 | 1;
  /** Where verbose output goes (default process.stdout). */
  output?: OutputStream;
}

export interface EvaluateArgs {
  batchSize?: number;
  sampleWeight?: Tensor;
  /** Return {loss, <metric>: value} instead of a number or [loss, ...metrics]. */
  returnDict?: boolean;
}

export interface SummaryArgs {
  printFn?: (line: string) => void;
  lineLength?: number;
}

export interface SaveArgs {
  /** Write trainingConfig (loss, metrics, optimizer) when compiled (default true). */
  includeTrainingConfig?: boolean;
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

export class Sequential implements TrainableModel {
  static readonly className = 'Sequential';
  readonly name: string;
  readonly layers: Layer[] = [];
  /** Set by a callback (EarlyStopping) to end fit after the current batch. */
  stopTraining = false;
  optimizer: Optimizer | null = null;
  loss: Loss | null = null;
  metrics: Metric[] = [];
  /** The input shape from an InputLayer, when the model was given one. */
  private inputLayerShape: Shape | null = null;
  private builtInputShape: Shape | null = null;
  private compiled: { loss: LossIdentifier; metrics: MetricIdentifier[] } | null = null;

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

  /** Appends a layer; builds it at once when the input shape is known. */
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

  get built(): boolean {
    return this.builtInputShape !== null && this.layers.every((l) => l.built);
  }

  /** Builds every layer for a batch input shape (default: the declared one). */
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

  /** Runs the layers. Builds them from x's shape on first use. */
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

  get weights(): Variable[] {
    return this.layers.flatMap((l) => l.weights);
  }

  get trainableWeights(): Variable[] {
    return this.layers.flatMap((l) => l.trainableWeights);
  }

  get nonTrainableWeights(): Variable[] {
    return this.layers.flatMap((l) => l.nonTrainableWeights);
  }

  /** Copies of all weights in Keras order: layer by layer, each layer's trainable then non-trainable weights. */
  getWeights(): Tensor[] {
    return this.layers.flatMap((l) => l.getWeights());
  }

  /** Sets all weights, in getWeights() order. */
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

  countParams(): number {
    return this.weights.reduce((n, w) => n + w.size, 0);
  }

  // ---- compile ---------------------------------------------------------------------

  compile(args: CompileArgs): void {
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
  private trainStep(x: Tensor, y: Tensor, sampleWeight: Tensor | null, labelsChecked: boolean): number {
    const { optimizer, loss } = this.requireCompiled('fit');
    const variables = this.trainableWeights;
    return scope(`training step of ${this.name}`, () => {
      let yPred: Tensor | null = null;
      const { value, grads } = valueAndGrads(() => {
        yPred = this.call(x, true);
        const dataLoss = loss.compute(y, yPred, sampleWeight, { labelsChecked });
        const penalty = this.regularizationLoss();
        return penalty ? add(dataLoss, penalty) : dataLoss;
      }, variables);
      optimizer.applyGradients(variables, grads);
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

  async fit(x: Tensor, y: Tensor, args: FitArgs = {}): Promise<History> {
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
    const callbacks = new CallbackList([...(verbose ? [new ProgbarLogger(args.output)] : []), ...userCallbacks, history]);
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
      if (args.shuffle ?? true) shuffleInPlace(order);
      let lossTotal = 0;
      let seen = 0;
      const epochLogs: Logs = {};
      for (let step = 0; step < steps; step++) {
        const start = step * batchSize;
        const size = Math.min(batchSize, samples - start);
        await callbacks.onBatchBegin(step, { batch: step, size });
        const loss = scope(`batch of ${this.name}.fit`, () => {
          const indices = new Tensor(order.slice(start, start + size), [size], 'int32');
          const xb = gather(xTrain, indices, 0);
          const yb = gather(yTrain, indices, 0);
          const swb = this.batchWeights(yb, weightTable, sampleWeight ? gather(sampleWeight, indices, 0) : null);
          return this.trainStep(xb, yb, swb, labelsChecked);
        });
        lossTotal += loss * size;
        seen += size;
        const batchLogs: Logs = { batch: step, size, loss: lossTotal / seen };
        for (const m of this.metrics) batchLogs[m.name] = m.result();
        await callbacks.onBatchEnd(step, batchLogs);
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
        const v = this.evaluateLogs(validation.x, validation.y, batchSize, validation.sampleWeight, validationLabelsChecked);
        for (const [k, value] of Object.entries(v)) epochLogs[`val_${k}`] = value;
      }
      await callbacks.onEpochEnd(epoch, epochLogs);
    }
    await callbacks.onTrainEnd();
    return history;
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
   * [loss, ...metrics]; with returnDict, {loss, <metric>: value}).
   */
  evaluate(x: Tensor, y: Tensor, args: EvaluateArgs & { returnDict: true }): Logs;
  evaluate(x: Tensor, y: Tensor, args?: EvaluateArgs): number | number[];
  evaluate(x: Tensor, y: Tensor, args: EvaluateArgs = {}): number | number[] | Logs {
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

  /** One optimization step on one batch; returns the loss, or [loss, ...metrics] (metrics of this batch only). */
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

  /** Outputs for x, computed in batches (default 32) without gradients. */
  predict(x: Tensor, args: { batchSize?: number } = {}): Tensor {
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

  /** Outputs for one batch, without batching or gradients. */
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

  /** Prints the layers (name, type, output shape, parameter count) and parameter totals. */
  summary(args: SummaryArgs = {}): void {
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
  getConfig(): { name: string; layers: { className: string; config: Record<string, unknown> }[] } {
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
    const optimizer = this.optimizer.toTfjs() ?? { className: this.optimizer.className, config: this.optimizer.getConfig() };
    const lossConfig = this.loss.getConfig();
    return {
      loss: this.loss.name,
      metrics: this.compiled.metrics as string[],
      optimizer_config: { class_name: optimizer.className, config: optimizer.config },
      ...(Object.keys(lossConfig).length ? { loss_config: toPythonic(lossConfig) as Record<string, number | boolean> } : {}),
    };
  }

  /** model.json's content and the weight shards. */
  toArtifacts(args: SaveArgs = {}): { json: ModelJSON; shards: { name: string; data: Uint8Array }[] } {
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
    const named = this.weights.map((w) => ({ name: w.name, tensor: w as Tensor }));
    const { manifest, shards } = encodeWeights(named);
    const json: ModelJSON = {
      modelTopology: topology,
      format: 'layers-model',
      generatedBy: GENERATED_BY,
      convertedBy: null,
      weightsManifest: manifest,
    };
    const training = args.includeTrainingConfig === false ? null : this.trainingConfig();
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
   * TensorFlow.js layers format, atomically.
   */
  async save(path: string, args: SaveArgs = {}): Promise<void> {
    const { json, shards } = this.toArtifacts(args);
    writeDirectoryAtomically(path, [...shards, { name: 'model.json', data: JSON.stringify(json, null, 1) }], 'model.json');
  }

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
    TFJS_LOSSES.has(toCamelCase(config.loss)) &&
    config.loss_config === undefined &&
    config.metrics.every((m) => TFJS_METRICS.has(toCamelCase(m)))
  );
}

/** Keras / TensorFlow.js style factory: sequential([layer, ...]) or sequential({layers, name}). */
export function sequential(layersOrArgs: Layer[] | SequentialArgs = {}): Sequential {
  return Array.isArray(layersOrArgs) ? new Sequential({ layers: layersOrArgs }) : new Sequential(layersOrArgs);
}
