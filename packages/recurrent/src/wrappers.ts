/** Bidirectional and TimeDistributed: layers that wrap another layer. */
import {
  Layer,
  deserializeLayer,
  formatShape,
  isSerializedObject,
  isShapeList,
  registerLayer,
  serializeLayer,
  type CallKwargs,
  type LayerArgs,
  type SerializedObject,
  type Shape,
} from '@axon/layers';
import { add, concat, gather, mul, reshape, type Tensor, type Variable } from '@axon/tensor';
import { RNN, featureSpec, type RNNCallKwargs } from './rnn.js';

/** How {@link Bidirectional} combines the forward and backward outputs: concatenated on the last axis, summed, multiplied or averaged. */
export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave';

/** Arguments of {@link Bidirectional} (Keras `Bidirectional`). */
export interface BidirectionalArgs extends LayerArgs {
  /** The recurrent layer to run both ways (it is cloned: this object itself is not used). */
  layer: RNN | SerializedObject;
  /** How to combine the two outputs (default 'concat'); null returns [forward, backward]. */
  mergeMode?: MergeMode | null;
  /** A different layer for the backward direction (default: a clone of `layer` with goBackwards flipped). */
  backwardLayer?: RNN | SerializedObject;
}

function toRnn(owner: string, option: string, value: unknown): RNN {
  const layer = isSerializedObject(value) ? deserializeLayer(value) : value;
  if (!(layer instanceof RNN))
    throw new Error(`Layer ${owner}: ${option} must be a recurrent layer (SimpleRNN, GRU, LSTM, RNN), got ${String(layer)}`);
  return layer;
}

/** A fresh copy of a layer from its config, with overrides. */
function cloneRnn(layer: RNN, overrides: Record<string, unknown>): RNN {
  return deserializeLayer({ className: layer.getClassName(), config: { ...layer.getConfig(), ...overrides } }) as RNN;
}

function reverseTime(y: Tensor): Tensor {
  const T = y.shape[1]!;
  return gather(
    y,
    Array.from({ length: T }, (_, t) => T - 1 - t),
    1,
  );
}

/**
 * Runs a recurrent layer forwards and a copy backwards over the same input and
 * merges the outputs (the backward sequence re-reversed to time order).
 * Weights: the forward layer's, then the backward layer's, named
 * `<bidirectional>/forward_<layer>/kernel`, ... With returnSequences, masked
 * steps output zeros (as Keras forces for Bidirectional).
 */
export class Bidirectional extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['layer', 'mergeMode', 'backwardLayer'];
  static override className = 'Bidirectional';
  /** The forward copy of the wrapped layer (named `forward_<layer>`). */
  readonly forwardLayer: RNN;
  /** The backward layer (named `backward_<layer>`). */
  readonly backwardLayer: RNN;
  /** How the outputs are combined; null returns both. */
  readonly mergeMode: MergeMode | null;
  /** The wrapped layer's returnSequences. */
  readonly returnSequences: boolean;
  /** The wrapped layer's returnState: the output is then followed by the forward and backward states. */
  readonly returnState: boolean;
  /** The wrapped layer's config, as given (serialized back unchanged). */
  private readonly layerConfig: SerializedObject;
  private readonly backwardConfig: SerializedObject | null;

  /**
   * @throws Error if layer (or backwardLayer) is not a recurrent layer, mergeMode is unknown, a
   *   layer is stateful, or the two directions disagree on goBackwards, returnSequences or returnState.
   */
  constructor(args: BidirectionalArgs) {
    const inner = toRnn(args?.name ?? 'bidirectional', 'layer', args?.layer);
    const declared = args.inputShape != null || args.batchInputShape != null;
    super(declared || !inner.batchInputShape ? args : { ...args, batchInputShape: inner.batchInputShape });
    const mode = args.mergeMode === undefined ? 'concat' : args.mergeMode;
    if (mode !== null && !['concat', 'sum', 'mul', 'ave'].includes(mode)) {
      throw new Error(`Layer ${this.name}: mergeMode must be 'concat', 'sum', 'mul', 'ave' or null, got ${JSON.stringify(args.mergeMode)}`);
    }
    this.mergeMode = mode;
    this.layerConfig = serializeLayer(inner);
    this.forwardLayer = cloneRnn(inner, { name: `forward_${inner.name}` });
    if (args.backwardLayer !== undefined && args.backwardLayer !== null) {
      const back = toRnn(this.name, 'backwardLayer', args.backwardLayer);
      this.backwardConfig = serializeLayer(back);
      this.backwardLayer = cloneRnn(back, { name: `backward_${back.name}` });
      if (back.goBackwards === inner.goBackwards)
        throw new Error(`Layer ${this.name}: backwardLayer must have goBackwards opposite to layer's`);
    } else {
      this.backwardConfig = null;
      this.backwardLayer = cloneRnn(inner, { name: `backward_${inner.name}`, goBackwards: !inner.goBackwards });
    }
    for (const l of [this.forwardLayer, this.backwardLayer]) {
      if (l.stateful) throw new Error(`Layer ${this.name}: stateful layers are not supported inside Bidirectional`);
      l.zeroOutputForMask = l.returnSequences;
    }
    if (
      this.forwardLayer.returnSequences !== this.backwardLayer.returnSequences ||
      this.forwardLayer.returnState !== this.backwardLayer.returnState
    ) {
      throw new Error(`Layer ${this.name}: the forward and backward layers must agree on returnSequences and returnState`);
    }
    this.returnSequences = this.forwardLayer.returnSequences;
    this.returnState = this.forwardLayer.returnState;
    this.supportsMasking = true;
    this.forwardLayer.trainable = this.backwardLayer.trainable = this._trainable;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = isShapeList(inputShape) ? inputShape[0]! : inputShape;
    for (const l of [this.forwardLayer, this.backwardLayer]) {
      if (!l.built) {
        l.build(shape);
        l.built = true;
        for (const w of l.weights) w.name = `${this.name}/${w.name}`;
      }
    }
    this.inputSpec = [featureSpec(shape[2])];
    this.built = true;
  }

  /** Only the sequence is checked against inputSpec; extra inputs are initial states. */
  protected override assertInputCompatibility(inputs: Tensor[]): void {
    super.assertInputCompatibility(inputs.slice(0, 1));
  }

  override call(inputs: Tensor | Tensor[], kwargs: RNNCallKwargs): Tensor | Tensor[] {
    const [x, ...extra] = Array.isArray(inputs) ? inputs : [inputs];
    const given = kwargs.initialState ?? (extra.length ? extra : null);
    const states = given === null ? null : Array.isArray(given) ? given : [given];
    const n = this.forwardLayer.cell.stateSize.length;
    if (states && states.length !== 2 * n) {
      throw new Error(`Layer ${this.name}: expected ${2 * n} initial states (forward then backward), got ${states.length}`);
    }
    const run = (layer: RNN, initialState: Tensor[] | null): Tensor[] => {
      const out = layer.apply(x!, { ...kwargs, initialState });
      return Array.isArray(out) ? out : [out];
    };
    const [yf, ...sf] = run(this.forwardLayer, states ? states.slice(0, n) : null);
    const [yb0, ...sb] = run(this.backwardLayer, states ? states.slice(n) : null);
    const yb = this.returnSequences ? reverseTime(yb0!) : yb0!;
    const merged = this.merge(yf!, yb);
    const outputs = Array.isArray(merged) ? merged : [merged];
    return this.returnState || outputs.length > 1 ? [...outputs, ...(this.returnState ? [...sf, ...sb] : [])] : outputs[0]!;
  }

  private merge(f: Tensor, b: Tensor): Tensor | Tensor[] {
    switch (this.mergeMode) {
      case 'concat':
        return concat([f, b], -1);
      case 'sum':
        return add(f, b);
      case 'mul':
        return mul(f, b);
      case 'ave':
        return mul(add(f, b), 0.5);
      default:
        return [f, b];
    }
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const single = this.forwardLayer.computeOutputShape(inputShape);
    const [out, ...stateShapes] = (this.returnState ? single : [single]) as Shape[];
    const merged: Shape[] =
      this.mergeMode === 'concat'
        ? [[...out!.slice(0, -1), out![out!.length - 1]! * 2]]
        : this.mergeMode === null
          ? [out!, [...out!]]
          : [out!];
    const all = [...merged, ...(this.returnState ? [...stateShapes, ...stateShapes] : [])];
    return all.length === 1 ? all[0]! : all;
  }

  override computeMask(_inputs: Tensor | Tensor[], mask?: Tensor | null): Tensor | null {
    return this.returnSequences ? (mask ?? null) : null;
  }

  override get trainable(): boolean {
    return this._trainable;
  }

  override set trainable(value: boolean) {
    this._trainable = value;
    this.forwardLayer.trainable = value;
    this.backwardLayer.trainable = value;
  }

  override get trainableWeights(): Variable[] {
    return [...this.forwardLayer.trainableWeights, ...this.backwardLayer.trainableWeights];
  }

  override get nonTrainableWeights(): Variable[] {
    return [...this.forwardLayer.nonTrainableWeights, ...this.backwardLayer.nonTrainableWeights];
  }

  override regularizationLosses(): Tensor[] {
    return [...this.forwardLayer.regularizationLosses(), ...this.backwardLayer.regularizationLosses(), ...super.regularizationLosses()];
  }

  override getConfig(): Record<string, unknown> {
    return {
      layer: this.layerConfig,
      mergeMode: this.mergeMode,
      ...(this.backwardConfig ? { backwardLayer: this.backwardConfig } : {}),
      ...super.getConfig(),
    };
  }
}
registerLayer(Bidirectional);

/** Arguments of {@link TimeDistributed}. */
export interface TimeDistributedArgs extends LayerArgs {
  /** The layer applied to every timestep. */
  layer: Layer | SerializedObject;
}

/**
 * Applies a layer to every timestep: [batch, timesteps, ...] → the layer on [batch*timesteps, ...].
 * The wrapped layer's weights are named after the wrapper (`time_distributed_1/kernel`), as in
 * Keras 2 and TensorFlow.js.
 */
export class TimeDistributed extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['layer'];
  static override className = 'TimeDistributed';
  /** The wrapped layer. */
  readonly layer: Layer;

  /** @throws Error if layer is not a Layer (or a serialized one). */
  constructor(args: TimeDistributedArgs) {
    const inner = args?.layer;
    const layer = isSerializedObject(inner) ? deserializeLayer(inner) : inner;
    if (!(layer instanceof Layer))
      throw new Error(`Layer ${args?.name ?? 'time_distributed'}: layer must be a Layer, got ${String(layer)}`);
    super(args);
    this.layer = layer;
    this.supportsMasking = true;
  }

  private innerShape(shape: Shape): Shape {
    if (shape.length < 3)
      throw new Error(`Layer ${this.name}: expected an input of rank >= 3 [batch, timesteps, ...], got shape ${formatShape(shape)}`);
    return [shape[0] == null || shape[1] == null ? null : shape[0] * shape[1], ...shape.slice(2)];
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = isShapeList(inputShape) ? inputShape[0]! : inputShape;
    if (!this.layer.built) {
      this.layer.build(this.innerShape(shape));
      this.layer.built = true;
    }
    // Keras 2 and TensorFlow.js name the wrapped layer's weights after the
    // wrapper (`time_distributed_1/kernel`), so files load both ways.
    const prefix = `${this.layer.name}/`;
    for (const w of this.layer.weights) {
      if (w.name.startsWith(prefix)) w.name = `${this.name}/${w.name.slice(prefix.length)}`;
    }
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs): Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    this.innerShape([...x.shape]);
    const [B, T] = x.shape as [number, number];
    const y = this.layer.apply(reshape(x, [B * T, ...x.shape.slice(2)]), { training: kwargs.training });
    if (Array.isArray(y)) throw new Error(`Layer ${this.name}: the wrapped layer must return one tensor`);
    return reshape(y, [B, T, ...y.shape.slice(1)]);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = isShapeList(inputShape) ? inputShape[0]! : inputShape;
    const inner = this.layer.computeOutputShape(this.innerShape(shape)) as Shape;
    return [shape[0] ?? null, shape[1] ?? null, ...inner.slice(1)];
  }

  override computeMask(_inputs: Tensor | Tensor[], mask?: Tensor | null): Tensor | null {
    return mask ?? null;
  }

  override get trainable(): boolean {
    return this._trainable;
  }

  override set trainable(value: boolean) {
    this._trainable = value;
    this.layer.trainable = value;
  }

  override get trainableWeights(): Variable[] {
    return this.layer.trainableWeights;
  }

  override get nonTrainableWeights(): Variable[] {
    return this.layer.nonTrainableWeights;
  }

  override regularizationLosses(): Tensor[] {
    return [...this.layer.regularizationLosses(), ...super.regularizationLosses()];
  }

  override getConfig(): Record<string, unknown> {
    return { layer: serializeLayer(this.layer), ...super.getConfig() };
  }
}
registerLayer(TimeDistributed);

/**
 * A {@link Bidirectional} wrapper (Keras `layers.Bidirectional`).
 *
 * @throws Error as the {@link Bidirectional} constructor does.
 *
 * @example
 * ```ts
 * // [b, 50] word indices → [b, 50, 32] embeddings → [b, 2·64] (both directions' last outputs, concatenated)
 * [embedding({ inputDim: 5000, outputDim: 32, maskZero: true, inputLength: 50 }), bidirectional({ layer: lstm({ units: 64 }) })];
 * ```
 */
export const bidirectional = (args: BidirectionalArgs): Bidirectional => new Bidirectional(args);
/**
 * A {@link TimeDistributed} wrapper (Keras `layers.TimeDistributed`).
 *
 * @example
 * ```ts
 * // A per-timestep classifier after a sequence-returning LSTM: [b, T, 32] → [b, T, 5]
 * [lstm({ units: 32, returnSequences: true, inputShape: [null, 8] }), timeDistributed({ layer: dense({ units: 5, activation: 'softmax' }) })];
 * ```
 */
export const timeDistributed = (args: TimeDistributedArgs): TimeDistributed => new TimeDistributed(args);
