/**
 * Recurrent cells, as Keras and TensorFlow.js define them: a cell is a layer
 * that maps one timestep's input and the previous states to an output and
 * new states. SimpleRNNCell, GRUCell and LSTMCell also run a whole sequence
 * in one op (lstmSequence etc. from @axon/tensor, fused in the backend when
 * it can), which the RNN layer prefers to a step loop.
 */
import {
  Initializer,
  Layer,
  bool,
  deserializeLayer,
  initializerOption,
  isSerializedObject,
  positiveInteger,
  registerLayer,
  regularizerOption,
  rejectConstraint,
  serializeInitializer,
  serializeLayer,
  serializeRegularizer,
  singleShape,
  type ActivationIdentifier,
  type CallKwargs,
  type InitializerIdentifier,
  type LayerArgs,
  type RegularizerIdentifier,
  type SerializedObject,
  type Shape,
} from '@axon/layers';
import {
  concat,
  expandDims,
  gather,
  greaterEqual,
  gruSequence,
  keep,
  lstmSequence,
  mul,
  ones,
  randomUniform,
  reshape,
  simpleRnnSequence,
  type GruSequenceOptions,
  type RnnSequenceOptions,
  type RnnSequenceResult,
  type Tensor,
  type Variable,
} from '@axon/tensor';
import { activationOption, forOp, rate, type RecurrentActivation } from './options.js';

/** Options of a whole-sequence run, as the RNN layer passes them to its cell. */
export interface SequenceOptions {
  /** The initial states, one [B, s] per state (LSTM: [h, c]); null = zeros. */
  initialState?: Tensor[] | null;
  /** [B, T] (time order): 0 skips the step for that sample. */
  mask?: Tensor | null;
  /** Process the last step first (the output sequence is then in processing order). */
  goBackwards?: boolean;
  /** Output every step ([B, T, units]) rather than the last ([B, units]). */
  returnSequences?: boolean;
  /** Masked steps output zeros rather than the previous output. */
  zeroOutputForMask?: boolean;
  /** Training mode: dropout applies. */
  training?: boolean;
}

/**
 * The base of every cell: one step, `call([x, ...states])` → `[output, ...newStates]`. A custom
 * cell implements stateSize and call (and build for its weights); the {@link RNN} layer then
 * steps it through the sequence.
 */
export abstract class RNNCell extends Layer {
  static override className = 'RNNCell';

  /** Size of each state (LSTM: [units, units]). */
  abstract get stateSize(): number[];

  /** Size of the output (the first state's for the built-in cells). */
  get outputSize(): number {
    return this.stateSize[0]!;
  }

  /** One step: inputs are [x [B, I], ...states [B, s]]; returns [output, ...new states]. */
  abstract override call(inputs: Tensor | Tensor[], kwargs: CallKwargs): Tensor[];

  /** The whole sequence at once, or null when this cell only steps (the RNN then loops over call). */
  sequence(_x: Tensor, _options: SequenceOptions): RnnSequenceResult | null {
    return null;
  }

  /** Forgets the cached dropout masks: the RNN layer calls it before each sequence (Keras does the same). */
  resetDropoutMasks(): void {}
}

/** Arguments of {@link SimpleRNNCell}, and the cell options every built-in recurrent layer shares (Keras names and defaults). */
export interface SimpleRNNCellArgs extends LayerArgs {
  /** Hidden units: the size of the output and of each state (a positive integer). */
  units: number;
  /** Default 'tanh'. */
  activation?: ActivationIdentifier | null;
  /** Whether to add a bias; default true. */
  useBias?: boolean;
  /** Initializer of the input kernel; default 'glorotUniform'. */
  kernelInitializer?: InitializerIdentifier;
  /** Initializer of the recurrent kernel; default 'orthogonal'. */
  recurrentInitializer?: InitializerIdentifier;
  /** Initializer of the bias; default 'zeros'. */
  biasInitializer?: InitializerIdentifier;
  /** Penalty on the input kernel added to the loss; default none. */
  kernelRegularizer?: RegularizerIdentifier | null;
  /** Penalty on the recurrent kernel added to the loss; default none. */
  recurrentRegularizer?: RegularizerIdentifier | null;
  /** Penalty on the bias added to the loss; default none. */
  biasRegularizer?: RegularizerIdentifier | null;
  /** Not supported: weight constraints are not implemented (anything but null is rejected). */
  kernelConstraint?: null;
  /** Not supported: weight constraints are not implemented (anything but null is rejected). */
  recurrentConstraint?: null;
  /** Not supported: weight constraints are not implemented (anything but null is rejected). */
  biasConstraint?: null;
  /** Fraction of the inputs dropped in training (one mask for every step). */
  dropout?: number;
  /** Fraction of the previous hidden state dropped where it enters the recurrent matmul, in training. */
  recurrentDropout?: number;
}

/** Arguments of {@link GRUCell} (and, with the RNN options, of {@link GRU}). */
export interface GRUCellArgs extends SimpleRNNCellArgs {
  /** Gate activation; default 'sigmoid' (Keras 2). */
  recurrentActivation?: ActivationIdentifier | null;
  /** Apply the reset gate after the recurrent matmul (default true, as Keras 2; bias [2, 3u]). */
  resetAfter?: boolean;
  /** Accepted for Keras/TensorFlow.js compatibility; Axon always runs the whole sequence fused. */
  implementation?: number;
}

/** Arguments of {@link LSTMCell} (and, with the RNN options, of {@link LSTM}). */
export interface LSTMCellArgs extends SimpleRNNCellArgs {
  /** Gate activation; default 'sigmoid' (Keras 2). */
  recurrentActivation?: ActivationIdentifier | null;
  /** Initialise the forget gate's bias to 1 (default true). */
  unitForgetBias?: boolean;
  /** Accepted for Keras/TensorFlow.js compatibility (default 2); Axon always runs the whole sequence fused. */
  implementation?: number;
}

/** The options of SimpleRNNCell (SimpleRNNCellArgs), which SimpleRNN, GRU and LSTM pass on to their cell. */
export const CELL_OPTIONS = [
  'units',
  'activation',
  'useBias',
  'kernelInitializer',
  'recurrentInitializer',
  'biasInitializer',
  'kernelRegularizer',
  'recurrentRegularizer',
  'biasRegularizer',
  'kernelConstraint',
  'recurrentConstraint',
  'biasConstraint',
  'dropout',
  'recurrentDropout',
] as const;

type Kind = 'simpleRnn' | 'gru' | 'lstm';
const GATES: Record<Kind, number> = { simpleRnn: 1, gru: 3, lstm: 4 };

/** LSTM bias with unitForgetBias: the bias initializer's values with the forget gate's block set to one. */
class UnitForgetBias extends Initializer {
  static override className = 'UnitForgetBias';
  constructor(
    private readonly base: Initializer,
    private readonly units: number,
  ) {
    super();
  }
  apply(shape: readonly number[]): Tensor {
    const u = this.units;
    const parts = [this.base.apply([u]), ones([u]), this.base.apply([2 * u])];
    return reshape(concat(parts, 0), [...shape]);
  }
}

/** An inverted-dropout mask: 1/(1-rate) with probability 1-rate, else 0. */
function dropoutMask(shape: number[], dropRate: number): Tensor {
  return mul(greaterEqual(randomUniform(shape), dropRate), 1 / (1 - dropRate));
}

/** The shared machinery of SimpleRNNCell, GRUCell and LSTMCell (Keras weight names and layout). */
abstract class KerasCell extends RNNCell {
  /** Which sequence op the cell runs. */
  protected abstract readonly kind: Kind;
  /** Hidden units. */
  readonly units: number;
  /** The output (SimpleRNN), candidate (GRU) or cell (LSTM) activation. */
  readonly activation: RecurrentActivation;
  /** Whether the cell adds a bias. */
  readonly useBias: boolean;
  /** The input kernel's initializer. */
  readonly kernelInitializer: Initializer;
  /** The recurrent kernel's initializer. */
  readonly recurrentInitializer: Initializer;
  /** The bias's initializer. */
  readonly biasInitializer: Initializer;
  /** The input kernel's regularizer, or null. */
  readonly kernelRegularizer;
  /** The recurrent kernel's regularizer, or null. */
  readonly recurrentRegularizer;
  /** The bias's regularizer, or null. */
  readonly biasRegularizer;
  /** Input dropout rate in training. */
  readonly dropout: number;
  /** Recurrent-state dropout rate in training. */
  readonly recurrentDropout: number;
  /** Input weights [features, gates·units], `<name>/kernel`; null until built. */
  kernel: Variable | null = null;
  /** Recurrent weights [units, gates·units], `<name>/recurrent_kernel`; null until built. */
  recurrentKernel: Variable | null = null;
  /** Bias, `<name>/bias`; null until built or without useBias. */
  bias: Variable | null = null;
  private inputMask: Tensor | null = null;
  private recurrentMask: Tensor | null = null;

  constructor(args: SimpleRNNCellArgs) {
    super(args ?? {});
    this.units = positiveInteger(this.name, 'units', args?.units);
    this.activation = activationOption(this.name, 'activation', args.activation, 'tanh');
    this.useBias = bool(this.name, 'useBias', args.useBias, true);
    this.kernelInitializer = initializerOption(this.name, 'kernelInitializer', args.kernelInitializer, 'glorotUniform');
    this.recurrentInitializer = initializerOption(this.name, 'recurrentInitializer', args.recurrentInitializer, 'orthogonal');
    this.biasInitializer = initializerOption(this.name, 'biasInitializer', args.biasInitializer, 'zeros');
    this.kernelRegularizer = regularizerOption(this.name, 'kernelRegularizer', args.kernelRegularizer);
    this.recurrentRegularizer = regularizerOption(this.name, 'recurrentRegularizer', args.recurrentRegularizer);
    this.biasRegularizer = regularizerOption(this.name, 'biasRegularizer', args.biasRegularizer);
    for (const c of ['kernelConstraint', 'recurrentConstraint', 'biasConstraint'] as const) rejectConstraint(this.name, c, args[c]);
    this.dropout = rate(this.name, 'dropout', args.dropout);
    this.recurrentDropout = rate(this.name, 'recurrentDropout', args.recurrentDropout);
  }

  /** Gates per unit: 1, 3 or 4. */
  protected get gates(): number {
    return GATES[this.kind];
  }

  /** The bias's shape: [gates·units]. */
  protected biasShape(): number[] {
    return [this.gates * this.units];
  }

  /** The bias's initializer as build uses it. */
  protected biasInit(): Initializer {
    return this.biasInitializer;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(this.name, inputShape);
    const inputDim = shape[shape.length - 1];
    if (inputDim == null) throw new Error(`Layer ${this.name}: the input's last dimension must be known, got ${JSON.stringify(shape)}`);
    const gu = this.gates * this.units;
    this.kernel = this.addWeight('kernel', [inputDim, gu], this.kernelInitializer, this.kernelRegularizer);
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, gu], this.recurrentInitializer, this.recurrentRegularizer);
    if (this.useBias) this.bias = this.addWeight('bias', this.biasShape(), this.biasInit(), this.biasRegularizer);
    this.built = true;
  }

  get stateSize(): number[] {
    return this.kind === 'lstm' ? [this.units, this.units] : [this.units];
  }

  override resetDropoutMasks(): void {
    this.inputMask = null;
    this.recurrentMask = null;
  }

  /** The masks of this sequence (created on first use in training, then reused by every step). */
  private masks(batch: number, inputDim: number, training: boolean): { input: Tensor | null; recurrent: Tensor | null } {
    if (!training) return { input: null, recurrent: null };
    // Kept: a cell run step by step (each step maybe in a scope of its own) reuses them until reset.
    if (this.dropout > 0 && this.inputMask?.shape[0] !== batch) this.inputMask = keep(dropoutMask([batch, inputDim], this.dropout));
    if (this.recurrentDropout > 0 && this.recurrentMask?.shape[0] !== batch)
      this.recurrentMask = keep(dropoutMask([batch, this.units], this.recurrentDropout));
    return { input: this.dropout > 0 ? this.inputMask : null, recurrent: this.recurrentDropout > 0 ? this.recurrentMask : null };
  }

  /** Runs the cell's sequence op from @axon/tensor on x [B, T, I]. */
  protected abstract runOp(x: Tensor, options: GruSequenceOptions): RnnSequenceResult;

  override sequence(x: Tensor, options: SequenceOptions): RnnSequenceResult {
    if (!this.built) throw new Error(`Layer ${this.name}: the cell must be built before it runs (apply the RNN layer to an input)`);
    const [batch, , inputDim] = x.shape as [number, number, number];
    const masks = this.masks(batch, inputDim, options.training === true);
    const input = masks.input ? mul(x, reshape(masks.input, [batch, 1, inputDim])) : x;
    return this.runOp(input, {
      initialState: options.initialState ?? null,
      mask: options.mask ?? null,
      goBackwards: options.goBackwards ?? false,
      returnSequences: options.returnSequences ?? false,
      zeroOutputForMask: options.zeroOutputForMask ?? false,
      activation: forOp(this.activation),
      recurrentDropoutMask: masks.recurrent,
    });
  }

  /** One step, through the same sequence op with a single timestep. */
  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs): Tensor[] {
    const [x, ...states] = Array.isArray(inputs) ? inputs : [inputs];
    if (x?.rank !== 2)
      throw new Error(
        `Layer ${this.name}: a cell step takes [x [batch, features], ...states], got ${x ? `x of shape [${x.shape.join(',')}]` : 'nothing'}`,
      );
    const r = this.sequence(expandDims(x, 1), { initialState: states.length ? states : null, training: kwargs.training === true });
    return [r.output, ...r.states];
  }

  /** The cell's options as TensorFlow.js serializes them. */
  override getConfig(): Record<string, unknown> {
    return {
      units: this.units,
      activation: this.activation.name,
      useBias: this.useBias,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      recurrentInitializer: serializeInitializer(this.recurrentInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
      kernelRegularizer: serializeRegularizer(this.kernelRegularizer),
      recurrentRegularizer: serializeRegularizer(this.recurrentRegularizer),
      biasRegularizer: serializeRegularizer(this.biasRegularizer),
      kernelConstraint: null,
      recurrentConstraint: null,
      biasConstraint: null,
      dropout: this.dropout,
      recurrentDropout: this.recurrentDropout,
      ...super.getConfig(),
    };
  }
}

/**
 * h = activation(x·W + b + h'·U). Weights: kernel [in, u], recurrent_kernel [u, u], bias [u].
 * Keras `SimpleRNNCell`; use it inside {@link RNN}, or the {@link SimpleRNN} layer directly.
 */
export class SimpleRNNCell extends KerasCell {
  /** The serialized class name. */
  static override className = 'SimpleRNNCell';
  /** The options it takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = CELL_OPTIONS;
  protected readonly kind = 'simpleRnn' as const;

  /** @throws Error if units is not a positive integer, a rate is outside [0, 1), an option is unknown, or a constraint is given. */
  constructor(args: SimpleRNNCellArgs) {
    super(args);
  }

  protected runOp(x: Tensor, options: RnnSequenceOptions): RnnSequenceResult {
    return simpleRnnSequence(x, { kernel: this.kernel!, recurrentKernel: this.recurrentKernel!, bias: this.bias }, options);
  }
}
registerLayer(SimpleRNNCell);

/**
 * Keras' GRU cell, gates z, r, h: kernel [in, 3u], recurrent_kernel [u, 3u],
 * bias [3u], or [2, 3u] (input bias, recurrent bias) with resetAfter.
 */
export class GRUCell extends KerasCell {
  /** The serialized class name. */
  static override className = 'GRUCell';
  /** The options it takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [...CELL_OPTIONS, 'recurrentActivation', 'resetAfter', 'implementation'];
  protected readonly kind = 'gru' as const;
  /** The gate activation. */
  readonly recurrentActivation: RecurrentActivation;
  /** Whether the reset gate applies after the recurrent matmul. */
  readonly resetAfter: boolean;
  /** Recorded for compatibility; has no effect. */
  readonly implementation: number;

  /** @throws Error as {@link SimpleRNNCell}'s constructor does. */
  constructor(args: GRUCellArgs) {
    super(args);
    this.recurrentActivation = activationOption(this.name, 'recurrentActivation', args.recurrentActivation, 'sigmoid');
    this.resetAfter = bool(this.name, 'resetAfter', args.resetAfter, true);
    this.implementation = args.implementation ?? 2;
  }

  protected override biasShape(): number[] {
    return this.resetAfter ? [2, 3 * this.units] : [3 * this.units];
  }

  protected runOp(x: Tensor, options: GruSequenceOptions): RnnSequenceResult {
    return gruSequence(
      x,
      { kernel: this.kernel!, recurrentKernel: this.recurrentKernel!, bias: this.bias },
      { ...options, recurrentActivation: forOp(this.recurrentActivation), resetAfter: this.resetAfter },
    );
  }

  /** TensorFlow.js' GRU has no resetAfter (it computes resetAfter = false), so a config without it means false. */
  static override fromConfig<T extends Layer>(this: new (args: never) => T, config: Record<string, unknown>): T {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass fromConfig was called on
    return (Layer.fromConfig as (this: unknown, c: Record<string, unknown>) => T).call(this, { resetAfter: false, ...config });
  }

  /** The cell's options as TensorFlow.js serializes them. */
  override getConfig(): Record<string, unknown> {
    const config = super.getConfig();
    return {
      ...config,
      recurrentActivation: this.recurrentActivation.name,
      implementation: this.implementation,
      resetAfter: this.resetAfter,
    };
  }
}
registerLayer(GRUCell);

/** Keras' LSTM cell, gates i, f, c, o: kernel [in, 4u], recurrent_kernel [u, 4u], bias [4u]. */
export class LSTMCell extends KerasCell {
  /** The serialized class name. */
  static override className = 'LSTMCell';
  /** The options it takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [...CELL_OPTIONS, 'recurrentActivation', 'unitForgetBias', 'implementation'];
  protected readonly kind = 'lstm' as const;
  /** The gate activation. */
  readonly recurrentActivation: RecurrentActivation;
  /** Whether the forget gate's bias starts at 1. */
  readonly unitForgetBias: boolean;
  /** Recorded for compatibility; has no effect. */
  readonly implementation: number;

  /** @throws Error as {@link SimpleRNNCell}'s constructor does. */
  constructor(args: LSTMCellArgs) {
    super(args);
    this.recurrentActivation = activationOption(this.name, 'recurrentActivation', args.recurrentActivation, 'sigmoid');
    this.unitForgetBias = bool(this.name, 'unitForgetBias', args.unitForgetBias, true);
    this.implementation = args.implementation ?? 2;
  }

  protected override biasInit(): Initializer {
    return this.unitForgetBias ? new UnitForgetBias(this.biasInitializer, this.units) : this.biasInitializer;
  }

  protected runOp(x: Tensor, options: RnnSequenceOptions): RnnSequenceResult {
    return lstmSequence(
      x,
      { kernel: this.kernel!, recurrentKernel: this.recurrentKernel!, bias: this.bias },
      { ...options, recurrentActivation: forOp(this.recurrentActivation) },
    );
  }

  /** The cell's options as TensorFlow.js serializes them. */
  override getConfig(): Record<string, unknown> {
    const config = super.getConfig();
    return {
      ...config,
      recurrentActivation: this.recurrentActivation.name,
      unitForgetBias: this.unitForgetBias,
      implementation: this.implementation,
    };
  }
}
registerLayer(LSTMCell);

/** Arguments of {@link StackedRNNCells}. */
export interface StackedRNNCellsArgs extends LayerArgs {
  /** The cells, first to last (at least one); serialized cells are deserialized. */
  cells: (RNNCell | SerializedObject)[];
}

/** Cells applied one after the other at each step; the states are all cells' states in order. */
export class StackedRNNCells extends RNNCell {
  static override className = 'StackedRNNCells';
  /** The options it takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['cells'];
  /** The cells, first to last. */
  readonly cells: RNNCell[];

  /** @throws Error if cells is empty or holds something other than a cell. */
  constructor(args: StackedRNNCellsArgs) {
    super(args ?? {});
    if (!Array.isArray(args?.cells) || args.cells.length === 0)
      throw new Error(`Layer ${this.name}: cells must be a non-empty array of cells`);
    this.cells = args.cells.map((c, i) => toCell(this.name, `cells[${i}]`, c));
  }

  get stateSize(): number[] {
    return this.cells.flatMap((c) => c.stateSize);
  }

  override get outputSize(): number {
    return this.cells[this.cells.length - 1]!.outputSize;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(this.name, inputShape);
    let dim = shape[shape.length - 1]!;
    for (const cell of this.cells) {
      if (!cell.built) cell.build([shape[0] ?? null, dim]);
      cell.built = true;
      dim = cell.outputSize;
    }
    this.built = true;
  }

  /** Each cell's slice of a flat state list. */
  private split(states: Tensor[]): Tensor[][] {
    let offset = 0;
    return this.cells.map((c) => {
      const own = states.slice(offset, offset + c.stateSize.length);
      offset += c.stateSize.length;
      return own;
    });
  }

  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs): Tensor[] {
    const [x, ...states] = Array.isArray(inputs) ? inputs : [inputs];
    const perCell = this.split(states);
    let y = x!;
    const next: Tensor[] = [];
    this.cells.forEach((cell, i) => {
      const [out, ...s] = cell.call([y, ...perCell[i]!], kwargs);
      y = out!;
      next.push(...s);
    });
    return [y, ...next];
  }

  /**
   * Layer by layer, each cell over the whole sequence: the same result as
   * stepping through the stack (a masked step leaves every cell's states alone,
   * and what a cell outputs there only reaches states that are also kept).
   */
  override sequence(x: Tensor, options: SequenceOptions): RnnSequenceResult | null {
    const T = x.shape[1]!;
    const perCell = options.initialState ? this.split(options.initialState) : null;
    // With goBackwards the first cell emits its outputs in processing order; later cells
    // take them forwards, with the mask reversed to match.
    const reversedMask =
      options.mask && options.goBackwards
        ? gather(
            options.mask,
            Array.from({ length: T }, (_, t) => T - 1 - t),
            1,
          )
        : null;
    let y = x;
    const states: Tensor[] = [];
    for (let i = 0; i < this.cells.length; i++) {
      const last = i === this.cells.length - 1;
      const r = this.cells[i]!.sequence(y, {
        initialState: perCell ? perCell[i]! : null,
        mask: i > 0 && reversedMask ? reversedMask : (options.mask ?? null),
        goBackwards: i === 0 ? (options.goBackwards ?? false) : false,
        returnSequences: last ? (options.returnSequences ?? false) : true,
        zeroOutputForMask: last ? (options.zeroOutputForMask ?? false) : false,
        training: options.training ?? false,
      });
      if (!r) return null;
      y = r.output;
      states.push(...r.states);
    }
    return { output: y, states };
  }

  override resetDropoutMasks(): void {
    for (const c of this.cells) c.resetDropoutMasks();
  }

  override get trainable(): boolean {
    return this._trainable;
  }

  override set trainable(value: boolean) {
    this._trainable = value;
    for (const c of this.cells) c.trainable = value;
  }

  override get trainableWeights(): Variable[] {
    return this.trainable ? this.cells.flatMap((c) => c.trainableWeights) : [];
  }

  override get nonTrainableWeights(): Variable[] {
    return this.trainable ? this.cells.flatMap((c) => c.nonTrainableWeights) : this.cells.flatMap((c) => c.weights);
  }

  override regularizationLosses(): Tensor[] {
    return [...this.cells.flatMap((c) => c.regularizationLosses()), ...super.regularizationLosses()];
  }

  override getConfig(): Record<string, unknown> {
    return { cells: this.cells.map((c) => serializeLayer(c)), ...super.getConfig() };
  }
}
registerLayer(StackedRNNCells);

/** A cell object, or a serialized one. */
export function toCell(layer: string, option: string, value: unknown): RNNCell {
  const cell = isSerializedObject(value) ? deserializeLayer(value) : value;
  if (!(cell instanceof RNNCell))
    throw new Error(`Layer ${layer}: ${option} must be an RNN cell (SimpleRNNCell, GRUCell, LSTMCell, ...), got ${String(cell)}`);
  return cell;
}

/** A {@link SimpleRNNCell}, for {@link rnn} or {@link stackedRNNCells}. */
export const simpleRNNCell = (args: SimpleRNNCellArgs): SimpleRNNCell => new SimpleRNNCell(args);
/** A {@link GRUCell}, for {@link rnn} or {@link stackedRNNCells}. */
export const gruCell = (args: GRUCellArgs): GRUCell => new GRUCell(args);
/**
 * An {@link LSTMCell}, for {@link rnn} or {@link stackedRNNCells}.
 *
 * @example
 * ```ts
 * // Two stacked LSTM cells in one layer (the same as passing the list to rnn()).
 * rnn({ cell: [lstmCell({ units: 32 }), lstmCell({ units: 16 })], inputShape: [20, 8] });
 * ```
 */
export const lstmCell = (args: LSTMCellArgs): LSTMCell => new LSTMCell(args);
/** A {@link StackedRNNCells} (rnn() makes one itself when given a list of cells). */
export const stackedRNNCells = (args: StackedRNNCellsArgs): StackedRNNCells => new StackedRNNCells(args);
