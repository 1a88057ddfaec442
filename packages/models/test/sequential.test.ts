import '@axon/kernels-js';
import { describe, expect, it } from 'vitest';
import { type Tensor, setSeed, slice, tensor, randomNormal } from '@axon/tensor';
import { conv2d, dense, dropout, flatten, inputLayer, maxPooling2d, l2 } from '@axon/layers';
import { Sequential, getLoss, sequential } from '../src/index.js';
import { blobs, classifier, fakeStream, values } from './helpers.js';

describe('building', () => {
  it('builds as layers are added when the first layer declares its input shape', () => {
    const model = classifier();
    expect(model.built).toBe(true);
    expect(model.outputShape).toEqual([null, 3]);
    expect(model.countParams()).toBe(4 * 8 + 8 + 8 * 3 + 3);
    expect(model.weights.map((w) => w.name)).toEqual(model.layers.flatMap((l) => [`${l.name}/kernel`, `${l.name}/bias`]));
  });

  it('takes an InputLayer as the input shape without keeping it as a layer (as Keras)', () => {
    const model = new Sequential();
    model.add(inputLayer({ inputShape: [5] }));
    model.add(dense({ units: 2 }));
    expect(model.layers).toHaveLength(1);
    expect(model.inputShape).toEqual([null, 5]);
    expect(model.countParams()).toBe(12);
  });

  it('is built lazily from the first batch when no input shape is given', async () => {
    const model = sequential([dense({ units: 3 })]);
    expect(model.built).toBe(false);
    expect(() => model.build()).toThrow(/cannot build without an input shape: give the first layer an inputShape/);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    await model.fit(tensor([[1, 2]]), tensor([[0, 0, 0]]), { verbose: 0 });
    expect(model.built).toBe(true);
    expect(model.countParams()).toBe(9);
  });

  it('applies the weights given to a layer at construction when the model builds it', () => {
    const model = sequential([dense({ units: 1, inputShape: [2], weights: [tensor([[1], [2]]), tensor([3])] })]);
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual([[1, 2], [3]]);
    expect(Array.from((model.predict(tensor([[1, 1]])) as Tensor).dataSync())).toEqual([6]);
  });

  it('rejects non-layers and duplicate names', () => {
    const model = new Sequential();
    expect(() => model.add({} as never)).toThrow(/add\(\) expects a Layer, got Object/);
    model.add(dense({ units: 2, name: 'same', inputShape: [3] }));
    expect(() => model.add(dense({ units: 2, name: 'same' }))).toThrow("a layer named 'same' is already in the model");
  });

  it('prints a summary with output shapes, parameter counts and totals', () => {
    setSeed(1);
    const model = sequential([
      conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [8, 8, 1], name: 'c1' }),
      maxPooling2d({ poolSize: 2, name: 'p1' }),
      flatten({ name: 'f' }),
      dense({ units: 2, name: 'out' }),
    ]);
    const lines: string[] = [];
    model.summary({ printFn: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(text).toMatch(/c1 \(Conv2D\)\s+\[null,6,6,4\]\s+40/);
    expect(text).toMatch(/p1 \(MaxPooling2D\)\s+\[null,3,3,4\]\s+0/);
    expect(text).toMatch(/out \(Dense\)\s+\[null,2\]\s+74/);
    expect(text).toContain('Total params: 114');
    expect(text).toContain('Trainable params: 114');
    expect(text).toContain('Non-trainable params: 0');
  });
});

describe('fit', () => {
  it('learns a separable problem and reports Keras-named history', async () => {
    const { x, y } = blobs(150);
    const model = classifier();
    model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const history = await model.fit(x, y, { epochs: 30, batchSize: 16, validationSplit: 0.2, verbose: 0 });
    expect(history.epoch).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(Object.keys(history.history).sort()).toEqual(['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    expect(history.history.loss!.at(-1)!).toBeLessThan(history.history.loss![0]! * 0.5);
    expect(history.history.val_accuracy!.at(-1)!).toBeGreaterThan(0.9);
  });

  it('holds out the last fraction of the samples for validationSplit (before shuffling)', async () => {
    const { x, y } = blobs(40);
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const history = await model.fit(x, y, { epochs: 2, batchSize: 8, validationSplit: 0.25, verbose: 0 });
    const last = model.evaluate(slice(x, 30, 10), slice(y, 30, 10)) as number;
    expect(history.history.val_loss!.at(-1)!).toBeCloseTo(last, 5);
  });

  it('is reproducible with setSeed (initialization, shuffling)', async () => {
    const run = async (): Promise<number[]> => {
      const { x, y } = blobs(30);
      const model = classifier(3);
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
      setSeed(11);
      return (await model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0 })).history.loss!;
    };
    expect(await run()).toEqual(await run());
  });

  it('gives a sample of sampleWeight 0 no influence', async () => {
    const train = async (y: Tensor, sampleWeight: Tensor): Promise<number[]> => {
      const { x } = blobs(12);
      const model = classifier(5);
      model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
      await model.fit(x, y, { epochs: 2, batchSize: 12, shuffle: false, verbose: 0, sampleWeight });
      return values(model.getWeights()[0]!);
    };
    const { y } = blobs(12);
    const labels = Array.from(y.dataSync());
    const flipped = tensor(Int32Array.from(labels.map((l, i) => (i === 11 ? (l + 1) % 3 : l))), [12], 'int32');
    const zeroLast = tensor(labels.map((_, i) => (i === 11 ? 0 : 1)));
    expect(await train(flipped, zeroLast)).toEqual(await train(y, zeroLast));
    expect(await train(flipped, tensor(labels.map(() => 1)))).not.toEqual(await train(y, zeroLast));
  });

  it('weights the loss by classWeight (classes not listed weigh 1), times sampleWeight', () => {
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const x = tensor([
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
    ]);
    const y = tensor([0, 1, 2]);
    const perSample = values(getLoss('sparseCategoricalCrossentropy').perSample(y, model.predict(x)));
    const loss = model.trainOnBatch(x, y, { classWeight: { 0: 2, 2: 0.5 }, sampleWeight: tensor([1, 3, 1]) }) as number;
    expect(loss).toBeCloseTo((2 * perSample[0]! + 3 * perSample[1]! + 0.5 * perSample[2]!) / 3, 5);
    expect(() => model.trainOnBatch(x, y, { classWeight: { a: 1 } as never })).toThrow(
      /classWeight must map class indices to non-negative numbers/,
    );
  });

  it('runs epochs initialEpoch..epochs-1 and calls plain-object (async) callbacks in order', async () => {
    const { x, y } = blobs(8);
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const calls: string[] = [];
    const history = await model.fit(x, y, {
      epochs: 4,
      initialEpoch: 2,
      batchSize: 4,
      verbose: 0,
      callbacks: {
        onTrainBegin: () => void calls.push('trainBegin'),
        onEpochBegin: (e) => void calls.push(`epochBegin ${e}`),
        onBatchBegin: (b) => void calls.push(`batchBegin ${b}`),
        onBatchEnd: async (b, logs) => {
          await new Promise((r) => setTimeout(r, 1));
          calls.push(`batchEnd ${b} ${typeof logs?.loss}`);
        },
        onEpochEnd: (e, logs) => void calls.push(`epochEnd ${e} ${Object.keys(logs ?? {}).join(',')}`),
        onTrainEnd: () => void calls.push('trainEnd'),
      },
    });
    expect(history.epoch).toEqual([2, 3]);
    expect(calls).toEqual([
      'trainBegin',
      'epochBegin 2',
      'batchBegin 0',
      'batchEnd 0 number',
      'batchBegin 1',
      'batchEnd 1 number',
      'epochEnd 2 loss',
      'epochBegin 3',
      'batchBegin 0',
      'batchEnd 0 number',
      'batchBegin 1',
      'batchEnd 1 number',
      'epochEnd 3 loss',
      'trainEnd',
    ]);
  });

  it('stops when a callback sets stopTraining', async () => {
    const { x, y } = blobs(8);
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const history = await model.fit(x, y, {
      epochs: 10,
      verbose: 0,
      callbacks: {
        onEpochEnd: (epoch) => {
          if (epoch === 1) model.stopTraining = true;
        },
      },
    });
    expect(history.epoch).toEqual([0, 1]);
  });

  it("adds the layers' regularization penalties to the loss", () => {
    setSeed(2);
    const model = sequential([dense({ units: 2, inputShape: [3], kernelRegularizer: l2({ l2: 0.5 }) })]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = tensor([[1, 2, 3]]);
    const y = tensor([[0, 1]]);
    const dataLoss = getLoss('mse').compute(y, model.predict(x)).item();
    const penalty = 0.5 * values(model.getWeights()[0]!).reduce((s, v) => s + v * v, 0);
    expect(model.evaluate(x, y) as number).toBeCloseTo(dataLoss + penalty, 5);
  });

  it('trains with dropout only in training', async () => {
    // dense (8 units) -> dropout(0.5) -> dense(1), one sample, SGD: a dropped hidden unit gets no
    // gradient, so its kernel column in the first layer does not move; kept units' columns do.
    const build = (rate: number): Sequential => {
      setSeed(3);
      const m = sequential([dense({ units: 8, inputShape: [4] }), dropout({ rate }), dense({ units: 1 })]);
      m.compile({ optimizer: 'sgd', loss: 'mse' });
      return m;
    };
    const x1 = tensor([[1, -2, 0.5, 3]]);
    const y1 = tensor([[10]]);
    const columnsMoved = (m: Sequential): boolean[] => {
      const before = values(m.getWeights()[0]!);
      m.trainOnBatch(x1, y1);
      const after = values(m.getWeights()[0]!);
      return Array.from({ length: 8 }, (_, unit) => [0, 1, 2, 3].some((row) => after[row * 8 + unit] !== before[row * 8 + unit]));
    };
    const withDropout = build(0.5);
    const noDropout = build(0);
    expect(values(withDropout.predict(x1))).toEqual(values(noDropout.predict(x1))); // same weights
    // Inference: dropout is the identity, so predict is deterministic and equals the model without it.
    expect(values(withDropout.predict(x1))).toEqual(values(withDropout.predict(x1)));
    expect(columnsMoved(noDropout)).toEqual(new Array(8).fill(true));
    setSeed(10);
    const moved = columnsMoved(withDropout);
    expect(moved).toContain(true);
    expect(moved).toContain(false);
    // Training: the random mask changes between steps, so identical batches give different updates.
    const masks = new Set<string>();
    for (let i = 0; i < 5; i++) masks.add(JSON.stringify(columnsMoved(withDropout)));
    expect(masks.size).toBeGreaterThan(1);
    // fit trains with dropout too.
    const fitted = build(0.5);
    const before = values(fitted.getWeights()[0]!);
    setSeed(10);
    await fitted.fit(x1, y1, { epochs: 1, verbose: 0 });
    const after = values(fitted.getWeights()[0]!);
    const fitMoved = Array.from({ length: 8 }, (_, unit) => [0, 1, 2, 3].some((row) => after[row * 8 + unit] !== before[row * 8 + unit]));
    expect(fitMoved).toContain(false);
  });
});

describe('verbose output', () => {
  async function fitWith(isTTY: boolean, columns?: number): Promise<string> {
    const { x, y } = blobs(20);
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['acc'] });
    const out = fakeStream(isTTY, columns);
    await model.fit(x, y, { epochs: 2, batchSize: 5, validationSplit: 0.2, verbose: 1, output: out });
    return out.text();
  }

  it('writes one line per epoch when the output is not a terminal', async () => {
    const lines = (await fitWith(false)).trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^Epoch 1\/2 - 4\/4 batches - \d+s \d+ms\/step - loss: \d\.\d{4} - acc: \d\.\d{4} - val_loss: \d\.\d{4} - val_acc: \d\.\d{4}$/,
    );
    expect(lines[1]).toMatch(/^Epoch 2\/2 /);
  });

  it('draws a progress bar in place on a terminal', async () => {
    const text = await fitWith(true);
    expect(text).toContain('Epoch 1/2\n');
    expect(text).toMatch(/\r4\/4 \[=+\] - \d+s \d+ms\/step - loss: \d\.\d{4} - acc: \d\.\d{4} - val_loss/);
    expect(text).toContain('\x1b[K');
  });

  it('cuts in-progress lines to the terminal width but prints the end-of-epoch line whole', async () => {
    const updates = (await fitWith(true, 40)).split('\r').map((u) => u.replace('\x1b[K', ''));
    const finals = updates.filter((u) => u.includes('ms/step'));
    expect(finals.length).toBe(2);
    for (const f of finals) expect(f).toMatch(/val_loss: \d\.\d{4} - val_acc: \d\.\d{4}/);
    for (const u of updates.filter((u) => u.includes('ETA'))) expect(u.length).toBeLessThanOrEqual(39);
  });

  it('is silent with verbose 0', async () => {
    const { x, y } = blobs(6);
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const out = fakeStream(true);
    await model.fit(x, y, { epochs: 1, verbose: 0, output: out });
    expect(out.text()).toBe('');
  });
});

/** The fraction of samples whose arg-max prediction equals the integer label, computed by hand. */
function accuracyOf(model: Sequential, x: Tensor, y: Tensor): number {
  const p = values(model.predict(x));
  const labels = values(y);
  const classes = p.length / labels.length;
  let correct = 0;
  labels.forEach((label, i) => {
    const row = p.slice(i * classes, (i + 1) * classes);
    if (row.indexOf(Math.max(...row)) === label) correct++;
  });
  return correct / labels.length;
}

describe('evaluate, predict, trainOnBatch, weights', () => {
  const { x, y } = blobs(10);

  it('evaluate returns the loss, [loss, ...metrics], or a dict; independent of batch size', () => {
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const loss = model.evaluate(x, y) as number;
    expect(typeof loss).toBe('number');
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy', 'sparse_categorical_crossentropy'] });
    const [l, acc, ce] = model.evaluate(x, y, { batchSize: 3 }) as number[];
    expect(l).toBeCloseTo(loss, 5);
    expect(ce).toBeCloseTo(loss, 5);
    expect(acc).toBe(accuracyOf(model, x, y));
    expect(model.evaluate(x, y, { returnDict: true })).toEqual({
      loss: expect.closeTo(loss, 5),
      accuracy: acc,
      sparse_categorical_crossentropy: expect.closeTo(ce!, 5),
    });
  });

  it('predict batches give the same values as one batch', () => {
    const model = classifier();
    const whole = values(model.predictOnBatch(x));
    const batched = values(model.predict(x, { batchSize: 3 }));
    batched.forEach((v, i) => expect(v).toBeCloseTo(whole[i]!, 6));
    expect(model.predict(x, { batchSize: 3 }).shape).toEqual([10, 3]);
  });

  it('trainOnBatch does one step and returns loss and metrics', () => {
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    const before = values(model.getWeights()[0]!);
    // The batch's loss and accuracy are those of the weights before the step (no dropout here).
    const lossBefore = model.evaluate(x, y, { batchSize: 10 }) as number[];
    const accBefore = accuracyOf(model, x, y);
    const [loss, acc] = model.trainOnBatch(x, y) as number[];
    expect(loss).toBeCloseTo(lossBefore[0]!, 5);
    expect(acc).toBe(accBefore);
    expect(values(model.getWeights()[0]!)).not.toEqual(before);
  });

  it('getWeights / setWeights round-trip in Keras order and check counts and shapes', () => {
    const a = classifier(1);
    const b = classifier(2);
    expect(a.getWeights().map((w) => w.shape)).toEqual([[4, 8], [8], [8, 3], [3]]);
    b.setWeights(a.getWeights());
    expect(values(b.predict(x))).toEqual(values(a.predict(x)));
    expect(() => b.setWeights(a.getWeights().slice(1))).toThrow(
      /setWeights expects 4 tensors \(dense_\d+\/kernel, dense_\d+\/bias, .*\), got 3/,
    );
    const wrong = a.getWeights();
    wrong[0] = tensor(new Float32Array(8), [8, 1]);
    expect(() => b.setWeights(wrong)).toThrow(/weight dense_\d+\/kernel expects shape \[4,8\], got \[8,1\]/);
  });

  it('getWeights returns copies: training does not change them', async () => {
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const snapshot = model.getWeights();
    const copy = values(snapshot[0]!);
    await model.fit(x, y, { epochs: 1, verbose: 0 });
    expect(values(snapshot[0]!)).toEqual(copy);
  });

  it('inputGradients matches finite differences of the class score', () => {
    const model = classifier();
    const x1 = tensor([[0.3, -0.2, 1.5, 0.7]]);
    const g = values(model.inputGradients(x1, 2));
    const score = (v: number[]): number => model.predict(tensor([v])).dataSync()[2]!;
    const base = values(x1);
    const h = 1e-2;
    base.forEach((_, i) => {
      const plus = [...base];
      const minus = [...base];
      plus[i]! += h;
      minus[i]! -= h;
      expect(g[i]!).toBeCloseTo((score(plus) - score(minus)) / (2 * h), 3);
    });
    expect(model.inputGradients(x, 0).shape).toEqual([10, 4]);
    expect(() => model.inputGradients(x, 3)).toThrow(
      'inputGradients: classIndex must be an integer in [0, 2] (the model outputs 3 classes), got 3',
    );
  });
});

describe('bad input errors name the argument, the expected and the given value', () => {
  const { x, y } = blobs(10);

  it('fit before compile', async () => {
    const model = classifier();
    await expect(model.fit(x, y)).rejects.toThrow(/Sequential sequential_\d+: call compile\(\{optimizer, loss\}\) before fit\(\)/);
    expect(() => model.evaluate(x, y)).toThrow(/before evaluate\(\)/);
  });

  it('wrong input shape', async () => {
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    await expect(model.fit(tensor([[1, 2, 3]]), tensor([0]))).rejects.toThrow(
      /fit: x has shape \[1,3\], but model sequential_\d+ expects input shape \[null,4\] \(the inputShape of layer dense_\d+\)/,
    );
    expect(() => model.predict(randomNormal([2, 4, 1]))).toThrow(
      /predict: x has shape \[2,4,1\], but model .* expects input shape \[null,4\]/,
    );
    const cnn = sequential([conv2d({ filters: 2, kernelSize: 3, inputShape: [8, 8, 1] })]);
    expect(() => cnn.predict(randomNormal([1, 8, 8, 3]))).toThrow(/expects input shape \[null,8,8,1\]/);
  });

  it('a layer given an incompatible input names the layer', () => {
    const model = sequential([dense({ units: 2, name: 'first' }), conv2d({ filters: 2, kernelSize: 3, name: 'conv' })]);
    expect(() => model.predict(tensor([[1, 2]]))).toThrow(/conv/);
  });

  it('mismatched x / y lengths', async () => {
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    await expect(model.fit(x, slice(y, 0, 9))).rejects.toThrow(
      'fit: x and y must have the same number of samples: x has 10 (shape [10,4]), y has 9 (shape [9])',
    );
    await expect(model.fit(x, y, { validationData: [x, slice(y, 0, 4)] })).rejects.toThrow(
      'fit: validationData x and validationData y must have the same number of samples: validationData x has 10 (shape [10,4]), validationData y has 4 (shape [4])',
    );
    expect(() => model.evaluate(x, slice(y, 0, 2))).toThrow(/evaluate: x and y must have the same number of samples/);
  });

  it('labels out of range for the loss', async () => {
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const bad = tensor(Int32Array.from([0, 1, 2, 3, 0, 1, 2, 0, 1, 2]), [10], 'int32');
    const message =
      'y[3] is 3, not a valid label for sparseCategoricalCrossentropy: labels must be integers in [0, 3) (the model outputs 3 classes)';
    await expect(model.fit(x, bad, { shuffle: false, batchSize: 10, verbose: 0 })).rejects.toThrow(`fit: ${message}`);
    // Checked over the whole y before shuffling: the index is the sample's in y, not in a shuffled batch.
    const late = tensor(Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1, 2, 5]), [10], 'int32');
    const before = values(model.getWeights()[0]!);
    await expect(model.fit(x, late, { shuffle: true, batchSize: 3, verbose: 0 })).rejects.toThrow(
      'fit: y[9] is 5, not a valid label for sparseCategoricalCrossentropy: labels must be integers in [0, 3)',
    );
    expect(values(model.getWeights()[0]!)).toEqual(before); // no batch was trained
    expect(() => model.evaluate(x, bad, { batchSize: 2 })).toThrow(`evaluate: ${message}`);
    await expect(model.fit(x, y, { validationData: [x, tensor([0, 1, 2, 0, 1, 2, 0, 1, 2.5, 0])], verbose: 0 })).rejects.toThrow(
      'fit: validationData y[8] is 2.5, not a valid label for sparseCategoricalCrossentropy',
    );
    await expect(model.fit(x, tensor([[0], [1], [2], [0], [1], [2], [0], [1], [-1], [0]]), { verbose: 0 })).rejects.toThrow(
      'fit: y[8,0] (sample 8) is -1, not a valid label',
    );
  });

  it('NaN or Infinity in the data, naming the argument and the first bad element', async () => {
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const xs = Float32Array.from(x.dataSync());
    xs[4 * 6 + 2] = NaN;
    const bad = tensor(xs, [10, 4]);
    await expect(model.fit(bad, y, { verbose: 0 })).rejects.toThrow(/^fit: x\[6,2\] \(sample 6\) is NaN; the data must be finite/);
    expect(() => model.evaluate(bad, y)).toThrow(/^evaluate: x\[6,2\] \(sample 6\) is NaN/);
    await expect(model.fit(x, y, { validationData: [bad, y], verbose: 0 })).rejects.toThrow(
      /^fit: validationData x\[6,2\] \(sample 6\) is NaN/,
    );
    const regression = sequential([dense({ units: 1, inputShape: [4] })]);
    regression.compile({ optimizer: 'sgd', loss: 'mse' });
    await expect(regression.fit(x, tensor([0, 1, 2, 3, Infinity, 0, 0, 0, 0, 0]), { verbose: 0 })).rejects.toThrow(
      /^fit: y\[4\] is Infinity; the data must be finite/,
    );
  });

  it('classWeight with labels it cannot read one class from (as Keras)', async () => {
    const { lstm } = await import('@axon/recurrent');
    setSeed(1);
    const model = sequential([lstm({ units: 3, returnSequences: true, inputShape: [3, 2] }), dense({ units: 3, activation: 'softmax' })]);
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    const xs = randomNormal([2, 3, 2]);
    const perStep = tensor([
      [0, 1, 2],
      [2, 2, 2],
    ]);
    const expected =
      /classWeight needs one class per sample: labels of shape \[n\] or \[n,1\] \(class indices\) or \[n,C\] \(one-hot or class probabilities for a model output \[n,C\]\), but y has shape \[2,3\] and the model outputs \[null,3,3\]/;
    expect(() => model.trainOnBatch(xs, perStep, { classWeight: { 0: 0 } })).toThrow(new RegExp(`^trainOnBatch: ${expected.source}`));
    await expect(model.fit(xs, perStep, { classWeight: { 0: 0 }, verbose: 0 })).rejects.toThrow(new RegExp(`^fit: ${expected.source}`));
    const cce = sequential([dense({ units: 3, inputShape: [4] })]);
    cce.compile({ optimizer: 'sgd', loss: 'mse' });
    await expect(cce.fit(randomNormal([2, 4]), randomNormal([2, 9]), { classWeight: { 0: 2 }, verbose: 0 })).rejects.toThrow(
      /fit: classWeight needs one class per sample: .* but y has shape \[2,9\] and the model outputs \[null,3\]/,
    );
    // One-hot labels [n, C] for an output [n, C] are fine: the arg-max is the class.
    const { y: sparse } = blobs(10);
    const oneHot = tensor(Array.from(sparse.dataSync(), (c) => [0, 1, 2].map((k) => (k === c ? 1 : 0))));
    const weighted = classifier();
    weighted.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy' });
    const plain = weighted.evaluate(x, oneHot) as number;
    const classOnly = weighted.trainOnBatch(x, oneHot, { classWeight: { 0: 0, 1: 0, 2: 0 } }) as number;
    expect(classOnly).toBe(0);
    expect(plain).toBeGreaterThan(0);
  });

  it('unknown loss / optimizer / metric names and missing compile arguments', () => {
    const model = classifier();
    expect(() => model.compile({ optimizer: 'adamax', loss: 'mse' })).toThrow(
      /Unknown optimizer 'adamax'. Valid optimizer names: sgd, adam, adamw, rmsprop, adagrad/,
    );
    expect(() => model.compile({ optimizer: 'adam', loss: 'hinge' })).toThrow(/Unknown loss 'hinge'. Valid loss names: meanSquaredError/);
    expect(() => model.compile({ optimizer: 'adam', loss: 'mse', metrics: ['auc'] })).toThrow(
      /Unknown metric 'auc'. Valid metric names: accuracy/,
    );
    expect(() => model.compile({ optimizer: 'adam' } as never)).toThrow(/compile: loss is required/);
  });

  it('bad fit options', async () => {
    const model = classifier();
    model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
    await expect(model.fit(x, y, { epochs: 0 })).rejects.toThrow('fit: epochs must be a positive integer, got 0');
    await expect(model.fit(x, y, { batchSize: 2.5 })).rejects.toThrow('fit: batchSize must be a positive integer, got 2.5');
    await expect(model.fit(x, y, { validationSplit: 1.5 })).rejects.toThrow('fit: validationSplit must be a number in [0, 1), got 1.5');
    await expect(model.fit(x, y, { sampleWeight: tensor([1, 2]) })).rejects.toThrow(
      'fit: sampleWeight must be a Tensor of shape [10] (one weight per sample), got a Tensor of shape [2]',
    );
    await expect(model.fit(x, y, { initialEpoch: 3, epochs: 2 })).rejects.toThrow(
      'fit: initialEpoch must be an integer in [0, epochs) = [0, 2), got 3',
    );
    await expect(model.fit(x, [0, 1] as never)).rejects.toThrow('fit: y must be a Tensor, got an array');
  });
});
