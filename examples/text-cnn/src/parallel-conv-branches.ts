/**
 * Kim (2014)'s "CNN for sentence classification" block as one layer, so that it fits in a
 * Sequential (Axon has no functional API yet): parallel convolutions over the time axis of
 * [batch, timesteps, channels], one per kernel width, each followed by ReLU and a max over time,
 * concatenated along the last axis → [batch, filters * kernelSizes.length].
 */
import { concat, type Tensor, type Variable } from '@axon/tensor';
import {
  conv1d,
  globalMaxPooling1d,
  Layer,
  registerLayer,
  type CallKwargs,
  type Conv1D,
  type GlobalMaxPooling1D,
  type LayerArgs,
  type Shape,
} from '@axon/layers';

/** Arguments of {@link ParallelConvBranches}. */
export interface ParallelConvBranchesArgs extends LayerArgs {
  /** Filters of each branch. */
  filters: number;
  /** One branch per kernel width (timesteps), e.g. [3, 4, 5]. */
  kernelSizes: number[];
}

/** One branch: a convolution over time (with ReLU) and a global max pooling. */
interface Branch {
  conv: Conv1D;
  pool: GlobalMaxPooling1D;
}

/**
 * Parallel 1-D convolutions of several widths over [batch, timesteps, channels], each with ReLU and
 * global max pooling over time, concatenated: [batch, filters * kernelSizes.length]. The layer
 * holds its sub-layers (one Conv1D and one GlobalMaxPooling1D per width) and reports their
 * weights. When the functional API lands, the same model is written with `concatenate` instead.
 */
export class ParallelConvBranches extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['filters', 'kernelSizes'];
  static override className = 'ParallelConvBranches';
  /** Filters of each branch. */
  readonly filters: number;
  /** The kernel widths, one branch each. */
  readonly kernelSizes: number[];
  /** The sub-layers, one branch per kernel width. */
  readonly branches: Branch[];

  /** @throws Error if filters is not a positive integer or kernelSizes not a non-empty list of them. */
  constructor(args: ParallelConvBranchesArgs) {
    super(args);
    if (!Number.isInteger(args.filters) || args.filters < 1) {
      throw new Error(`Layer ${this.name}: filters must be a positive integer, got ${JSON.stringify(args.filters)}`);
    }
    if (!Array.isArray(args.kernelSizes) || args.kernelSizes.length === 0 || args.kernelSizes.some((k) => !Number.isInteger(k) || k < 1)) {
      throw new Error(
        `Layer ${this.name}: kernelSizes must be a non-empty list of positive integers, got ${JSON.stringify(args.kernelSizes)}`,
      );
    }
    this.filters = args.filters;
    this.kernelSizes = [...args.kernelSizes];
    this.branches = this.kernelSizes.map((width) => ({
      conv: conv1d({ filters: this.filters, kernelSize: width, activation: 'relu', name: `${this.name}_conv${width}` }),
      pool: globalMaxPooling1d({ name: `${this.name}_pool${width}` }),
    }));
    if (!this._trainable) this.trainable = false;
  }

  private timeShape(inputShape: Shape | Shape[]): Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    if (shape.length !== 3) throw new Error(`Layer ${this.name}: expected [batch, timesteps, channels], got [${shape.join(', ')}]`);
    return shape;
  }

  override build(inputShape: Shape | Shape[]): void {
    const [batch, steps, channels] = this.timeShape(inputShape);
    for (const { conv } of this.branches) conv.ensureBuilt([batch ?? null, steps ?? null, channels ?? null]);
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], kwargs: CallKwargs): Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    const pooled = this.branches.map(({ conv, pool }) => pool.apply(conv.apply(x, kwargs), kwargs) as Tensor);
    return concat(pooled, -1);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return [this.timeShape(inputShape)[0] ?? null, this.filters * this.kernelSizes.length];
  }

  override get trainableWeights(): Variable[] {
    return this.trainable ? this.branches.flatMap(({ conv }) => conv.trainableWeights) : [];
  }

  override get nonTrainableWeights(): Variable[] {
    return this.trainable
      ? this.branches.flatMap(({ conv }) => conv.nonTrainableWeights)
      : this.branches.flatMap(({ conv }) => conv.weights);
  }

  override get trainable(): boolean {
    return this._trainable;
  }

  override set trainable(value: boolean) {
    this._trainable = value;
    for (const { conv } of this.branches) conv.trainable = value;
  }

  override regularizationLosses(): Tensor[] {
    return [...this.branches.flatMap(({ conv }) => conv.regularizationLosses()), ...super.regularizationLosses()];
  }

  override getConfig(): Record<string, unknown> {
    return { filters: this.filters, kernelSizes: [...this.kernelSizes], ...super.getConfig() };
  }
}
registerLayer(ParallelConvBranches);

/** A {@link ParallelConvBranches} layer. */
export const parallelConvBranches = (args: ParallelConvBranchesArgs): ParallelConvBranches => new ParallelConvBranches(args);
