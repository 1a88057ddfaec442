/**
 * The RNN layer over a cell, and SimpleRNN, GRU and LSTM (an RNN over the
 * matching cell, with the cell's options flattened into the layer's, as
 * Keras and TensorFlow.js do). Weights are the cell's, named after the layer
 * (`lstm_1/kernel`, `lstm_1/recurrent_kernel`, `lstm_1/bias`).
 */
import {
  LAYER_OPTIONS,
  bool,
  positiveInteger,
  type SymbolicTensor,
  isSymbolic,
  checkOptions,
  isFromConfig,
  Layer,
  formatShape,
  isShapeList,
  registerLayer,
  regularizerOption,
  serializeLayer,
  uniqueLayerName,
  type CallKwargs,
  type LayerArgs,
  serializeRegularizer,
  type InputSpec,
  type RegularizerIdentifier,
  type SerializedObject,
  type Shape,
} from '@axon/layers';
import { Tensor, clone, keep, noGrad, reshape, slice, stack, where, zeros, type RnnSequenceResult, type Variable } from '@axon/tensor';
import {
  CELL_OPTIONS,
  GRUCell,
  LSTMCell,
  type RNNCell,
  SimpleRNNCell,
  StackedRNNCells,
  toCell,
  type GRUCellArgs,
  type LSTMCellArgs,
  type SequenceOptions,
  type SimpleRNNCellArgs,
} from './cells.js';

/** The options of every recurrent layer (BaseRNNArgs). */
const BASE_RNN_OPTIONS = [
  'returnSequences',
  'returnState',
  'goBackwards',
  'stateful',
  'unroll',
  'inputDim',
  'inputLength',
  'zeroOutputForMask',
  'activityRegularizer',
] as const;

/** The options every recurrent layer takes (Keras' RNN arguments), besides its cell's. */
export interface BaseRNNArgs extends LayerArgs {
  /** Return the output of every step [batch, timesteps, units] (default: only the last, [batch, units]). */
  returnSequences?: boolean;
  /** Also return the final states: the layer then returns [output, ...states]. */
  returnState?: boolean;
  /** Process the sequence backwards; the output sequence is then reversed, as in Keras. */
  goBackwards?: boolean;
  /** Carry the final states of a batch over as the initial states of the next (needs a fixed batch size). */
  stateful?: boolean;
  /** Accepted for compatibility; Axon never unrolls (the sequence is one fused op). */
  unroll?: boolean;
  /** Shortcut for the feature size of inputShape. */
  inputDim?: number;
  /** Shortcut for the timesteps of inputShape. */
  inputLength?: number;
  /** Masked steps output zeros instead of the previous output (Bidirectional sets it; not serialized, as in Keras). */
  zeroOutputForMask?: boolean;
  /** Penalty on the layer's output, added to the loss. */
  activityRegularizer?: RegularizerIdentifier | null;
}

/** Arguments of the generic {@link RNN} layer: the cell and the RNN options. */
export interface RNNArgs extends BaseRNNArgs {
  /** A cell, a list of cells (stacked), or a serialized cell. */
  cell: RNNCell | RNNCell[] | SerializedObject;
}

/** Keyword arguments of an RNN call: the Layer ones plus initial states. */
export interface RNNCallKwargs extends CallKwargs {
  /** The initial states, each [batch, units] (LSTM: [h, c]); default zeros (or the carried states of a stateful layer). */
  initialState?: Tensor | Tensor[] | null;
}

function withInputShape<T extends BaseRNNArgs>(args: T): T {
  // Checked even where inputShape wins, so that a wrong value is never ignored without a word.
  for (const option of ['inputDim', 'inputLength'] as const) {
    if (args?.[option] != null) positiveInteger(args.name ?? 'RNN', option, args[option]);
  }
  if (!args || args.inputShape != null || args.batchInputShape != null) return args;
  if (args.inputDim == null && args.inputLength == null) return args;
  return { ...args, inputShape: [args.inputLength ?? null, args.inputDim ?? null] as Shape };
}

/**
 * Runs a cell over the time axis of a [batch, timesteps, features] input.
 * Masks (from Embedding({maskZero}) or Masking) skip steps per sample:
 * states are carried over and the output repeats the previous one.
 */
export class RNN extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [...BASE_RNN_OPTIONS, 'cell'];
  static override className = 'RNN';
  /** The cell run at each step (its weights are the layer's). */
  readonly cell: RNNCell;
  /** Whether the output holds every step ([batch, timesteps, units]) or only the last ([batch, units]). */
  readonly returnSequences: boolean;
  /** Whether the layer returns [output, ...finalStates]. */
  readonly returnState: boolean;
  /** Whether the sequence is processed from the last step to the first. */
  readonly goBackwards: boolean;
  /** Recorded for compatibility; has no effect. */
  readonly unroll: boolean;
  /** Whether masked steps output zeros rather than the previous output. */
  zeroOutputForMask: boolean;
  /** The carried states of a stateful layer (null until the first call or after resetStates()). */
  states: Tensor[] | null = null;

  /**
   * @throws Error if the cell is missing or not a cell, an option has the wrong type, or the layer
   *   is stateful without a fixed batch size.
   */
  constructor(args: RNNArgs) {
    super(withInputShape(args ?? ({} as RNNArgs)));
    const cell = args?.cell;
    if (cell === undefined || cell === null) throw new Error(`Layer ${this.name}: the cell option is required`);
    this.cell = Array.isArray(cell) ? new StackedRNNCells({ cells: cell }) : toCell(this.name, 'cell', cell);
    this.returnSequences = bool(this.name, 'returnSequences', args.returnSequences, false);
    this.returnState = bool(this.name, 'returnState', args.returnState, false);
    this.goBackwards = bool(this.name, 'goBackwards', args.goBackwards, false);
    this.stateful = bool(this.name, 'stateful', args.stateful, false);
    this.unroll = bool(this.name, 'unroll', args.unroll, false);
    this.zeroOutputForMask = bool(this.name, 'zeroOutputForMask', args.zeroOutputForMask, false);
    this.supportsMasking = true;
    this.activityRegularizer = regularizerOption(this.name, 'activityRegularizer', args.activityRegularizer);
    this.cell.trainable = this._trainable;
    if (this.stateful && this.batchInputShape?.[0] == null) {
      throw new Error(`Layer ${this.name}: a stateful RNN needs a fixed batch size: give batchInputShape (or inputShape with batchSize)`);
    }
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = isShapeList(inputShape) ? inputShape[0]! : inputShape;
    if (shape.length !== 3)
      throw new Error(`Layer ${this.name}: expected input of rank 3 [batch, timesteps, features], got shape ${formatShape(shape)}`);
    if (!this.cell.built) this.cell.build([shape[0] ?? null, shape[2] ?? null]);
    this.cell.built = true;
    // Later calls are checked against the built feature size by the Layer base (the error names the layer).
    this.inputSpec = [featureSpec(shape[2])];
    this.built = true;
  }

  /** Only the sequence is checked against inputSpec; extra inputs are initial states (checkStates). */
  protected override assertInputCompatibility(inputs: Tensor[]): void {
    super.assertInputCompatibility(inputs.slice(0, 1));
  }

  /** A stateful layer checks the batch size first, so the error says why it is fixed. */
  override apply(inputs: Tensor, kwargs?: RNNCallKwargs): Tensor | Tensor[];
  override apply(inputs: Tensor[], kwargs?: RNNCallKwargs): Tensor | Tensor[];
  override apply(inputs: Tensor | Tensor[], kwargs?: RNNCallKwargs): Tensor | Tensor[];
  override apply(inputs: SymbolicTensor | SymbolicTensor[], kwargs?: RNNCallKwargs): SymbolicTensor | SymbolicTensor[];
  override apply(
    inputs: Tensor | Tensor[] | SymbolicTensor | SymbolicTensor[],
    kwargs: RNNCallKwargs = {},
  ): Tensor | Tensor[] | SymbolicTensor | SymbolicTensor[] {
    if (isSymbolic(Array.isArray(inputs) ? inputs[0] : inputs)) return super.apply(inputs as SymbolicTensor | SymbolicTensor[], kwargs);
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const batch = this.batchInputShape?.[0];
    if (this.stateful && x instanceof Tensor && x.rank > 0 && batch != null && x.shape[0] !== batch) {
      throw new Error(statefulBatchMessage(this.name, batch, x.shape[0]!));
    }
    return super.apply(inputs as Tensor | Tensor[], kwargs);
  }

  override call(inputs: Tensor | Tensor[], kwargs: RNNCallKwargs): Tensor | Tensor[] {
    const [x, ...extra] = Array.isArray(inputs) ? inputs : [inputs];
    if (x?.rank !== 3)
      throw new Error(
        `Layer ${this.name}: expected input of rank 3 [batch, timesteps, features], got ${x ? `shape ${formatShape(x.shape)}` : 'nothing'}`,
      );
    const given = kwargs.initialState ?? (extra.length ? extra : null);
    let initialState = given === null ? null : Array.isArray(given) ? given : [given];
    if (initialState === null && this.stateful) initialState = this.statesFor(x.shape[0]!);
    if (initialState) this.checkStates(initialState, x.shape[0]!);
    const mask = kwargs.mask ?? null;
    if (mask && (mask.rank !== 2 || mask.shape[0] !== x.shape[0] || mask.shape[1] !== x.shape[1])) {
      throw new Error(
        `Layer ${this.name}: the mask must be [batch, timesteps] = [${x.shape[0]}, ${x.shape[1]}], got ${formatShape(mask.shape)}`,
      );
    }
    this.cell.resetDropoutMasks();
    const options: SequenceOptions = {
      initialState,
      mask,
      goBackwards: this.goBackwards,
      returnSequences: this.returnSequences,
      zeroOutputForMask: this.zeroOutputForMask,
      training: kwargs.training === true,
    };
    const result = this.cell.sequence(x, options) ?? this.loop(x, options);
    // The states outlive this step (and the step's scope): copies of their own, kept.
    if (this.stateful) this.states = noGrad(() => result.states.map((s) => keep(clone(s))));
    return this.returnState ? [result.output, ...result.states] : result.output;
  }

  /** The step loop for cells without a sequence op (custom cells). */
  private loop(x: Tensor, o: SequenceOptions): RnnSequenceResult {
    const [B, T, I] = x.shape as [number, number, number];
    let states = o.initialState ?? this.cell.stateSize.map((n) => zeros([B, n]));
    const zero = zeros([B, this.cell.outputSize]);
    let previous = zero;
    const outputs: Tensor[] = [];
    for (let s = 0; s < T; s++) {
      const t = o.goBackwards ? T - 1 - s : s;
      const xt = reshape(slice(x, [0, t, 0], [B, 1, I]), [B, I]);
      const [out, ...next] = this.cell.call([xt, ...states], { training: o.training ?? false });
      let y = out!;
      if (o.mask) {
        const m = slice(o.mask, [0, t], [B, 1]);
        y = where(m, y, o.zeroOutputForMask ? zero : previous);
        const old = states;
        states = next.map((n, i) => where(m, n, old[i]!));
      } else {
        states = next;
      }
      outputs.push(y);
      previous = y;
    }
    const output = o.returnSequences ? stack(outputs, 1) : previous;
    return { output, states };
  }

  private statesFor(batch: number): Tensor[] {
    // Kept: states live across steps (and their scopes) until replaced.
    this.states ??= this.cell.stateSize.map((n) => keep(zeros([batch, n])));
    const carried = this.states[0]?.shape[0];
    if (carried !== undefined && carried !== batch) throw new Error(statefulBatchMessage(this.name, carried, batch));
    return this.states;
  }

  private checkStates(states: Tensor[], batch: number): void {
    const sizes = this.cell.stateSize;
    if (states.length !== sizes.length)
      throw new Error(`Layer ${this.name}: expected ${sizes.length} initial state(s), got ${states.length}`);
    states.forEach((s, i) => {
      if (!(s instanceof Tensor) || s.rank !== 2 || s.shape[0] !== batch || s.shape[1] !== sizes[i]) {
        throw new Error(
          `Layer ${this.name}: initial state ${i} must be [${batch}, ${sizes[i]}], got ${s instanceof Tensor ? formatShape(s.shape) : String(s)}`,
        );
      }
    });
  }

  /**
   * Zeros the states of a stateful layer, or sets them to `states`.
   *
   * @throws Error if the layer is not stateful, or the states' count or shapes are wrong.
   */
  override resetStates(states?: Tensor | Tensor[]): void {
    if (!this.stateful) throw new Error(`Layer ${this.name} is not stateful: resetStates() applies only to stateful recurrent layers`);
    if (states === undefined) {
      const batch = this.batchInputShape?.[0];
      this.states = batch == null ? null : this.cell.stateSize.map((n) => keep(zeros([batch, n])));
      return;
    }
    const list = Array.isArray(states) ? states : [states];
    const batch = this.batchInputShape?.[0] ?? list[0]?.shape[0] ?? 0;
    const given = list[0] instanceof Tensor ? list[0].shape[0] : undefined;
    if (given !== undefined && given !== batch) {
      throw new Error(`Layer ${this.name} is stateful with batch size ${batch}; resetStates() got states for a batch of ${given}`);
    }
    this.checkStates(list, batch);
    this.states = list.map((s) => keep(s));
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const shape = isShapeList(inputShape) ? inputShape[0]! : inputShape;
    const batch = shape[0] ?? null;
    const out: Shape = this.returnSequences ? [batch, shape[1] ?? null, this.cell.outputSize] : [batch, this.cell.outputSize];
    return this.returnState ? [out, ...this.cell.stateSize.map((n) => [batch, n] as Shape)] : out;
  }

  override computeMask(_inputs: Tensor | Tensor[], mask?: Tensor | null): Tensor | null {
    return this.returnSequences ? (mask ?? null) : null;
  }

  // The weights are the cell's.
  override get trainable(): boolean {
    return this._trainable;
  }

  override set trainable(value: boolean) {
    this._trainable = value;
    this.cell.trainable = value;
  }

  override get trainableWeights(): Variable[] {
    return this.trainable ? this.cell.trainableWeights : [];
  }

  override get nonTrainableWeights(): Variable[] {
    return this.trainable ? this.cell.nonTrainableWeights : this.cell.weights;
  }

  override regularizationLosses(): Tensor[] {
    return [...this.cell.regularizationLosses(), ...super.regularizationLosses()];
  }

  /** The RNN options as TensorFlow.js serializes them. */
  protected rnnConfig(): Record<string, unknown> {
    return {
      returnSequences: this.returnSequences,
      returnState: this.returnState,
      goBackwards: this.goBackwards,
      stateful: this.stateful,
      unroll: this.unroll,
      activityRegularizer: serializeRegularizer(this.activityRegularizer),
    };
  }

  override getConfig(): Record<string, unknown> {
    return { cell: serializeLayer(this.cell), ...this.rnnConfig(), ...super.getConfig() };
  }
}
registerLayer(RNN);

/** The input spec of a recurrent layer: rank 3, and the feature size once known. */
export function featureSpec(features: number | null | undefined): InputSpec {
  return features == null ? { ndim: 3 } : { ndim: 3, axes: { [-1]: features } };
}

function statefulBatchMessage(layer: string, batch: number, got: number): string {
  return (
    `Layer ${layer} is stateful with batch size ${batch}; got a batch of ${got} ` +
    '(call resetStates() or use batchInputShape with the batch size you feed)'
  );
}

/** A layer that owns a built-in cell of its own name, so its weights are `<layer>/kernel` etc. */
function ownCell<A extends LayerArgs>(
  prefix: string,
  args: A,
  make: (cellArgs: A & { name: string }) => RNNCell,
): { name: string; cell: RNNCell } {
  const name = args?.name ?? uniqueLayerName(prefix);
  const {
    inputShape: _i,
    batchInputShape: _b,
    batchSize: _s,
    weights: _w,
    activityRegularizer: _a,
    // The RNN's own options stay with the RNN: the cell refuses options it does not know.
    returnSequences: _rs,
    returnState: _rst,
    goBackwards: _g,
    stateful: _st,
    unroll: _u,
    inputDim: _id,
    inputLength: _il,
    zeroOutputForMask: _z,
    ...cellArgs
  } = (args ?? {}) as A & BaseRNNArgs;
  return { name, cell: make({ ...(cellArgs as A), name }) };
}

/** The RNN part of a flattened layer config. */
/**
 * The unknown-option check of SimpleRNN, GRU and LSTM, made in their constructors before the cell
 * is built from the arguments (the base class sees them with the cell added). Saved configs pass.
 */
function checkRnnOptions(layer: string, args: object, own: readonly string[]): void {
  if (!isFromConfig(args)) checkOptions(layer, args, [...LAYER_OPTIONS, ...own]);
}

function rnnArgs<A extends BaseRNNArgs>(args: A, name: string, cell: RNNCell): RNNArgs {
  return { ...args, name, cell };
}

/** The cell options of a flattened config (everything the cell's getConfig holds, minus Layer basics). */
function cellConfig(cell: RNNCell): Record<string, unknown> {
  const { name: _n, trainable: _t, dtype: _d, batchInputShape: _b, ...rest } = cell.getConfig();
  return rest;
}

/** Arguments of {@link SimpleRNN} (Keras `SimpleRNN`): the cell options and the RNN options in one object. */
export interface SimpleRNNArgs extends BaseRNNArgs, SimpleRNNCellArgs {}

/**
 * Fully connected RNN (Keras `SimpleRNN`): h = activation(x·W + b + h'·U), over an input
 * [batch, timesteps, features]. Weights `<name>/kernel` [features, units],
 * `<name>/recurrent_kernel` [units, units], `<name>/bias` [units]. Make one with {@link simpleRNN}.
 */
export class SimpleRNN extends RNN {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly options: readonly string[] = [...BASE_RNN_OPTIONS, ...CELL_OPTIONS];
  static override className = 'SimpleRNN';

  /** @throws Error as the {@link RNN} and {@link SimpleRNNCell} constructors do. */
  constructor(args: SimpleRNNArgs) {
    checkRnnOptions('SimpleRNN', args, SimpleRNN.options);
    const { name, cell } = ownCell('simple_rnn', args, (a) => new SimpleRNNCell(a));
    super(rnnArgs(args, name, cell));
  }

  override getConfig(): Record<string, unknown> {
    return { ...cellConfig(this.cell), ...this.rnnConfig(), ...layerBasics(this) };
  }
}
registerLayer(SimpleRNN);

/** Arguments of {@link GRU} (Keras `GRU`): the cell options and the RNN options in one object. */
export interface GRUArgs extends BaseRNNArgs, GRUCellArgs {}

/**
 * Gated recurrent unit (Keras: gates z, r, h; resetAfter true by default), over an input
 * [batch, timesteps, features]. Weights `<name>/kernel` [features, 3·units],
 * `<name>/recurrent_kernel` [units, 3·units], `<name>/bias` [2, 3·units] ([3·units] without
 * resetAfter). Make one with {@link gru}.
 */
export class GRU extends RNN {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly options: readonly string[] = [
    ...BASE_RNN_OPTIONS,
    ...CELL_OPTIONS,
    'recurrentActivation',
    'resetAfter',
    'implementation',
  ];
  static override className = 'GRU';

  /** @throws Error as the {@link RNN} and {@link GRUCell} constructors do. */
  constructor(args: GRUArgs) {
    checkRnnOptions('GRU', args, GRU.options);
    const { name, cell } = ownCell('gru', args, (a) => new GRUCell(a));
    super(rnnArgs(args, name, cell));
  }

  /** TensorFlow.js' GRU has no resetAfter (it computes resetAfter = false), so a config without it means false. */
  static override fromConfig<T extends Layer>(this: new (args: never) => T, config: Record<string, unknown>): T {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass fromConfig was called on
    return (Layer.fromConfig as (this: unknown, c: Record<string, unknown>) => T).call(this, { resetAfter: false, ...config });
  }

  override getConfig(): Record<string, unknown> {
    return { ...cellConfig(this.cell), ...this.rnnConfig(), ...layerBasics(this) };
  }
}
registerLayer(GRU);

/** Arguments of {@link LSTM} (Keras `LSTM`): the cell options and the RNN options in one object. */
export interface LSTMArgs extends BaseRNNArgs, LSTMCellArgs {}

/**
 * Long short-term memory (Keras: gates i, f, c, o; unitForgetBias true by default), over an input
 * [batch, timesteps, features]. Weights `<name>/kernel` [features, 4·units],
 * `<name>/recurrent_kernel` [units, 4·units], `<name>/bias` [4·units]. Make one with {@link lstm}.
 */
export class LSTM extends RNN {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly options: readonly string[] = [
    ...BASE_RNN_OPTIONS,
    ...CELL_OPTIONS,
    'recurrentActivation',
    'unitForgetBias',
    'implementation',
  ];
  static override className = 'LSTM';

  /** @throws Error as the {@link RNN} and {@link LSTMCell} constructors do. */
  constructor(args: LSTMArgs) {
    checkRnnOptions('LSTM', args, LSTM.options);
    const { name, cell } = ownCell('lstm', args, (a) => new LSTMCell(a));
    super(rnnArgs(args, name, cell));
  }

  override getConfig(): Record<string, unknown> {
    return { ...cellConfig(this.cell), ...this.rnnConfig(), ...layerBasics(this) };
  }
}
registerLayer(LSTM);

/** name, trainable, batchInputShape, dtype: the Layer part of the RNN's own config. */
function layerBasics(layer: RNN): Record<string, unknown> {
  return Layer.prototype.getConfig.call(layer);
}

/**
 * A generic {@link RNN} layer over a cell, or over a list of cells (stacked). Keras `layers.RNN`.
 *
 * @throws Error as the {@link RNN} constructor does.
 *
 * @example
 * ```ts
 * rnn({ cell: [gruCell({ units: 32 }), gruCell({ units: 32 })], returnSequences: true, inputShape: [null, 8] });
 * ```
 */
export const rnn = (args: RNNArgs): RNN => new RNN(args);
/**
 * A {@link SimpleRNN} layer (Keras `layers.SimpleRNN`).
 *
 * @throws Error if units is not a positive integer, a rate is outside [0, 1), or an option is invalid.
 *
 * @example
 * ```ts
 * const model = new Sequential({
 *   layers: [simpleRNN({ units: 16, inputShape: [10, 3] }), dense({ units: 1 })], // [b, 10, 3] → [b, 16] → [b, 1]
 * });
 * ```
 */
export const simpleRNN = (args: SimpleRNNArgs): SimpleRNN => new SimpleRNN(args);
/**
 * A {@link GRU} layer (Keras `layers.GRU`, resetAfter true by default as Keras 2).
 *
 * @throws Error if units is not a positive integer, a rate is outside [0, 1), or an option is invalid.
 *
 * @example
 * ```ts
 * const model = new Sequential({
 *   layers: [
 *     gru({ units: 32, returnSequences: true, inputShape: [null, 8] }), // any number of timesteps
 *     gru({ units: 16, dropout: 0.2 }),
 *     dense({ units: 1 }),
 *   ],
 * });
 * ```
 */
export const gru = (args: GRUArgs): GRU => new GRU(args);
/**
 * An {@link LSTM} layer (Keras `layers.LSTM`). Input [batch, timesteps, features]; output
 * [batch, units], or [batch, timesteps, units] with returnSequences; with returnState the layer
 * returns [output, h, c].
 *
 * @throws Error if units is not a positive integer, a rate is outside [0, 1), or an option is invalid.
 *
 * @example
 * ```ts
 * import '@axon/kernels-native';
 * import { dense } from '@axon/layers';
 * import { Sequential } from '@axon/models';
 * import { lstm } from '@axon/recurrent';
 * import { randomNormal } from '@axon/tensor';
 *
 * const model = new Sequential({
 *   layers: [lstm({ units: 32, inputShape: [20, 8] }), dense({ units: 1 })],
 * });
 * model.compile({ optimizer: 'adam', loss: 'mse' });
 * await model.fit(randomNormal([64, 20, 8]), randomNormal([64, 1]), { epochs: 2, batchSize: 16 });
 * ```
 */
export const lstm = (args: LSTMArgs): LSTM => new LSTM(args);
