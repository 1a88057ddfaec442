/**
 * Sequential: a Model whose layers form a linear stack — each layer's output is the next one's
 * input, masks flowing along. It builds as soon as its input shape is known (an InputLayer, the
 * first layer's inputShape, build(), or the first data it sees). Training, summary and saving
 * are Model's.
 */
import type { Tensor } from '@axon/tensor';
import { type CallKwargs, InputLayer, Layer, deserializeLayer, formatShape, registerLayer, serializeLayer, type Shape } from '@axon/layers';
import { type LayerOutputHook, Model, type SummaryRow } from './model.js';

/** Arguments of the {@link Sequential} constructor. */
export interface SequentialArgs {
  /**
   * The layers, first to last (see {@link Sequential.add}). An InputLayer may come first; the first
   * layer's inputShape, when given, lets the model build at once. A model can be a layer.
   */
  layers?: Layer[];
  /** The model's name; default `sequential_<n>`. */
  name?: string;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return (x as object).constructor?.name ?? 'object';
}

function singleOutput(layer: Layer, out: Tensor | Tensor[]): Tensor {
  if (Array.isArray(out)) {
    if (out.length !== 1) throw new Error(`Layer ${layer.name} returned ${out.length} outputs; a Sequential layer must return one tensor`);
    return out[0]!;
  }
  return out;
}

/**
 * A linear stack of layers with Keras' training loop (Keras / TensorFlow.js `Sequential`): each
 * layer's output is the next one's input, and masks (Embedding with maskZero, Masking) flow along.
 * Build it with layers, {@link Model.compile} it with an optimizer and a loss, train it with
 * {@link Model.fit}, then {@link Model.evaluate}, {@link Model.predict} and {@link Model.save} it
 * (reload with {@link loadModel}). Files are TensorFlow.js layers-model directories, which
 * `@tensorflow/tfjs-layers` loads too. A Sequential is a Layer: it can be a layer of another model.
 *
 * Inputs and labels are whole data sets as tensors whose first axis is the sample; fit cuts them
 * into batches. Memory needs no disposing: each step runs in a `scope` of @axon/tensor.
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
export class Sequential extends Model<Tensor> {
  /** The serialized class name. */
  static override className = 'Sequential';
  private readonly stack: Layer[] = [];
  /** The input shape from an InputLayer, when the model was given one. */
  private inputLayerShape: Shape | null = null;
  private builtInputShape: Shape | null = null;

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
    super({ name: args.name });
    if (args.layers !== undefined) {
      if (!Array.isArray(args.layers))
        throw new Error(`Sequential ${this.name}: layers must be an array of layers, got ${typeof args.layers}`);
      for (const layer of args.layers) this.add(layer);
    }
  }

  // ---- structure -----------------------------------------------------------------

  /** The layers, first to last (an InputLayer is not kept: it only declares the input shape). */
  override get layers(): Layer[] {
    return [...this.stack];
  }

  /**
   * Appends a layer (a model too); builds it at once when the input shape is known.
   *
   * @throws Error if layer is not a Layer, an InputLayer does not come first, another layer has
   *   the same name, or building it for the current output shape fails (the layer is then not added).
   */
  add(layer: Layer): void {
    if (!(layer instanceof Layer)) throw new Error(`Sequential ${this.name}: add() expects a Layer, got ${describe(layer)}`);
    if (layer instanceof InputLayer) {
      if (this.stack.length > 0 || this.inputLayerShape) {
        throw new Error(`Sequential ${this.name}: an InputLayer (${layer.name}) may only come first`);
      }
      this.inputLayerShape = [...layer.batchInputShape!];
      return;
    }
    if (layer === this) throw new Error(`Sequential ${this.name}: a model cannot be a layer of itself`);
    if (this.stack.some((l) => l.name === layer.name)) {
      throw new Error(`Sequential ${this.name}: a layer named '${layer.name}' is already in the model; layer names must be unique`);
    }
    this.stack.push(layer);
    const inputShape = this.declaredInputShape();
    if (inputShape) {
      try {
        this.buildLayers(inputShape);
      } catch (e) {
        this.stack.pop();
        throw e;
      }
    }
  }

  /** The batch input shape the model declares (InputLayer or the first layer's inputShape), if any. */
  declaredInputShape(): Shape | null {
    return this.inputLayerShape ?? this.stack[0]?.batchInputShape ?? null;
  }

  /** The batch input shape the model was built with (null dims are free). */
  get inputShape(): Shape | null {
    return this.builtInputShape ?? this.declaredInputShape();
  }

  /**
   * The output shape, computed layer by layer from the input shape.
   *
   * @throws Error before the input shape is known.
   */
  get outputShape(): Shape {
    const input = this.inputShape;
    if (!input)
      throw new Error(
        `Sequential ${this.name}: the output shape is unknown until the model is built (give the first layer an inputShape, or call build())`,
      );
    return this.layerOutputShapes(input).at(-1) ?? input;
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
  override build(inputShape?: Shape | Shape[]): void {
    const shape = (inputShape as Shape | undefined) ?? this.declaredInputShape();
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
    for (const layer of this.stack) {
      layer.ensureBuilt(shape);
      shape = layer.computeOutputShape(shape) as Shape;
    }
    this.builtInputShape = [...inputShape];
    this.built = this.stack.length > 0;
  }

  private layerOutputShapes(inputShape: Shape): Shape[] {
    const shapes: Shape[] = [];
    let shape: Shape = [...inputShape];
    for (const layer of this.stack) {
      shape = layer.computeOutputShape(shape) as Shape;
      shapes.push(shape);
    }
    return shapes;
  }

  /** The output shape for an input shape (as a layer of another model). */
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return this.layerOutputShapes(inputShape as Shape).at(-1) ?? (inputShape as Shape);
  }

  /** A Sequential has one input, named after the model. */
  override get inputNames(): string[] {
    return [`${this.name}_input`];
  }

  /** A Sequential has one output, named after its last layer. */
  override get outputNames(): string[] {
    return [this.stack.at(-1)?.name ?? this.name];
  }

  /** [the input shape], or [null] before it is known. */
  override get batchInputShapes(): (Shape | null)[] {
    return [this.inputShape];
  }

  /** [the output shape], building from the inputs' shape first when the model is not built. */
  override outputShapesFor(inputs: Tensor[]): Shape[] {
    if (!this.builtInputShape) this.buildLayers([null, ...inputs[0]!.shape.slice(1)]);
    return [this.outputShape];
  }

  /** 'the InputLayer' or 'the inputShape of layer <first>'. */
  override describeInput(_index: number): string {
    return this.inputLayerShape ? 'the InputLayer' : `the inputShape of layer ${this.stack[0]?.name}`;
  }

  protected override requireBuilt(method: string): void {
    if (this.stack.length === 0) throw new Error(`Sequential ${this.name}: ${method}() needs at least one layer; add() some first`);
    if (!this.built || !this.stack.every((l) => l.built)) {
      throw new Error(
        `Sequential ${this.name}: ${method}() needs a built model: give the first layer an inputShape, call build(), or fit/predict once`,
      );
    }
  }

  /**
   * Runs the layers on one batch, building them from its shape on first use; masks flow from
   * layer to layer, and each layer's output passes through `onLayerOutput` when given
   * ({@link Model.forward}).
   *
   * @throws Error if the model has no layers or a layer rejects its input.
   */
  override forward(inputs: Tensor[], training: boolean, onLayerOutput?: LayerOutputHook): Tensor[] {
    return [this.run(inputs[0]!, training, null, onLayerOutput)];
  }

  /** As a layer of another model: runs the stack on the input, with the incoming mask. */
  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs = {}): Tensor {
    return this.run(Array.isArray(inputs) ? inputs[0]! : inputs, kwargs.training ?? false, kwargs.mask ?? null);
  }

  private run(x: Tensor, training: boolean, mask: Tensor | null, onLayerOutput?: LayerOutputHook): Tensor {
    if (this.stack.length === 0) throw new Error(`Sequential ${this.name}: call() needs at least one layer; add() some first`);
    if (!this.builtInputShape) this.buildLayers([null, ...x.shape.slice(1)]);
    let y = x;
    for (const layer of this.stack) {
      const out = singleOutput(layer, layer.apply(y, { training, mask }));
      mask = layer.computeMask(y, mask);
      y = onLayerOutput ? onLayerOutput(layer, out, y) : out;
    }
    this.outputMask = mask;
    return y;
  }

  /** The mask the last run's final layer produced (Keras carries it on the tensor; a nested model hands it on here). */
  private outputMask: Tensor | null = null;

  /** The mask the stack's last layer produced in the latest call, as a layer of another model. */
  override computeMask(_inputs: Tensor | Tensor[], _mask?: Tensor | null): Tensor | null {
    return this.outputMask;
  }

  protected override summaryRows(): SummaryRow[] {
    const input = this.inputShape;
    const shapes = input ? this.layerOutputShapes(input) : null;
    return this.stack.map((layer, i) => ({ layer, outputShape: shapes ? formatShape(shapes[i]!) : 'unknown', connectedTo: null }));
  }

  // ---- serialization ---------------------------------------------------------------------

  /** The model config as TensorFlow.js' getConfig: {name, layers: [{className, config}]} (camelCase). */
  override getConfig(): {
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
    const layers = this.stack.map((l) => serializeLayer(l));
    const input = this.declaredInputShape() ?? this.builtInputShape;
    const first = layers[0];
    if (first && input && first.config.batchInputShape === undefined) first.config = { ...first.config, batchInputShape: [...input] };
    return { name: this.name, layers };
  }

  /**
   * A Sequential from {@link getConfig}'s form (camelCase, or Keras' snake_case as in a file), e.g.
   * as a layer of a saved functional model.
   *
   * @throws Error if `layers` is not an array or a layer cannot be made.
   */
  static override fromConfig<T extends Layer>(this: new (args: never) => T, config: Record<string, unknown>): T {
    const entries = config.layers;
    if (!Array.isArray(entries)) throw new Error(`Sequential config: layers must be an array, got ${typeof entries}`);
    const layers = (entries as { className?: string; class_name?: string; config?: Record<string, unknown> }[]).map((e) =>
      deserializeLayer({ className: (e.className ?? e.class_name)!, config: e.config ?? {} }),
    );
    return new Sequential({ layers, ...(typeof config.name === 'string' ? { name: config.name } : {}) }) as unknown as T;
  }
}
registerLayer(Sequential);

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
