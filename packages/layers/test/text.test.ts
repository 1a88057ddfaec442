/** TextVectorization: hand-computed cases (Keras documentation examples), modes, adapt ordering, configs, errors. */
import { describe, expect, it } from 'vitest';
import { deserializeLayer, serializeLayer, TextVectorization, textVectorization } from '../src/index.js';

describe('TextVectorization', () => {
  it('maps a given vocabulary as the Keras documentation example (int mode, outputSequenceLength 4)', () => {
    const layer = textVectorization({ maxTokens: 5000, outputSequenceLength: 4, vocabulary: ['earth', 'wind', 'and', 'fire'] });
    const y = layer.apply(['earth wind and fire', 'fire and earth michigan']);
    expect(y.dtype).toBe('int32');
    expect(y.shape).toEqual([2, 4]);
    expect(y.toArray()).toEqual([
      [2, 3, 4, 5],
      [5, 4, 2, 1],
    ]);
    expect(layer.getVocabulary()).toEqual(['', '[UNK]', 'earth', 'wind', 'and', 'fire']);
    expect(layer.vocabularySize()).toBe(6);
  });

  it('adapts as Keras: descending count, ties by descending code-point order of the token', () => {
    // The Keras documentation's adapt example (also Keras' test_adapt_flow): counts bar 2, baz 2,
    // foo 1, bada 1, boom 1. Keras' IndexLookup sorts with np.lexsort((tokens, counts))[::-1], so
    // equal counts come in descending token order: baz before bar, foo before boom before bada.
    const layer = textVectorization({ maxTokens: 5000, outputSequenceLength: 4 });
    layer.adapt(['foo bar', 'bar baz', 'baz bada boom']);
    expect(layer.getVocabulary()).toEqual(['', '[UNK]', 'baz', 'bar', 'foo', 'boom', 'bada']);
    expect(layer.apply(['foo qux bar', 'qux baz']).toArray()).toEqual([
      [4, 1, 3, 0],
      [1, 2, 0, 0],
    ]);
    // Keras' test_fixed_vocabulary: the same output from the vocabulary given.
    const fixed = textVectorization({ maxTokens: 5000, outputSequenceLength: 4, vocabulary: ['baz', 'bar', 'foo'] });
    expect(fixed.apply(['foo qux bar', 'qux baz']).toArray()).toEqual([
      [4, 1, 3, 0],
      [1, 2, 0, 0],
    ]);
    layer.adapt(['b a a', 'c c c b', 'd', 'e']); // counts: c 3, a 2, b 2, d 1, e 1
    expect(layer.getVocabulary()).toEqual(['', '[UNK]', 'c', 'b', 'a', 'e', 'd']);
    // The order depends on the data only, not on the order the texts come in.
    const shuffled = textVectorization();
    shuffled.adapt(['e', 'd', 'c c c b', 'b a a']);
    expect(shuffled.getVocabulary()).toEqual(layer.getVocabulary());
    // Code-point (UTF-8 byte) order, not UTF-16: U+1F600 sorts after U+FF5A.
    const wide = textVectorization();
    wide.adapt(['\uff5a \u{1f600} a']);
    expect(wide.getVocabulary()).toEqual(['', '[UNK]', '\u{1f600}', '\uff5a', 'a']);
  });

  it('keeps the most frequent maxTokens tokens, special tokens included', () => {
    const int = textVectorization({ maxTokens: 4 });
    int.adapt(['x y y z z z w w w w']);
    expect(int.getVocabulary()).toEqual(['', '[UNK]', 'w', 'z']);
    expect(int.apply(['w z y x q']).toArray()).toEqual([[2, 3, 1, 1, 1]]);
    const hot = textVectorization({ maxTokens: 4, outputMode: 'multi_hot' });
    hot.adapt(['x y y z z z w w w w']);
    expect(hot.getVocabulary()).toEqual(['[UNK]', 'w', 'z', 'y']);
  });

  it('pads and truncates int outputs; without outputSequenceLength pads to the batch longest', () => {
    const layer = textVectorization({ vocabulary: ['a', 'b', 'c'], outputSequenceLength: 3 });
    expect(layer.apply(['a b c a b', 'c', '']).toArray()).toEqual([
      [2, 3, 4],
      [4, 0, 0],
      [0, 0, 0],
    ]);
    const free = textVectorization({ vocabulary: ['a', 'b', 'c'] });
    const y = free.apply(['a', 'b c a b', 'zz c']);
    expect(y.shape).toEqual([3, 4]);
    expect(y.toArray()).toEqual([
      [2, 0, 0, 0],
      [3, 4, 2, 3],
      [1, 4, 0, 0],
    ]);
  });

  it('standardizes: lower case and strip punctuation by default, or as asked', () => {
    const text = "Hello, World! It's   A\tTEST.";
    expect(textVectorization().tokenize(text)).toEqual(['hello', 'world', 'its', 'a', 'test']);
    expect(textVectorization({ standardize: 'lower' }).tokenize(text)).toEqual(['hello,', 'world!', "it's", 'a', 'test.']);
    expect(textVectorization({ standardize: 'strip_punctuation' }).tokenize(text)).toEqual(['Hello', 'World', 'Its', 'A', 'TEST']);
    expect(textVectorization({ standardize: null }).tokenize(text)).toEqual(['Hello,', 'World!', "It's", 'A', 'TEST.']);
    expect(textVectorization({ standardize: (s) => s.replace(/\d/g, '#') }).tokenize('a1 b22')).toEqual(['a#', 'b##']);
    // Only ASCII punctuation goes (Python's string.punctuation): « » and é stay.
    expect(textVectorization().tokenize('«Été» -- a.b_c')).toEqual(['«été»', 'abc']);
  });

  it('splits on whitespace, into characters, or not at all', () => {
    expect(textVectorization({ split: 'character' }).tokenize('Ab c!')).toEqual(['a', 'b', ' ', 'c']);
    expect(textVectorization({ split: 'character', standardize: null }).tokenize('a😀b')).toEqual(['a', '😀', 'b']);
    expect(textVectorization({ split: null }).tokenize('Two Words')).toEqual(['two words']);
    expect(textVectorization({ standardize: 'lower', split: (s) => s.split('-') }).tokenize('A-b')).toEqual(['a', 'b']);
    const chars = textVectorization({ split: 'character', vocabulary: ['a', 'b'] });
    expect(chars.apply(['ab', 'ba c']).toArray()).toEqual([
      [2, 3, 0, 0],
      [3, 2, 1, 1],
    ]);
  });

  it('multi_hot and count: OOV at index 0, depth the vocabulary size or maxTokens', () => {
    const hot = textVectorization({ outputMode: 'multi_hot', vocabulary: ['earth', 'wind', 'and', 'fire'] });
    expect(hot.getVocabulary()).toEqual(['[UNK]', 'earth', 'wind', 'and', 'fire']);
    const y = hot.apply(['earth wind and earth', 'fire michigan', '']);
    expect(y.dtype).toBe('float32');
    expect(y.toArray()).toEqual([
      [0, 1, 1, 1, 0],
      [1, 0, 0, 0, 1],
      [0, 0, 0, 0, 0],
    ]);
    const count = textVectorization({
      outputMode: 'count',
      maxTokens: 8,
      padToMaxTokens: true,
      vocabulary: ['earth', 'wind', 'and', 'fire'],
    });
    expect(count.apply(['earth wind and earth moon moon sun']).toArray()).toEqual([[3, 2, 1, 1, 0, 0, 0, 0]]);
    expect(count.computeOutputShape([null])).toEqual([null, 8]);
    const adapted = textVectorization({ outputMode: 'multi_hot', maxTokens: 10, padToMaxTokens: true });
    adapted.adapt(['a b', 'b']);
    expect(adapted.getVocabulary()).toEqual(['[UNK]', 'b', 'a']);
    expect(adapted.apply(['b c']).toArray()).toEqual([[1, 1, 0, 0, 0, 0, 0, 0, 0, 0]]);
  });

  it('accepts leading special tokens in a vocabulary and rejects them elsewhere', () => {
    expect(textVectorization({ vocabulary: ['', '[UNK]', 'a'] }).getVocabulary()).toEqual(['', '[UNK]', 'a']);
    expect(textVectorization({ outputMode: 'count', vocabulary: ['[UNK]', 'a'] }).getVocabulary()).toEqual(['[UNK]', 'a']);
    expect(() => textVectorization({ vocabulary: ['a', '[UNK]'], name: 'tv' })).toThrow(
      /Layer tv: the vocabulary contains the special token "\[UNK\]"/,
    );
    expect(() => textVectorization({ vocabulary: ['a', 'b', 'a'], name: 'tv' })).toThrow(/Layer tv: the vocabulary repeats the token "a"/);
    expect(() => textVectorization({ vocabulary: ['a', 'b'], maxTokens: 3, name: 'tv' })).toThrow(
      /the vocabulary has 4 tokens \(special tokens included\), more than maxTokens 3/,
    );
  });

  it('round-trips through its config with the vocabulary', () => {
    const layer = textVectorization({ name: 'tv', maxTokens: 6, outputSequenceLength: 3, standardize: 'lower' });
    layer.adapt(['A b b', 'c A A']);
    const s = serializeLayer(layer);
    expect(s).toEqual({
      className: 'TextVectorization',
      config: {
        maxTokens: 6,
        standardize: 'lower',
        split: 'whitespace',
        ngrams: null,
        outputMode: 'int',
        outputSequenceLength: 3,
        padToMaxTokens: false,
        vocabulary: ['', '[UNK]', 'a', 'b', 'c'],
        ragged: false,
        sparse: false,
        name: 'tv',
        trainable: true,
        dtype: 'float32',
      },
    });
    const copy = deserializeLayer(JSON.parse(JSON.stringify(s))) as TextVectorization;
    expect(copy).toBeInstanceOf(TextVectorization);
    expect(serializeLayer(copy)).toEqual(s);
    expect(copy.apply(['c a x b']).toArray()).toEqual(layer.apply(['c a x b']).toArray());
    // Keras' snake_case keys.
    const keras = deserializeLayer({
      class_name: 'TextVectorization',
      config: { max_tokens: null, output_mode: 'multi_hot', vocabulary: ['x'], pad_to_max_tokens: false, name: 'k' },
    } as never) as TextVectorization;
    expect(keras.apply(['x y']).toArray()).toEqual([[1, 1]]);
    expect(() => textVectorization({ standardize: (s) => s }).getConfig()).toThrow(/cannot be serialized/);
  });

  it('is reproducible: adapting the same data twice gives the same vocabulary and outputs', () => {
    const texts = Array.from({ length: 200 }, (_, i) => `w${i % 7} w${(i * 3) % 11} w${(i * 5) % 13} W${i % 7}!`);
    const a = textVectorization({ maxTokens: 12, outputMode: 'count' });
    const b = textVectorization({ maxTokens: 12, outputMode: 'count' });
    a.adapt(texts);
    b.adapt(
      (function* () {
        yield* texts;
      })(),
    );
    expect(b.getVocabulary()).toEqual(a.getVocabulary());
    expect(b.apply(texts).toArray()).toEqual(a.apply(texts).toArray());
    // Batches (arrays of strings) count the same as single strings.
    const c = textVectorization({ maxTokens: 12, outputMode: 'count' });
    c.adapt([texts.slice(0, 100), texts.slice(100)]);
    expect(c.getVocabulary()).toEqual(a.getVocabulary());
  });

  it('refuses bad options and inputs with clear errors', () => {
    expect(() => textVectorization({ maxToken: 3 } as never)).toThrow(/unknown option 'maxToken' \(did you mean 'maxTokens'\?\)/);
    expect(() => textVectorization({ output_mode: 'int' } as never)).toThrow(/did you mean 'outputMode'/);
    expect(() => textVectorization({ name: 'tv', maxTokens: 1 })).toThrow(/Layer tv: maxTokens must be null or an integer > 1, got 1/);
    expect(() => textVectorization({ name: 'tv', standardize: 'upper' as never })).toThrow(/Layer tv: standardize must be/);
    expect(() => textVectorization({ name: 'tv', split: 'words' as never })).toThrow(/Layer tv: split must be/);
    expect(() => textVectorization({ name: 'tv', outputMode: 'tf_idf' as never })).toThrow(/'tf_idf' is not supported/);
    expect(() => textVectorization({ name: 'tv', outputMode: 'multi_hot', outputSequenceLength: 4 })).toThrow(
      /outputSequenceLength is only valid in outputMode 'int'/,
    );
    expect(() => textVectorization({ name: 'tv', outputSequenceLength: 0 })).toThrow(/outputSequenceLength must be a positive integer/);
    expect(() => textVectorization({ name: 'tv', padToMaxTokens: true, maxTokens: 5 })).toThrow(/padToMaxTokens is only valid/);
    expect(() => textVectorization({ name: 'tv', outputMode: 'count', padToMaxTokens: true })).toThrow(/padToMaxTokens needs maxTokens/);
    expect(() => textVectorization({ name: 'tv', ngrams: 2 as never })).toThrow(/ngrams are not supported/);
    expect(() => textVectorization({ name: 'tv', ragged: true })).toThrow(/ragged outputs are not supported/);
    const layer = textVectorization({ name: 'tv' });
    expect(() => layer.apply(['a'])).toThrow(/Layer tv: no vocabulary yet; call adapt/);
    layer.adapt(['a']);
    expect(() => layer.apply('a b' as never)).toThrow(/takes an array of strings \(strings are not tensors in Axon\), got string/);
    expect(() => layer.apply([1, 2] as never)).toThrow(/an array with non-strings/);
    expect(() => layer.adapt([3] as never)).toThrow(/adapt expects strings, got number/);
  });
});
