/**
 * TextVectorization (Keras `keras.layers.TextVectorization`): strings in, token indices or
 * bag-of-words vectors out. Strings are not tensors in Axon, so this layer takes a JS array of
 * strings and returns a Tensor; it is the step before a model, not a layer inside a Sequential.
 */
import { Tensor } from '@axon/tensor';
import { Layer, registerLayer, type CallKwargs, type LayerArgs } from '../layer.js';
import type { Shape } from '../shape.js';
import { bool } from './util.js';
import { type SymbolicTensor, isSymbolic } from '../symbolic.js';

/** How TextVectorization standardizes a string before splitting it (Keras' names). */
export type TextStandardizeMode = 'lower_and_strip_punctuation' | 'lower' | 'strip_punctuation';
/** How TextVectorization splits a standardized string into tokens (Keras' names). */
export type TextSplitMode = 'whitespace' | 'character';
/** What TextVectorization outputs (Keras' names; 'tf_idf' is not supported). */
export type TextOutputMode = 'int' | 'multi_hot' | 'count';

/** Arguments of {@link TextVectorization} (Keras `TextVectorization`, camelCase). */
export interface TextVectorizationArgs extends LayerArgs {
  /**
   * Largest vocabulary, special tokens included ('' and '[UNK]' in int mode, '[UNK]' otherwise);
   * `adapt` keeps the most frequent tokens. Default null (no limit). Must be an integer > 1.
   */
  maxTokens?: number | null;
  /**
   * 'lower_and_strip_punctuation' (default: lower case, then remove ASCII punctuation
   * ``!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~``), 'lower', 'strip_punctuation', null (none), or a function
   * string → string (a layer with a function cannot be serialized).
   */
  standardize?: TextStandardizeMode | ((text: string) => string) | null;
  /**
   * 'whitespace' (default: split on runs of ASCII whitespace, no empty tokens), 'character'
   * (every Unicode code point, spaces included), null (the whole string is one token), or a
   * function string → tokens (a layer with a function cannot be serialized).
   */
  split?: TextSplitMode | ((text: string) => string[]) | null;
  /**
   * 'int' (default): int32 [batch, length] of token indices, 0 = padding, 1 = OOV.
   * 'multi_hot': float32 [batch, depth], 1 where a token occurs (index 0 = any OOV token).
   * 'count': float32 [batch, depth], the number of occurrences of each token.
   */
  outputMode?: TextOutputMode;
  /** Int mode only: pad with 0 or truncate (keeping the first tokens) to this length. Default: the batch's longest. */
  outputSequenceLength?: number | null;
  /** multi_hot / count only: make the depth maxTokens even when the vocabulary is smaller (default false, as Keras). */
  padToMaxTokens?: boolean;
  /**
   * A fixed vocabulary instead of `adapt`: distinct tokens, most important first. Leading special
   * tokens ('' and '[UNK]' in int mode, '[UNK]' otherwise) are accepted and dropped, as Keras does.
   */
  vocabulary?: readonly string[] | null;
  /** Not supported (only null): n-grams are not implemented. */
  ngrams?: null;
  /** Not supported (only false): outputs are dense tensors. */
  ragged?: boolean;
  /** Not supported (only false): outputs are dense tensors. */
  sparse?: boolean;
}

/** The padding token (index 0 in int mode). */
const PAD = '';
/** The out-of-vocabulary token (index 1 in int mode, 0 otherwise). */
const OOV = '[UNK]';
/** Keras' DEFAULT_STRIP_REGEX: Python's string.punctuation. */
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
/** tf.strings.split's separator when none is given: ASCII whitespace. */
const WHITESPACE = /[ \t\n\r\v\f]+/;

/** Orders strings by Unicode code point (= UTF-8 byte order, as numpy sorts TensorFlow's byte strings). */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/**
 * Keras' TextVectorization: standardizes each string, splits it into tokens, and maps the tokens to
 * indices of a vocabulary — given (`vocabulary`) or learned from data (`adapt`). Input is a JS
 * array of strings (strings are not tensors in Axon) given to {@link TextVectorization.apply};
 * output is an int32 Tensor [batch, length] of indices ('int' mode) or a float32 Tensor
 * [batch, depth] ('multi_hot', 'count'). Use it to turn texts into a model's input tensor.
 *
 * Vocabulary layout, as Keras: int mode `['', '[UNK]', ...learned]` (0 = padding, 1 = OOV);
 * multi_hot / count `['[UNK]', ...learned]` (0 = OOV). `adapt` orders tokens by descending
 * frequency and breaks ties by descending code-point order of the token — Keras' own rule
 * (`np.lexsort((tokens, counts))[::-1]` in its IndexLookup), not first appearance.
 *
 * @example
 * ```ts
 * const vectorize = textVectorization({ outputSequenceLength: 4, vocabulary: ['earth', 'wind', 'and', 'fire'] });
 * vectorize.apply(['earth wind and fire', 'fire and earth michigan']).toArray(); // [[2, 3, 4, 5], [5, 4, 2, 1]]
 *
 * const bag = textVectorization({ outputMode: 'multi_hot', maxTokens: 10000, padToMaxTokens: true });
 * bag.adapt(trainTexts);
 * const x = bag.apply(trainTexts); // float32 [n, 10000]
 * ```
 */
export class TextVectorization extends Layer {
  /** The options this layer takes besides LayerArgs' (others are errors). */
  static readonly optionNames: readonly string[] = [
    'maxTokens',
    'standardize',
    'split',
    'outputMode',
    'outputSequenceLength',
    'padToMaxTokens',
    'vocabulary',
    'ngrams',
    'ragged',
    'sparse',
  ];
  static override className = 'TextVectorization';
  /** Largest vocabulary size (special tokens included), or null. */
  readonly maxTokens: number | null;
  /** The standardization (see {@link TextVectorizationArgs.standardize}). */
  readonly standardize: TextStandardizeMode | ((text: string) => string) | null;
  /** The split (see {@link TextVectorizationArgs.split}). */
  readonly split: TextSplitMode | ((text: string) => string[]) | null;
  /** The output mode. */
  readonly outputMode: TextOutputMode;
  /** Int mode's fixed output length, or null (the batch's longest). */
  readonly outputSequenceLength: number | null;
  /** Whether multi_hot / count outputs have depth maxTokens. */
  readonly padToMaxTokens: boolean;
  /** The learned or given tokens, special tokens excluded. */
  private tokens: string[] | null = null;
  private index = new Map<string, number>();

  /**
   * @throws Error if an option is unknown or invalid: maxTokens not an integer > 1, an unknown
   *   standardize / split / outputMode, outputSequenceLength outside int mode or not a positive
   *   integer, padToMaxTokens outside multi_hot / count or without maxTokens, ngrams / ragged /
   *   sparse set, or an invalid vocabulary (see {@link TextVectorization.setVocabulary}).
   */
  constructor(args: TextVectorizationArgs = {}) {
    super(args);
    const fail = (message: string): never => {
      throw new Error(`Layer ${this.name}: ${message}`);
    };
    const maxTokens = args.maxTokens ?? null;
    if (maxTokens !== null && (!Number.isInteger(maxTokens) || maxTokens <= 1)) {
      fail(`maxTokens must be null or an integer > 1, got ${JSON.stringify(maxTokens)}`);
    }
    this.maxTokens = maxTokens;
    const standardize = args.standardize === undefined ? 'lower_and_strip_punctuation' : args.standardize;
    if (
      standardize !== null &&
      typeof standardize !== 'function' &&
      !['lower_and_strip_punctuation', 'lower', 'strip_punctuation'].includes(standardize)
    ) {
      fail(
        `standardize must be 'lower_and_strip_punctuation', 'lower', 'strip_punctuation', null or a function, got ${JSON.stringify(standardize)}`,
      );
    }
    this.standardize = standardize;
    const split = args.split === undefined ? 'whitespace' : args.split;
    if (split !== null && typeof split !== 'function' && !['whitespace', 'character'].includes(split)) {
      fail(`split must be 'whitespace', 'character', null or a function, got ${JSON.stringify(split)}`);
    }
    this.split = split;
    const outputMode = args.outputMode ?? 'int';
    if (!['int', 'multi_hot', 'count'].includes(outputMode)) {
      const hint = outputMode === ('tf_idf' as string) ? " ('tf_idf' is not supported)" : '';
      fail(`outputMode must be 'int', 'multi_hot' or 'count', got ${JSON.stringify(outputMode)}${hint}`);
    }
    this.outputMode = outputMode;
    const length = args.outputSequenceLength ?? null;
    if (length !== null) {
      if (outputMode !== 'int') fail(`outputSequenceLength is only valid in outputMode 'int', got outputMode '${outputMode}'`);
      if (!Number.isInteger(length) || length <= 0) fail(`outputSequenceLength must be a positive integer, got ${JSON.stringify(length)}`);
    }
    this.outputSequenceLength = length;
    this.padToMaxTokens = bool(this.name, 'padToMaxTokens', args.padToMaxTokens, false);
    if (this.padToMaxTokens) {
      if (outputMode === 'int') fail(`padToMaxTokens is only valid in outputMode 'multi_hot' or 'count', got 'int'`);
      if (maxTokens === null) fail('padToMaxTokens needs maxTokens');
    }
    if (args.ngrams != null) fail(`ngrams are not supported, got ${JSON.stringify(args.ngrams)}`);
    if (args.ragged) fail('ragged outputs are not supported (outputs are dense tensors)');
    if (args.sparse) fail('sparse outputs are not supported (outputs are dense tensors)');
    if (args.vocabulary != null) this.setVocabulary(args.vocabulary);
    this.built = true;
  }

  /** The special tokens that open the vocabulary: ['', '[UNK]'] in int mode, ['[UNK]'] otherwise. */
  private specialTokens(): string[] {
    return this.outputMode === 'int' ? [PAD, OOV] : [OOV];
  }

  /**
   * Replaces the vocabulary (Keras' set_vocabulary): distinct tokens, most important first;
   * leading special tokens are dropped.
   *
   * @throws Error if the vocabulary is not an array of strings, repeats a token, contains a special
   *   token other than at its start, or is larger than maxTokens (special tokens included).
   */
  setVocabulary(vocabulary: readonly string[]): void {
    if (!Array.isArray(vocabulary) || vocabulary.some((t) => typeof t !== 'string')) {
      throw new Error(`Layer ${this.name}: vocabulary must be an array of strings`);
    }
    const special = this.specialTokens();
    let tokens = [...vocabulary];
    if (special.every((t, i) => tokens[i] === t)) tokens = tokens.slice(special.length);
    const seen = new Set<string>();
    for (const t of tokens) {
      if (t === PAD || t === OOV) {
        throw new Error(
          `Layer ${this.name}: the vocabulary contains the special token ${JSON.stringify(t)}; special tokens may only open it, in the order ${JSON.stringify(special)}`,
        );
      }
      if (seen.has(t)) throw new Error(`Layer ${this.name}: the vocabulary repeats the token ${JSON.stringify(t)}`);
      seen.add(t);
    }
    if (this.maxTokens !== null && tokens.length + special.length > this.maxTokens) {
      throw new Error(
        `Layer ${this.name}: the vocabulary has ${tokens.length + special.length} tokens (special tokens included), more than maxTokens ${this.maxTokens}`,
      );
    }
    this.setTokens(tokens);
  }

  private setTokens(tokens: string[]): void {
    this.tokens = tokens;
    const offset = this.specialTokens().length;
    this.index = new Map(tokens.map((t, i) => [t, i + offset]));
  }

  /**
   * Learns the vocabulary from texts, replacing any previous one (Keras' adapt): every token of the
   * standardized, split texts is counted; the most frequent are kept (up to maxTokens, special
   * tokens included), by descending count, ties by descending code-point order (as Keras).
   *
   * @param data - strings, or batches (arrays) of strings; any iterable (an array, a generator).
   * @throws Error if an element is not a string (or an array of strings).
   */
  adapt(data: Iterable<string | readonly string[]>): void {
    const counts = new Map<string, number>();
    const count = (text: unknown): void => {
      if (typeof text !== 'string') throw new Error(`Layer ${this.name}: adapt expects strings, got ${typeof text}`);
      for (const token of this.tokenize(text)) counts.set(token, (counts.get(token) ?? 0) + 1);
    };
    for (const item of data) {
      if (Array.isArray(item)) for (const text of item) count(text);
      else count(item);
    }
    counts.delete(PAD);
    counts.delete(OOV);
    const tokens = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || compareCodePoints(b, a));
    const room = this.maxTokens === null ? tokens.length : this.maxTokens - this.specialTokens().length;
    this.setTokens(tokens.slice(0, Math.max(0, room)));
  }

  /** The standardization and split of one string: its tokens (before vocabulary lookup). */
  tokenize(text: string): string[] {
    let s = text;
    const standardize = this.standardize;
    if (typeof standardize === 'function') s = standardize(s);
    else if (standardize !== null) {
      if (standardize !== 'strip_punctuation') s = s.toLowerCase();
      if (standardize !== 'lower') s = s.replace(PUNCTUATION, '');
    }
    const split = this.split;
    if (typeof split === 'function') return split(s);
    if (split === 'whitespace') return s.split(WHITESPACE).filter((t) => t !== '');
    if (split === 'character') return Array.from(s);
    return [s];
  }

  /** The vocabulary, special tokens first (Keras' get_vocabulary). Empty before adapt / setVocabulary. */
  getVocabulary(): string[] {
    return this.tokens === null ? [] : [...this.specialTokens(), ...this.tokens];
  }

  /** The size of {@link TextVectorization.getVocabulary} (0 before adapt / setVocabulary). */
  vocabularySize(): number {
    return this.tokens === null ? 0 : this.tokens.length + this.specialTokens().length;
  }

  /** The output width of multi_hot / count: maxTokens with padToMaxTokens, else the vocabulary size. */
  private depth(): number {
    return this.padToMaxTokens ? this.maxTokens! : this.vocabularySize();
  }

  /**
   * Vectorizes a batch of strings: int32 [batch, length] in int mode (indices, 0-padded or
   * truncated to outputSequenceLength, else to the longest text of the batch), float32
   * [batch, depth] in multi_hot / count mode.
   *
   * @param inputs - the texts: an array of strings (a Tensor is refused: strings are not tensors).
   * @throws Error if the input is not an array of strings, or the layer has no vocabulary yet.
   */
  override apply(inputs: Tensor | Tensor[] | readonly string[], kwargs?: CallKwargs): Tensor;
  override apply(inputs: SymbolicTensor | SymbolicTensor[], kwargs?: CallKwargs): never;
  override apply(inputs: Tensor | Tensor[] | readonly string[] | SymbolicTensor | SymbolicTensor[], _kwargs: CallKwargs = {}): Tensor {
    if (!Array.isArray(inputs) || inputs.some((t) => typeof t !== 'string')) {
      throw new Error(
        `Layer ${this.name}: TextVectorization takes an array of strings (strings are not tensors in Axon), got ${inputs instanceof Tensor ? 'a Tensor' : isSymbolic(inputs) ? 'a symbolic tensor (it runs before a model, not in one)' : Array.isArray(inputs) ? 'an array with non-strings' : typeof inputs}`,
      );
    }
    if (this.tokens === null) {
      throw new Error(`Layer ${this.name}: no vocabulary yet; call adapt(texts) or give a vocabulary first`);
    }
    const texts = inputs as unknown as readonly string[];
    const oov = this.outputMode === 'int' ? 1 : 0;
    const ids = texts.map((text) => this.tokenize(text).map((t) => this.index.get(t) ?? oov));
    const batch = texts.length;
    if (this.outputMode === 'int') {
      const length = this.outputSequenceLength ?? ids.reduce((m, row) => Math.max(m, row.length), 0);
      const out = new Int32Array(batch * length);
      ids.forEach((row, b) => {
        for (let j = 0; j < Math.min(length, row.length); j++) out[b * length + j] = row[j]!;
      });
      return new Tensor(out, [batch, length], 'int32');
    }
    const depth = this.depth();
    const out = new Float32Array(batch * depth);
    const count = this.outputMode === 'count';
    ids.forEach((row, b) => {
      for (const id of row) out[b * depth + id] = count ? out[b * depth + id]! + 1 : 1;
    });
    return new Tensor(out, [batch, depth]);
  }

  /** Not used: TextVectorization works on strings in {@link TextVectorization.apply}. */
  override call(_inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor {
    throw new Error(`Layer ${this.name}: TextVectorization takes an array of strings through apply(), not tensors`);
  }

  /** [batch, outputSequenceLength (null if unset)] in int mode, [batch, depth] otherwise. */
  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const batch = Array.isArray(inputShape[0]) ? null : ((inputShape as Shape)[0] ?? null);
    if (this.outputMode === 'int') return [batch, this.outputSequenceLength];
    return [batch, this.tokens === null && !this.padToMaxTokens ? null : this.depth()];
  }

  /**
   * The options and the vocabulary (special tokens included), so that fromConfig rebuilds an
   * equivalent layer.
   *
   * @throws Error if standardize or split is a function (functions cannot be serialized).
   */
  override getConfig(): Record<string, unknown> {
    if (typeof this.standardize === 'function' || typeof this.split === 'function') {
      throw new Error(`Layer ${this.name}: a TextVectorization with a standardize or split function cannot be serialized`);
    }
    return {
      maxTokens: this.maxTokens,
      standardize: this.standardize,
      split: this.split,
      ngrams: null,
      outputMode: this.outputMode,
      outputSequenceLength: this.outputSequenceLength,
      padToMaxTokens: this.padToMaxTokens,
      vocabulary: this.tokens === null ? null : this.getVocabulary(),
      ragged: false,
      sparse: false,
      ...super.getConfig(),
    };
  }
}
registerLayer(TextVectorization);

/**
 * A {@link TextVectorization} layer (Keras `keras.layers.TextVectorization`).
 *
 * @example
 * ```ts
 * const vectorize = textVectorization({ maxTokens: 20000, outputSequenceLength: 200 });
 * vectorize.adapt(trainTexts);
 * const x = vectorize.apply(trainTexts); // int32 [n, 200]
 * ```
 */
export const textVectorization = (args: TextVectorizationArgs = {}): TextVectorization => new TextVectorization(args);
