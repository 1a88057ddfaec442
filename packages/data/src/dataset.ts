/**
 * A lazy, re-iterable stream of elements, as tf.data.Dataset: each pass (`for await`,
 * `iterator()`) starts over from the source, and a transformation only describes a new dataset.
 */
import { Tensor, randomInt, reshape, slice, tensor } from '@axon/tensor';
import { type Batched, batchElements, forEachLeaf, isPlainObject, kindOf } from './element.js';
import { generator } from './random.js';

/** A function called once per pass that starts the pass: returns a fresh iterator over the elements. */
type Source<T> = () => AsyncIterator<T>;

/**
 * A batch a model trains on — what `fit(dataset)` consumes, as TensorFlow.js' `fitDataset`: an
 * object `{ xs, ys }` or a pair `[xs, ys]`, each a Tensor whose axis 0 is the batch.
 */
export type TrainingBatch = InputsAndTargets | [Tensor, Tensor];

/** The object form of a {@link TrainingBatch}. */
export interface InputsAndTargets {
  /** The inputs of the batch. */
  xs: Tensor;
  /** The targets of the batch. */
  ys: Tensor;
}

/** Options of {@link Dataset.shuffle}. */
export interface ShuffleOptions {
  /** Seed of the shuffle; default: drawn from @axon/tensor's global generator (so `setSeed` fixes it too). */
  seed?: number;
  /** Shuffle each pass differently (still determined by the seed); default true, as tf.data. */
  reshuffleEachIteration?: boolean;
}

/** Options of {@link Dataset.batch}. */
export interface BatchOptions {
  /** Drop the last batch when it has fewer than `size` elements (default false: keep it). */
  dropRemainder?: boolean;
}

/** Options of {@link Dataset.mapInWorkers}. */
export interface WorkerMapOptions {
  /** Number of worker threads (default 1). */
  workers?: number;
}

/** Throws unless `value` is an integer ≥ `min`, naming the operation and the option. */
export function checkInteger(op: string, name: string, value: unknown, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    const wanted = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
    throw new Error(`${op}: ${name} must be ${wanted}, got ${typeof value === 'string' ? `'${value}'` : String(value)}`);
  }
}

/** Throws unless `options` is undefined or an object with only the `allowed` keys. */
export function checkOptions(op: string, options: unknown, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (!isPlainObject(options)) throw new Error(`${op}: options must be an object, got ${kindOf(options)}`);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new Error(`${op}: unknown option '${key}' (expected ${allowed.map((k) => `'${k}'`).join(', ')})`);
  }
}

function checkFunction(op: string, fn: unknown): void {
  if (typeof fn !== 'function') throw new Error(`${op}: expected a function, got ${kindOf(fn)}`);
}

/** Ends `iterator` early (runs its `finally` blocks, closes its files), ignoring iterators that cannot be ended. */
async function close(iterator: AsyncIterator<unknown>): Promise<void> {
  await iterator.return?.();
}

/**
 * A lazy, re-iterable, typed stream of elements — the input pipeline of tf.data / tfjs'
 * `tf.data.Dataset`. An element is a Tensor, a number, a string, a Float32Array / Int32Array, a
 * number array, or an array or plain object of elements (`{ xs, ys }`, `[x, y]`). Nothing runs
 * until a pass iterates it (`for await`, {@link iterator}, {@link toArray}), and every pass starts
 * afresh from the source; memory is bounded by the buffers asked for (`shuffle`, `batch`,
 * `prefetch`, `cache`), whatever the size of the source.
 *
 * Make one with {@link fromTensors}, {@link array}, {@link fromIterable}, {@link fromGenerator},
 * {@link idx}, {@link csv} or {@link imageFolder}.
 *
 * @example
 * ```ts
 * const ds = array([1, 2, 3, 4, 5]).map((x) => x * 10).filter((x) => x !== 30).batch(2);
 * for await (const b of ds) console.log(b.toArray()); // [10, 20], then [40, 50]
 * ```
 */
export class Dataset<T> implements AsyncIterable<T> {
  /** @internal Use the factories ({@link fromIterable}, {@link fromGenerator}, ...). */
  constructor(private readonly source: Source<T>) {}

  /** A fresh iterator: one pass over the elements from the start. */
  iterator(): AsyncIterator<T> {
    return this.source();
  }

  /** One pass over the elements from the start, for `for await (const x of dataset)`. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return this.source();
  }

  /** A dataset of `fn(element)` for each element; `fn` may be async. */
  map<U>(fn: (element: T) => U | Promise<U>): Dataset<U> {
    checkFunction('map', fn);
    const self = this;
    return new Dataset(async function* () {
      for await (const element of self) yield await fn(element);
    });
  }

  /** A dataset of the elements for which `predicate` (sync or async) returns true. */
  filter(predicate: (element: T) => boolean | Promise<boolean>): Dataset<T> {
    checkFunction('filter', predicate);
    const self = this;
    return new Dataset(async function* () {
      for await (const element of self) if (await predicate(element)) yield element;
    });
  }

  /**
   * A dataset of the same elements in a random order, as tf.data's shuffle: a buffer holds the
   * next `bufferSize` elements and each step yields one of them at random, replacing it with the
   * next element of the source. A buffer at least the size of the data set gives a uniform
   * shuffle; a smaller one only mixes nearby elements but bounds the memory. The order depends only
   * on the seed (and, with `reshuffleEachIteration`, on the pass number).
   *
   * @throws Error if bufferSize is not a positive integer, or seed is not a finite number.
   */
  shuffle(bufferSize: number, options: ShuffleOptions = {}): Dataset<T> {
    checkInteger('shuffle', 'bufferSize', bufferSize, 1);
    checkOptions('shuffle', options, ['seed', 'reshuffleEachIteration']);
    const { seed = randomInt(2 ** 31), reshuffleEachIteration = true } = options;
    if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new Error(`shuffle: seed must be a finite number, got ${String(seed)}`);
    const self = this;
    let pass = 0;
    return new Dataset(async function* () {
      // Each pass draws from its own generator, so a pass's order does not depend on how far others ran.
      const random = generator(reshuffleEachIteration ? seed + Math.imul(pass++, 0x9e3779b9) : seed);
      const buffer: T[] = [];
      for await (const element of self) {
        if (buffer.length < bufferSize) {
          buffer.push(element);
          continue;
        }
        const pick = Math.floor(random() * bufferSize);
        yield buffer[pick]!;
        buffer[pick] = element;
      }
      while (buffer.length > 0) {
        const pick = Math.floor(random() * buffer.length);
        yield buffer[pick]!;
        buffer[pick] = buffer[buffer.length - 1]!;
        buffer.pop();
      }
    });
  }

  /**
   * A dataset of batches of `size` consecutive elements, stacked along a new axis 0: tensors,
   * numbers, number arrays and typed arrays become one Tensor (numbers and number arrays float32,
   * an Int32Array or int32 tensors int32), strings a string array, and arrays and objects keep
   * their structure with each part batched (`{ xs, ys }` of batches). The last batch is smaller
   * unless `dropRemainder`.
   *
   * @throws Error if size is not a positive integer; during a pass, if the elements of a batch
   *   differ in structure, kind or shape (naming the element, where, and both shapes).
   */
  batch(size: number, options: BatchOptions = {}): Dataset<Batched<T>> {
    checkInteger('batch', 'size', size, 1);
    checkOptions('batch', options, ['dropRemainder']);
    const { dropRemainder = false } = options;
    const self = this;
    return new Dataset(async function* () {
      let pending: T[] = [];
      for await (const element of self) {
        pending.push(element);
        if (pending.length === size) {
          yield batchElements('batch', pending);
          pending = [];
        }
      }
      if (pending.length > 0 && !dropRemainder) yield batchElements('batch', pending);
    });
  }

  /**
   * A dataset that passes over this one `count` times (forever when omitted). A pass over an empty
   * source ends the repetition, so repeating an empty dataset forever does not hang.
   *
   * @throws Error if count is not a non-negative integer.
   */
  repeat(count?: number): Dataset<T> {
    if (count !== undefined) checkInteger('repeat', 'count', count, 0);
    const self = this;
    return new Dataset(async function* () {
      for (let i = 0; count === undefined || i < count; i++) {
        let empty = true;
        for await (const element of self) {
          empty = false;
          yield element;
        }
        if (empty) return;
      }
    });
  }

  /**
   * A dataset of the first `count` elements (all of them if there are fewer).
   *
   * @throws Error if count is not a non-negative integer.
   */
  take(count: number): Dataset<T> {
    checkInteger('take', 'count', count, 0);
    const self = this;
    return new Dataset(async function* () {
      if (count === 0) return;
      let taken = 0;
      for await (const element of self) {
        yield element;
        if (++taken === count) return;
      }
    });
  }

  /**
   * A dataset without the first `count` elements.
   *
   * @throws Error if count is not a non-negative integer.
   */
  skip(count: number): Dataset<T> {
    checkInteger('skip', 'count', count, 0);
    const self = this;
    return new Dataset(async function* () {
      let seen = 0;
      for await (const element of self) if (seen++ >= count) yield element;
    });
  }

  /**
   * A dataset that keeps the elements of its first complete pass in memory and replays them on
   * later passes, so whatever comes before (reading, decoding, `map`) runs once. A pass stopped
   * early caches nothing. The elements must fit in memory.
   */
  cache(): Dataset<T> {
    const self = this;
    let cached: T[] | null = null;
    return new Dataset(async function* () {
      if (cached !== null) {
        yield* cached;
        return;
      }
      const filling: T[] = [];
      for await (const element of self) {
        filling.push(element);
        yield element;
      }
      cached = filling;
    });
  }

  /**
   * A dataset that keeps up to `bufferSize` elements in flight: it asks the source for the next
   * elements while the consumer works on the current one, so reading, decoding or a worker map
   * overlap with the training step.
   *
   * @throws Error if bufferSize is not a positive integer.
   */
  prefetch(bufferSize: number): Dataset<T> {
    checkInteger('prefetch', 'bufferSize', bufferSize, 1);
    const self = this;
    return new Dataset(async function* () {
      const source = self.iterator();
      const inFlight: Promise<IteratorResult<T>>[] = [];
      const request = (): void => {
        const next = source.next();
        next.catch(() => {}); // surfaced when awaited below; not an unhandled rejection meanwhile
        inFlight.push(next);
      };
      try {
        while (inFlight.length < bufferSize) request();
        while (true) {
          const result = await inFlight.shift()!;
          if (result.done) return;
          request();
          yield result.value;
        }
      } finally {
        await Promise.allSettled(inFlight);
        await close(source);
      }
    });
  }

  /** A dataset of this one's elements followed by `other`'s. */
  concatenate(other: Dataset<T>): Dataset<T> {
    if (!(other instanceof Dataset)) throw new Error(`concatenate: expected a Dataset, got ${kindOf(other)}`);
    const self = this;
    return new Dataset(async function* () {
      yield* self;
      yield* other;
    });
  }

  /**
   * A dataset of `exportName(element)` computed in `workers` worker threads, in order — to decode
   * or augment off the main thread. A function cannot be sent to a thread, so it is named: the
   * module (a path, `file:` URL or package name importable from the worker) and its export, a
   * function of one element (sync or async). Elements travel by structured clone, so they must be
   * plain data (numbers, strings, typed arrays, arrays, objects — no Tensors: map them to arrays
   * before, to tensors after). Up to two elements per worker are in flight; the threads start at
   * the beginning of each pass and stop at its end.
   *
   * @throws Error if exportName is not a string or workers not a positive integer; during a pass,
   *   if the module cannot be loaded, its export is not a function, an element holds a Tensor, or
   *   the function throws (naming the element).
   */
  mapInWorkers<U>(module: string | URL, exportName: string, options: WorkerMapOptions = {}): Dataset<U> {
    checkOptions('mapInWorkers', options, ['workers']);
    const { workers = 1 } = options;
    checkInteger('mapInWorkers', 'workers', workers, 1);
    if (typeof exportName !== 'string') throw new Error(`mapInWorkers: exportName must be a string, got ${kindOf(exportName)}`);
    // Imported lazily so that a dataset that never uses threads never loads the thread code.
    const self = this;
    return new Dataset(async function* () {
      const { mapInWorkerPool } = await import('./workers.js');
      yield* mapInWorkerPool<T, U>(self, module, exportName, workers);
    });
  }

  /** Every element of one pass, in an array (the dataset must be finite and fit in memory). */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for await (const element of this) out.push(element);
    return out;
  }

  /** Calls `fn` (sync or async) on every element of one pass, in order. */
  async forEachAsync(fn: (element: T) => unknown): Promise<void> {
    checkFunction('forEachAsync', fn);
    for await (const element of this) await fn(element);
  }
}

/**
 * A dataset over a sync or async iterable. Each pass iterates `iterable` again, so an array or a
 * Set gives the same elements every pass, while a one-shot iterator (a generator object) gives
 * its elements once — use {@link fromGenerator} for a source that can restart.
 *
 * @throws Error if `iterable` is neither iterable nor async-iterable.
 */
export function fromIterable<T>(iterable: Iterable<T> | AsyncIterable<T>): Dataset<T> {
  const it = iterable as Partial<Iterable<T> & AsyncIterable<T>> | null;
  if (typeof it?.[Symbol.asyncIterator] !== 'function' && typeof it?.[Symbol.iterator] !== 'function') {
    throw new Error(`fromIterable: expected an iterable or async iterable, got ${kindOf(iterable)}`);
  }
  return new Dataset(async function* () {
    yield* iterable;
  });
}

/**
 * A dataset whose every pass calls `start()` for a fresh (sync or async) iterator — typically a
 * generator function — as tfjs' `tf.data.generator`.
 *
 * @throws Error if `start` is not a function; during a pass, if it does not return an iterator.
 *
 * @example
 * ```ts
 * const squares = fromGenerator(function* () {
 *   for (let i = 0; i < 3; i++) yield i * i;
 * });
 * await squares.toArray(); // [0, 1, 4], on every pass
 * ```
 */
export function fromGenerator<T>(start: () => Iterator<T> | AsyncIterator<T>): Dataset<T> {
  checkFunction('fromGenerator', start);
  return new Dataset(async function* () {
    const iterator = start();
    if (typeof (iterator as Partial<Iterator<T>> | null)?.next !== 'function') {
      throw new Error(`fromGenerator: the function must return an iterator (call a generator function), got ${kindOf(iterator)}`);
    }
    yield* { [Symbol.asyncIterator]: () => iterator as AsyncIterator<T> };
  });
}

/** A dataset of the given elements, in order (as tfjs' `tf.data.array`). */
export function array<T>(elements: readonly T[]): Dataset<T> {
  if (!Array.isArray(elements)) throw new Error(`array: expected an array of elements, got ${kindOf(elements)}`);
  return fromIterable(elements);
}

/** The structure of slices of a structure of tensors: each Tensor loses its axis 0. */
export type Sliced<T> = T extends Tensor ? Tensor : { -readonly [K in keyof T]: Sliced<T[K]> };

/** The tensors of a structure, with their paths (`.xs`, `[1]`), checked to be tensors. */
function tensorsOf(op: string, structure: unknown): { path: string; tensor: Tensor }[] {
  const found: { path: string; tensor: Tensor }[] = [];
  forEachLeaf(op, structure, (leaf, path) => {
    if (!(leaf instanceof Tensor) || leaf.rank === 0) {
      throw new Error(`${op}: ${path === '' ? 'the argument' : path} must be a Tensor of rank 1 or more, got ${kindOf(leaf)}`);
    }
    found.push({ path, tensor: leaf });
  });
  return found;
}

/** `structure` with each Tensor replaced by `f(tensor)`. */
function mapTensors(structure: unknown, f: (t: Tensor) => Tensor): unknown {
  if (structure instanceof Tensor) return f(structure);
  if (Array.isArray(structure)) return structure.map((part) => mapTensors(part, f));
  return Object.fromEntries(Object.entries(structure as object).map(([key, part]) => [key, mapTensors(part, f)]));
}

/**
 * A dataset of the slices of `tensors` along axis 0 (as tf.data's `from_tensor_slices`):
 * `fromTensors({ xs, ys })` with xs [n, ...] and ys [n, ...] has n elements `{ xs: xs[i], ys: ys[i] }`.
 * `tensors` is a Tensor or an array or object of them, all with the same size of axis 0.
 *
 * @throws Error if a part is not a Tensor of rank ≥ 1, or their sizes along axis 0 differ.
 *
 * @example
 * ```ts
 * const ds = fromTensors({ xs: tensor([[1, 2], [3, 4], [5, 6]]), ys: tensor([0, 1, 0]) });
 * for await (const { xs, ys } of ds.batch(2)) console.log(xs.shape, ys.shape); // [2, 2] [2], then [1, 2] [1]
 * ```
 */
export function fromTensors<S extends Tensor | readonly unknown[] | Record<string, unknown>>(tensors: S): Dataset<Sliced<S>> {
  const parts = tensorsOf('fromTensors', tensors);
  const rows = parts[0]?.tensor.shape[0] ?? 0;
  for (const { path, tensor } of parts) {
    if (tensor.shape[0] !== rows) {
      throw new Error(`fromTensors: ${path} has ${tensor.shape[0]} rows along axis 0, but ${parts[0]!.path} has ${rows}`);
    }
  }
  return new Dataset(async function* () {
    // @axon/tensor's slice computes in float32, exact for integers only up to 2^24: int32 tensors slice on the host.
    const intValues = new Map(parts.filter((p) => p.tensor.dtype === 'int32').map((p) => [p.tensor, p.tensor.intDataSync()]));
    const row = (t: Tensor, i: number): Tensor => {
      const values = intValues.get(t);
      const rowShape = t.shape.slice(1);
      if (values === undefined) return reshape(slice(t, i, 1), rowShape);
      const size = t.size / rows;
      return tensor(values.slice(i * size, (i + 1) * size), rowShape);
    };
    for (let i = 0; i < rows; i++) yield mapTensors(tensors, (t) => row(t, i)) as Sliced<S>;
  });
}

/** The element type of a dataset. */
export type ElementOf<D> = D extends Dataset<infer T> ? T : never;

/**
 * A dataset of the elements of several datasets side by side, as tf.data's `zip`: from an array
 * of datasets, arrays `[a_i, b_i]`; from an object, objects `{ xs: a_i, ys: b_i }`. It ends with
 * the shortest.
 *
 * @throws Error if `datasets` is not a non-empty array or object of Datasets.
 *
 * @example
 * ```ts
 * const pairs = zip({ xs: array([[1, 2], [3, 4]]), ys: array([0, 1]) }).batch(2);
 * ```
 */
export function zip<D extends readonly Dataset<unknown>[] | Record<string, Dataset<unknown>>>(
  datasets: D,
): Dataset<{ -readonly [K in keyof D]: ElementOf<D[K]> }> {
  const entries = Array.isArray(datasets)
    ? datasets.map((d, i) => [i, d] as const)
    : isPlainObject(datasets)
      ? Object.entries(datasets)
      : null;
  if (entries === null || entries.length === 0)
    throw new Error(`zip: expected a non-empty array or object of Datasets, got ${kindOf(datasets)}`);
  for (const [key, d] of entries) {
    if (!(d instanceof Dataset)) throw new Error(`zip: ${Array.isArray(datasets) ? `[${key}]` : `.${key}`} is ${kindOf(d)}, not a Dataset`);
  }
  type Out = { -readonly [K in keyof D]: ElementOf<D[K]> };
  return new Dataset<Out>(async function* () {
    const iterators = entries.map(([, d]) => (d as Dataset<unknown>).iterator());
    try {
      while (true) {
        const results = await Promise.all(iterators.map((it) => it.next()));
        if (results.some((r) => r.done)) return;
        const values = results.map((r) => r.value);
        yield (Array.isArray(datasets) ? values : Object.fromEntries(entries.map(([key], i) => [key, values[i]]))) as Out;
      }
    } finally {
      await Promise.allSettled(iterators.map(close));
    }
  });
}
