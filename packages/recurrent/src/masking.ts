import { Layer, registerLayer, type LayerArgs } from '@axon/layers';
import { expandDims, max, mul, notEqual, type Tensor } from '@axon/tensor';

/** Arguments of {@link Masking}. */
export interface MaskingArgs extends LayerArgs {
  /** Timesteps whose features all equal this value are masked (default 0). */
  maskValue?: number;
}

/**
 * Masks timesteps whose features all equal `maskValue`: the mask [batch,
 * timesteps] goes to the following layers, and masked steps are zeroed (Keras).
 */
export class Masking extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = ['maskValue'];
  static override className = 'Masking';
  /** The padding value whose timesteps are masked. */
  readonly maskValue: number;

  /** @throws Error if maskValue is not a number (or is NaN). */
  constructor(args: MaskingArgs = {}) {
    super(args);
    const v = args.maskValue ?? 0;
    if (typeof v !== 'number' || Number.isNaN(v))
      throw new Error(`Layer ${this.name}: maskValue must be a number, got ${JSON.stringify(args.maskValue)}`);
    this.maskValue = v;
    this.supportsMasking = true;
  }

  private stepMask(x: Tensor): Tensor {
    return max(notEqual(x, this.maskValue), -1);
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    return mul(x, expandDims(this.stepMask(x), -1));
  }

  override computeMask(inputs: Tensor | Tensor[]): Tensor {
    return this.stepMask(Array.isArray(inputs) ? inputs[0]! : inputs);
  }

  override getConfig(): Record<string, unknown> {
    return { maskValue: this.maskValue, ...super.getConfig() };
  }
}
registerLayer(Masking);
/**
 * A {@link Masking} layer (Keras `layers.Masking`), for padded float sequences.
 *
 * @example
 * ```ts
 * // Sequences padded with zero rows to 30 steps: the LSTM skips the padding.
 * [masking({ maskValue: 0, inputShape: [30, 4] }), lstm({ units: 16 })];
 * ```
 */
export const masking = (args: MaskingArgs = {}): Masking => new Masking(args);
