/**
 * Model: what Sequential and functional models share (Keras' `Model`). A model is a Layer — it
 * nests in other models — made of layers; it has weights, a summary and a saved form, and
 * trains with the loop of training.ts. Subclasses say how the layers connect: {@link Sequential}
 * a linear stack, {@link Functional} any graph of layer applications.
 */
import type { Tensor, Variable } from '@axon/tensor';
import { type CallKwargs, InputLayer, Layer, checkOptions, formatShape, type Shape } from '@axon/layers';
import type { History, Logs, TrainableModel } from './callbacks.js';
import { writeDirectoryAtomically } from './io.js';
import type { Loss, LossIdentifier } from './losses.js';
import type { Metric, MetricIdentifier } from './metrics.js';
import type { Optimizer } from './optimizers.js';
import { optimizerWeights } from './optimizer-state.js';
import { readWeightsInto, writeWeights, type LoadWeightsArgs } from './weights-file.js';
import { toCamelCase } from './names.js';
import {
  AXON_MODELS_VERSION,
  GENERATED_BY,
  encodeWeights,
  toPythonic,
  type JsonObject,
  type ModelJSON,
  type TrainingConfig,
} from './serialization.js';
import * as training from './training.js';
import * as streams from './training-dataset.js';
import type { BatchStream, DatasetBatch, EvaluateDatasetArgs, FitDatasetArgs, PredictDatasetArgs } from './training-dataset.js';
import type { CompileArgs, EvaluateArgs, FitArgs, ModelData, PredictArgs, TrainOnBatchArgs, TrainingHost } from './training.js';

/** Arguments of {@link Model.summary}. */
export interface SummaryArgs {
  /** Receives each line; default console.log. */
  printFn?: (line: string) => void;
  /** Minimum width of the table's rules, in characters. */
  lineLength?: number;
}

/** Arguments of {@link Model.save} and {@link Model.toArtifacts}. */
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

/** One row of {@link Model.summary}: a layer, its output shape and the layers it reads from. */
export interface SummaryRow {
  /** The layer. */
  layer: Layer;
  /** Its output shape(s), formatted, or 'unknown' before the model is built. */
  outputShape: string;
  /** The tensors it reads (`layer[node][output]`), for a functional model; null for Sequential. */
  connectedTo: string[] | null;
}

/**
 * Called by {@link Model.forward} after each layer application, with the layer, what it read and
 * one tensor it returned (each in turn for a layer of several outputs); the tensor the hook returns
 * flows on in that output's place. Reading intermediate outputs (activation maps) returns `output`
 * unchanged; differentiating with respect to one (Grad-CAM) returns a watched tensor in its place.
 */
export type LayerOutputHook = (layer: Layer, output: Tensor, input: Tensor | Tensor[]) => Tensor;

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/**
 * A model: layers with weights, a training configuration (compile), the training loop (fit,
 * evaluate, predict, trainOnBatch, testOnBatch, predictOnBatch), a summary and saving in the
 * TensorFlow.js layers format. Make one with {@link sequential} or {@link model}; it is a Layer,
 * so a model can be a layer of another model (Keras `Model`, tfjs `LayersModel`).
 *
 * `Output` is what predict returns: a Tensor for Sequential, a Tensor or an array of Tensors (one
 * per output) for a functional model.
 */
export abstract class Model<Output extends Tensor | Tensor[] = Tensor | Tensor[]> extends Layer implements TrainableModel, TrainingHost {
  /** Set by a callback (EarlyStopping) to end fit after the current batch. */
  stopTraining = false;
  /** The optimizer set by compile(), or null before. */
  optimizer: Optimizer | null = null;
  /** The loss set by compile() (the first output's, for a model of several), or null before. */
  loss: Loss | null = null;
  /** Every output's loss, in output order (set by compile()). */
  losses: Loss[] = [];
  /** The metrics set by compile(), every output's, in order. */
  metrics: Metric[] = [];
  private compiled: training.Compiled | null = null;

  /** The model's layers, each once, in the order they run (Keras `model.layers`). */
  abstract get layers(): Layer[];
  /** The names of the inputs, in order (fit and predict take x by these names too). */
  abstract get inputNames(): string[];
  /** The names of the outputs (their layers' names), in order: the keys of per-output losses, metrics and y. */
  abstract get outputNames(): string[];
  /** The batch shape of each input, or null for an input whose shape is not known yet (an unbuilt Sequential). */
  abstract get batchInputShapes(): (Shape | null)[];
  /**
   * The batch shape of each output, building the model from `inputs`' shapes first if it is not built.
   *
   * @throws Error if the layers reject those shapes.
   */
  abstract outputShapesFor(inputs: Tensor[]): Shape[];
  /**
   * Runs the model on one batch given as a list of inputs (in {@link inputNames} order) and returns
   * every output, with autograd recording (fit's forward pass; predict runs it without gradients).
   * `onLayerOutput`, when given, sees every layer application of this model (not of the layers of
   * a nested model) and may replace its output (see {@link LayerOutputHook}).
   *
   * @throws Error if the model has no layers, or a layer rejects its input.
   *
   * @example
   * ```ts
   * // The output of layer 'conv' and the model's output, in one pass.
   * let features: Tensor | undefined;
   * const [y] = classifier.forward([x], false, (layer, output) => {
   *   if (layer.name === 'conv') features = output;
   *   return output;
   * });
   * ```
   */
  abstract forward(inputs: Tensor[], training: boolean, onLayerOutput?: LayerOutputHook): Tensor[];
  /** Where input `index`'s declared shape comes from, for error messages ('the InputLayer', `input 'image'`, ...). */
  abstract describeInput(index: number): string;
  /** The rows {@link summary} prints, one per layer. */
  protected abstract summaryRows(): SummaryRow[];
  /** Throws, naming `method` and what to do, unless the model has layers and its weights exist. */
  protected abstract requireBuilt(method: string): void;

  /** Whether call and predict return a list of outputs (several outputs) rather than one Tensor. */
  protected get returnsList(): boolean {
    return this.outputNames.length !== 1;
  }

  /**
   * As a layer of another model: runs {@link forward} on one input (or a list, one per input).
   *
   * @throws Error if the layers reject the inputs.
   */
  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs = {}): Tensor | Tensor[] {
    const outputs = this.forward(Array.isArray(inputs) ? inputs : [inputs], kwargs.training ?? false);
    return this.returnsList ? outputs : outputs[0]!;
  }

  // ---- structure and weights ----------------------------------------------------------

  /**
   * A layer by name, or by index in {@link layers} (Keras `get_layer`).
   *
   * @throws Error naming the model's layers when none matches.
   */
  getLayer(nameOrIndex: string | number): Layer {
    const layers = this.layers;
    const found = typeof nameOrIndex === 'number' ? layers[nameOrIndex] : layers.find((l) => l.name === nameOrIndex);
    if (!found) {
      throw new Error(
        `getLayer: model ${this.name} has no layer ${JSON.stringify(nameOrIndex)}; its layers: ${layers.map((l) => l.name).join(', ') || 'none'}`,
      );
    }
    return found;
  }

  /** Whether fit updates the model's weights; setting it sets every layer's (Keras: freezing a model freezes its layers). */
  override get trainable(): boolean {
    return this._trainable;
  }

  override set trainable(value: boolean) {
    this._trainable = value;
    for (const layer of this.layers) layer.trainable = value;
  }

  /** Whether a layer keeps state between batches (a stateful RNN). */
  override get stateful(): boolean {
    return this.layers.some((l) => l.stateful);
  }

  /** @throws Error always: a model's statefulness comes from its layers. */
  override set stateful(_value: boolean) {
    throw new Error(`Model ${this.name}: a model is stateful when one of its layers is; set stateful on the layer`);
  }

  /** Every weight, layer by layer (each layer's trainable then non-trainable weights), each once. */
  override get weights(): Variable[] {
    return unique(this.layers.flatMap((l) => l.weights));
  }

  /** The weights fit updates, layer by layer (none when the model is frozen). */
  override get trainableWeights(): Variable[] {
    return this.trainable ? unique(this.layers.flatMap((l) => l.trainableWeights)) : [];
  }

  /** The weights fit leaves alone (frozen layers, BatchNormalization's moving statistics). */
  override get nonTrainableWeights(): Variable[] {
    const trainable = new Set(this.trainableWeights);
    return this.weights.filter((w) => !trainable.has(w));
  }

  /**
   * Sets all weights, in {@link weights} order (values are copied in place).
   *
   * @throws Error if the count or a shape differs (an unbuilt model has no weights yet).
   */
  override setWeights(weights: readonly Tensor[]): void {
    const own = this.weights;
    if (!Array.isArray(weights) || weights.length !== own.length) {
      throw new Error(
        `${this.getClassName()} ${this.name}: setWeights expects ${own.length} tensors (${own.map((w) => w.name).join(', ')}), ` +
          `got ${Array.isArray(weights) ? weights.length : typeof weights}` +
          (this.built ? '' : ' (the model is not built yet: give the first layer an inputShape or call build())'),
      );
    }
    super.setWeights(weights);
  }

  /** The number of scalar weights (0 before the model is built). */
  override countParams(): number {
    return this.weights.reduce((n, w) => n + w.size, 0);
  }

  /** Every layer's weight and activity penalties (added to the loss by fit). */
  override regularizationLosses(): Tensor[] {
    return this.layers.flatMap((l) => l.regularizationLosses());
  }

  /** Resets the states of every stateful layer (Keras' model.reset_states()). */
  override resetStates(): void {
    for (const layer of this.layers) if (layer.stateful && typeof layer.resetStates === 'function') layer.resetStates();
  }

  // ---- training (the loop lives in training.ts) ------------------------------------------

  /**
   * Configures the model for training: the optimizer, the loss (per output for a model of
   * several) and the metrics (Keras `model.compile`). Needed before fit, evaluate and
   * trainOnBatch; calling it again replaces the configuration (the weights stay).
   *
   * @throws Error if optimizer or loss is missing or unknown, a metric is unknown, two metrics
   *   share a name, or a per-output setting names an output the model lacks.
   *
   * @example
   * ```ts
   * model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
   * twoOutputs.compile({
   *   optimizer: 'adam',
   *   loss: { class: 'sparseCategoricalCrossentropy', size: 'mse' },
   *   lossWeights: { class: 1, size: 0.5 },
   *   metrics: { class: ['accuracy'] },
   * });
   * ```
   */
  compile(args: CompileArgs): void {
    const compiled = new training.Compiled(this, args);
    this.compiled = compiled;
    this.optimizer = compiled.optimizer;
    this.losses = compiled.targets.map((t) => t.loss);
    this.loss = this.losses[0] ?? null;
    this.metrics = compiled.metrics.map((s) => s.metric);
  }

  private requireCompiled(method: string): training.Compiled {
    if (!this.compiled) throw new Error(`${this.getClassName()} ${this.name}: call compile({optimizer, loss}) before ${method}()`);
    return this.compiled;
  }

  private requireLayers(method: string): void {
    if (this.layers.length === 0)
      throw new Error(`${this.getClassName()} ${this.name}: ${method}() needs at least one layer; add() some first`);
  }

  /**
   * Trains the model on x and y for a number of epochs (Keras `model.fit`): per batch the
   * forward pass in training mode, the loss (each output's, times its loss weight) plus the
   * layers' regularization penalties, the gradients of the trainable weights and one optimizer
   * step. Samples are shuffled every epoch unless `shuffle: false`; the whole data set is checked
   * first (finite values, valid sparse labels).
   *
   * Logs per batch and per epoch hold `loss` and each metric (running means over the epoch) — for
   * a model of several outputs also `<output>_loss` and `<output>_<metric>` — and with validation
   * data the same keys prefixed `val_`. Hooks may be async: fit awaits them, and it yields to the
   * event loop about every 200 ms during long epochs.
   *
   * A dataset of batches (`fit(dataset, { epochs, stepsPerEpoch, validationData })`, Keras' form)
   * trains as {@link Model.fitDataset} does.
   *
   * @param x - Inputs, the first axis the sample: a Tensor [n, ...inputShape], or for a model of
   *   several inputs an array in input order or an object by input name.
   * @param y - Targets [n, ...] (class indices [n] for sparseCategoricalCrossentropy); for several
   *   outputs an array in output order or an object by output name.
   * @returns The {@link History}: per epoch, every logged value.
   * @throws Error if the model has no layers or is not compiled, x or y does not match the model's
   *   inputs and outputs, their sample counts differ, the data holds NaN or Infinity, a sparse label
   *   is out of range, or an argument is invalid (epochs, batchSize, validationSplit, ...).
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
  async fit(x: ModelData, y: ModelData, args?: FitArgs): Promise<History>;
  /**
   * Trains on a dataset of `{xs, ys}` / `[xs, ys]` batches: see {@link Model.fitDataset}.
   *
   * @throws Error as fitDataset does.
   */
  async fit(dataset: BatchStream<DatasetBatch>, args?: FitDatasetArgs): Promise<History>;
  async fit(x: ModelData | BatchStream<DatasetBatch>, y?: ModelData | FitDatasetArgs, args: FitArgs = {}): Promise<History> {
    this.requireLayers('fit');
    if (streams.isBatchStream(x)) return streams.fitDataset(this, this.requireCompiled('fit'), x, y as FitDatasetArgs | undefined);
    return training.fit(this, this.requireCompiled('fit'), x, y, args);
  }

  /**
   * Trains on a dataset of batches (tfjs `fitDataset`; the same as `fit(dataset, args)`): each
   * element `{xs, ys}` or `[xs, ys]`, the dataset iterated afresh every epoch (or run on across
   * epochs with `stepsPerEpoch`). Memory stays bounded by what the dataset holds: nothing is
   * gathered up front. Each batch is checked when it arrives.
   *
   * @throws Error as fit does, naming the batch (`batch 3 ys[5] is 12, not a valid label ...`), or if the dataset is empty.
   *
   * @example
   * ```ts
   * import { fromTensors } from '@axon/data';
   * const batches = fromTensors({ xs: train.x, ys: train.y }).shuffle(1024, { seed: 1 }).batch(64);
   * await model.fitDataset(batches, { epochs: 5, validationData: [test.x, test.y] });
   * ```
   */
  async fitDataset(dataset: BatchStream<DatasetBatch>, args: FitDatasetArgs = {}): Promise<History> {
    return this.fit(dataset, args);
  }

  /**
   * Loss and metrics on x/y — or on a dataset of batches, asynchronously (see
   * {@link Model.evaluateDataset}) — (Keras: a number when there is nothing else to report, else
   * [loss, ...per-output losses, ...metrics]; with returnDict, {loss, <key>: value}). Runs in
   * batches, in inference mode, without gradients; the loss includes the regularization penalties,
   * as in fit.
   *
   * @throws Error as fit does for invalid data, or if the model is not compiled.
   *
   * @example
   * ```ts
   * const [loss, accuracy] = model.evaluate(test.x, test.y) as number[];
   * const logs = model.evaluate(test.x, test.y, { returnDict: true }); // { loss, accuracy }
   * ```
   */
  evaluate(dataset: BatchStream<DatasetBatch>, args?: EvaluateDatasetArgs): Promise<number | number[] | Logs>;
  evaluate(x: ModelData, y: ModelData, args: EvaluateArgs & { returnDict: true }): Logs;
  evaluate(x: ModelData, y: ModelData, args?: EvaluateArgs): number | number[];
  evaluate(
    x: ModelData | BatchStream<DatasetBatch>,
    y?: ModelData | EvaluateDatasetArgs,
    args: EvaluateArgs = {},
  ): number | number[] | Logs | Promise<number | number[] | Logs> {
    this.requireLayers('evaluate');
    if (streams.isBatchStream(x))
      return streams.evaluateDataset(this, this.requireCompiled('evaluate'), x, y as EvaluateDatasetArgs | undefined);
    return training.evaluate(this, this.requireCompiled('evaluate'), x, y, args);
  }

  /**
   * Loss and metrics over a dataset of `{xs, ys}` / `[xs, ys]` batches (tfjs `evaluateDataset`;
   * the same as `evaluate(dataset, args)`).
   *
   * @throws Error as evaluate does, naming the batch, or if the dataset is empty.
   */
  async evaluateDataset(dataset: BatchStream<DatasetBatch>, args: EvaluateDatasetArgs = {}): Promise<number | number[] | Logs> {
    return this.evaluate(dataset, args);
  }

  /**
   * One optimization step on one batch; returns the loss, or [loss, ...] as evaluate does (the
   * metrics of this batch only). For custom training loops; fit does this for every batch.
   *
   * @throws Error as fit does for invalid arguments (the data is not checked for NaN here).
   */
  trainOnBatch(x: ModelData, y: ModelData, args: TrainOnBatchArgs = {}): number | number[] {
    this.requireLayers('trainOnBatch');
    return training.trainOnBatch(this, this.requireCompiled('trainOnBatch'), x, y, args);
  }

  /**
   * Loss and metrics on one batch without changing the weights (Keras `test_on_batch`).
   *
   * @throws Error as evaluate does.
   */
  testOnBatch(x: ModelData, y: ModelData, args: { sampleWeight?: Tensor } = {}): number | number[] {
    this.requireLayers('testOnBatch');
    return training.testOnBatch(this, this.requireCompiled('testOnBatch'), x, y, args);
  }

  private asOutput(outputs: Tensor[]): Output {
    return (this.returnsList ? outputs : outputs[0]!) as Output;
  }

  /**
   * Outputs for x, computed in batches (default 32) in inference mode without gradients (Keras
   * `model.predict`): one tensor [n, ...outputShape], or one per output for a model of several.
   * Given a dataset (each element a batch of inputs, or `{xs}`), it returns a Promise of the
   * outputs of every batch, concatenated.
   *
   * @throws Error if the model has no layers, x does not match the inputs or has no samples, or
   *   batchSize is invalid.
   *
   * @example
   * ```ts
   * const probabilities = model.predict(test.x) as Tensor; // [n, 10] for a 10-class softmax model
   * const classes = argMax(probabilities, -1);            // [n] int32
   * ```
   */
  predict(dataset: BatchStream<unknown>, args?: PredictDatasetArgs): Promise<Output>;
  predict(x: ModelData, args?: PredictArgs): Output;
  predict(x: ModelData | BatchStream<unknown>, args: PredictArgs | PredictDatasetArgs = {}): Output | Promise<Output> {
    this.requireLayers('predict');
    if (streams.isBatchStream(x))
      return streams.predictDataset(this, x, args as PredictDatasetArgs).then((outputs) => this.asOutput(outputs));
    return this.asOutput(training.predict(this, x, args as PredictArgs));
  }

  /**
   * Outputs for one batch, without batching or gradients.
   *
   * @throws Error as predict does, or if x's size differs from a batch size the model declares.
   */
  predictOnBatch(x: ModelData): Output {
    this.requireLayers('predictOnBatch');
    return this.asOutput(training.predictOnBatch(this, x));
  }

  /**
   * The gradient of the model's output for class `classIndex` (summed over the batch, so each
   * sample gets its own gradient) with respect to the input: a saliency map of x's shape. For a
   * softmax output this is the gradient of the class probability. Models of one input and output.
   *
   * @throws Error if the model output is not [batch, classes] or classIndex is out of range.
   */
  inputGradients(x: Tensor, classIndex: number): Tensor {
    this.requireLayers('inputGradients');
    return training.inputGradients(this, x, classIndex);
  }

  // ---- summary -------------------------------------------------------------------------

  /**
   * Prints the layers (name, type, output shape, parameter count — and for a functional model the
   * layers each one reads from) and the parameter totals, as Keras' `model.summary()`.
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
    const rows = this.summaryRows();
    const connected = rows.some((r) => r.connectedTo !== null);
    const header = ['Layer (type)', 'Output Shape', 'Param #', ...(connected ? ['Connected to'] : [])];
    // A layer reading several tensors lists one per line, as Keras does.
    const table = rows.flatMap(({ layer, outputShape, connectedTo }) => {
      const first = [
        `${layer.name} (${layer.getClassName()})`,
        outputShape,
        layer.built ? layer.countParams().toLocaleString('en-US') : '0 (unbuilt)',
        ...(connected ? [connectedTo?.[0] ?? ''] : []),
      ];
      const more = (connectedTo ?? []).slice(1).map((c) => ['', '', '', c]);
      return [{ cells: first, continues: false }, ...more.map((cells) => ({ cells, continues: true }))];
    });
    const widths = header.map((h, c) => Math.max(h.length, ...table.map((r) => r.cells[c]!.length)) + 3);
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
    table.forEach(({ cells }, i) => {
      print(row(cells));
      const last = i === table.length - 1;
      if (last || !table[i + 1]!.continues) print(last ? '='.repeat(width) : '_'.repeat(width));
    });
    if (table.length === 0) print('='.repeat(width));
    const trainable = this.trainableWeights.reduce((n, w) => n + w.size, 0);
    const nonTrainable = this.nonTrainableWeights.reduce((n, w) => n + w.size, 0);
    print(`Total params: ${(trainable + nonTrainable).toLocaleString('en-US')}`);
    print(`Trainable params: ${trainable.toLocaleString('en-US')}`);
    print(`Non-trainable params: ${nonTrainable.toLocaleString('en-US')}`);
    print('_'.repeat(width));
  }

  // ---- saving ----------------------------------------------------------------------------

  /** The training configuration as tfjs writes it, or null when not compiled or not serializable (custom functions). */
  private trainingConfig(): TrainingConfig | null {
    const compiled = this.compiled;
    if (!compiled) return null;
    const { losses, metrics, lossWeights } = compiled.given;
    if (losses.some((l: LossIdentifier) => typeof l === 'function') || metrics.flat().some((m: MetricIdentifier) => typeof m !== 'string'))
      return null;
    // tfjs optimizers cannot clip gradients: a clipping optimizer is written in Keras' terms.
    const optimizer = compiled.optimizer;
    const tfjs = Object.keys(optimizer.clipping).length === 0 ? optimizer.toTfjs() : null;
    const written = tfjs ?? { className: optimizer.className, config: optimizer.getConfig() };
    const names = this.outputNames;
    const byOutput = <T>(values: T[]): Record<string, T> => Object.fromEntries(names.map((n, k) => [n, values[k]!]));
    const lossNames = compiled.targets.map((t) => t.loss.name);
    const lossConfigs = compiled.targets.map((t) => toPythonic(t.loss.getConfig()) as Record<string, number | boolean>);
    const single = names.length === 1;
    return {
      loss: single ? lossNames[0]! : byOutput(lossNames),
      metrics: single ? (metrics[0] as string[]) : byOutput(metrics as string[][]),
      ...(lossWeights && !single ? { loss_weights: byOutput(lossWeights) } : {}),
      optimizer_config: { class_name: written.className, config: written.config },
      ...(lossConfigs.some((c) => Object.keys(c).length > 0) ? { loss_config: single ? lossConfigs[0]! : byOutput(lossConfigs) } : {}),
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
    this.requireBuilt('save');
    const topology: JsonObject = {
      class_name: this.getClassName(),
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
   * Saves to directory `path` (model.json + group1-shard*.bin) in the TensorFlow.js layers format,
   * atomically: a crash leaves the old model or the new one, never a mix. The topology (a
   * Sequential or functional graph, nested models included), the weights and (when compiled) the
   * training configuration and the optimizer's state (see {@link SaveArgs.includeOptimizer}) are
   * written, so loadModel resumes training where it stopped. A `file://` prefix is accepted.
   * Reload with {@link loadModel}; `@tensorflow/tfjs-layers` loads the directory too.
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
   * optimizer state; reload into a model of the same layer names with {@link Model.loadWeights}.
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
    this.requireBuilt('saveWeights');
    writeWeights(this, path);
  }

  /**
   * Loads weights saved by {@link Model.saveWeights} into this built model (Keras
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
    this.requireBuilt('loadWeights');
    readWeightsInto(this, path, args);
  }

  /** `ClassName(name: Layer(name), ...)`. */
  override toString(): string {
    return `${this.getClassName()}(${this.name}: ${this.layers
      .filter((l) => !(l instanceof InputLayer))
      .map((l) => l.toString())
      .join(' -> ')})`;
  }
}

/** Formats an output shape (or several) for the summary. */
export function formatShapes(shapes: Shape[]): string {
  return shapes.map((s) => formatShape(s)).join(', ');
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
  const losses = typeof config.loss === 'string' ? [config.loss] : Object.values(config.loss);
  const metrics = Array.isArray(config.metrics) ? config.metrics : Object.values(config.metrics).flat();
  return (
    optimizer.toTfjs() !== null &&
    Object.keys(optimizer.clipping).length === 0 &&
    losses.every((l) => TFJS_LOSSES.has(toCamelCase(l))) &&
    config.loss_config === undefined &&
    config.loss_weights === undefined && // tfjs-layers 4.x refuses to load loss_weights
    metrics.every((m) => TFJS_METRICS.has(toCamelCase(m)))
  );
}
