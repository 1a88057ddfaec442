import { cast, floor, gather, noGrad, notEqual, sum, type Tensor, type Variable } from '@axon/tensor';
import { serializeInitializer, type Initializer, type InitializerIdentifier } from '../initializers.js';
import { Layer, registerLayer, type LayerArgs } from '../layer.js';
import { serializeRegularizer, type Regularizer, type RegularizerIdentifier } from '../regularizers.js';
import { formatShape, singleShape, type Shape } from '../shape.js';
import { bool, initializerOption, oneTensor, positiveInteger, regularizerOption, rejectConstraint } from './util.js';

/** Arguments of {@link Embedding} (Keras `Embedding`). */
export interface EmbeddingArgs extends LayerArgs {
  /** Vocabulary size: indices lie in [0, inputDim). */
  inputDim: number;
  /** Size of each embedding vector. */
  outputDim: number;
  /** Default randomUniform in [-0.05, 0.05], as Keras. */
  embeddingsInitializer?: InitializerIdentifier;
  /** Penalty on the embedding matrix added to the loss; default none. */
  embeddingsRegularizer?: RegularizerIdentifier | null;
  /** Penalty on the output added to the loss; default none. */
  activityRegularizer?: RegularizerIdentifier | null;
  /** Not supported: weight constraints are not implemented (anything but null is rejected). */
  embeddingsConstraint?: null;
  /** Index 0 is padding: computeMask gives 0 where the input is 0 (then inputDim should be vocabulary + 1). */
  maskZero?: boolean;
  /** Length of the input sequences; sets the input shape [null, ...inputLength] when none is given. */
  inputLength?: number | number[] | null;
}

/** Maps integer indices [batch, ...] to rows of the `embeddings` matrix [inputDim, outputDim]: output [batch, ..., outputDim]. */
export class Embedding extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [
    'inputDim',
    'outputDim',
    'embeddingsInitializer',
    'embeddingsRegularizer',
    'activityRegularizer',
    'embeddingsConstraint',
    'maskZero',
    'inputLength',
  ];
  static override className = 'Embedding';
  /** Vocabulary size. */
  readonly inputDim: number;
  /** Embedding size. */
  readonly outputDim: number;
  /** The embedding matrix's initializer. */
  readonly embeddingsInitializer: Initializer;
  /** The embedding matrix's regularizer, or null. */
  readonly embeddingsRegularizer: Regularizer | null;
  /** Whether index 0 is padding (masked). */
  readonly maskZero: boolean;
  /** The input length given, or null. */
  readonly inputLength: number | number[] | null;
  /** The matrix [inputDim, outputDim], `<name>/embeddings`; null until built. */
  embeddings: Variable | null = null;

  /** @throws Error if inputDim or outputDim is not a positive integer, an option is unknown, or a constraint is given. */
  constructor(args: EmbeddingArgs) {
    const inputLength = args?.inputLength ?? null;
    const withShape =
      inputLength !== null && args.inputShape == null && args.batchInputShape == null
        ? { ...args, batchInputShape: [args.batchSize ?? null, ...(Array.isArray(inputLength) ? inputLength : [inputLength])] }
        : args;
    super(withShape ?? {});
    this.inputDim = positiveInteger(this.name, 'inputDim', args?.inputDim);
    this.outputDim = positiveInteger(this.name, 'outputDim', args.outputDim);
    this.embeddingsInitializer = initializerOption(this.name, 'embeddingsInitializer', args.embeddingsInitializer, 'randomUniform');
    this.embeddingsRegularizer = regularizerOption(this.name, 'embeddingsRegularizer', args.embeddingsRegularizer);
    this.activityRegularizer = regularizerOption(this.name, 'activityRegularizer', args.activityRegularizer);
    rejectConstraint(this.name, 'embeddingsConstraint', args.embeddingsConstraint);
    this.maskZero = bool(this.name, 'maskZero', args.maskZero, false);
    this.inputLength = inputLength;
    this.supportsMasking = this.maskZero;
  }

  override build(): void {
    this.embeddings = this.addWeight('embeddings', [this.inputDim, this.outputDim], this.embeddingsInitializer, this.embeddingsRegularizer);
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    const x = oneTensor(this.name, inputs);
    // Float indices must hold integers: one value read back (int32 inputs skip it and read nothing).
    if (x.dtype === 'float32' && x.size > 0 && noGrad(() => sum(notEqual(x, floor(x)))).item() > 0) {
      throw new Error(
        `Layer ${this.name}: indices must be integers in [0, ${this.inputDim}) (inputDim); the input of shape ${formatShape(x.shape)} has fractional values`,
      );
    }
    try {
      // On the device, as Keras casts: no values read back. The gather kernel checks the range.
      return gather(this.embeddings!, cast(x, 'int32'), 0);
    } catch (e) {
      throw new Error(
        `Layer ${this.name}: indices must lie in [0, ${this.inputDim}) (inputDim): ${(e as Error).message} (input of shape ${formatShape(x.shape)})`,
      );
    }
  }

  /** With maskZero, 1 where the index is non-zero and 0 at padding; otherwise null. */
  override computeMask(inputs: Tensor | Tensor[]): Tensor | null {
    if (!this.maskZero) return null;
    return notEqual(oneTensor(this.name, inputs), 0);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = singleShape(this.name, inputShape);
    return [...shape, this.outputDim];
  }

  override getConfig(): Record<string, unknown> {
    return {
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      embeddingsInitializer: serializeInitializer(this.embeddingsInitializer),
      embeddingsRegularizer: serializeRegularizer(this.embeddingsRegularizer),
      activityRegularizer: serializeRegularizer(this.activityRegularizer),
      embeddingsConstraint: null,
      maskZero: this.maskZero,
      inputLength: this.inputLength,
      ...super.getConfig(),
    };
  }
}
registerLayer(Embedding);
/**
 * An {@link Embedding} layer. Inputs are int32 (or integer-valued float32) indices; an index
 * outside [0, inputDim) or a fractional one throws when the layer is applied.
 *
 * @example
 * ```ts
 * const model = new Sequential({
 *   layers: [
 *     embedding({ inputDim: 10000, outputDim: 64, maskZero: true, inputLength: 100 }), // [b, 100] → [b, 100, 64]
 *     lstm({ units: 32 }),
 *     dense({ units: 1, activation: 'sigmoid' }),
 *   ],
 * });
 * ```
 */
export const embedding = (args: EmbeddingArgs): Embedding => new Embedding(args);
