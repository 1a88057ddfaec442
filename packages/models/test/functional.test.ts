/**
 * The functional API, first part: symbolic inputs, layer applications recorded as a graph, models
 * of any DAG (shared layers, several outputs, nested models), intermediate outputs that share the
 * trained weights (activation maps), and training through the model's weights.
 */
import '@axon/kernels-native';
import { Adam } from '../src/index.js';
import { type Tensor, fill, mean, randomNormal, setSeed, slice, square, sub, valueAndGrads, zeros } from '@axon/tensor';
import { type SymbolicTensor, conv2d, dense, deserializeLayer, flatten, input, maxPooling2d, serializeLayer } from '@axon/layers';
import { describe, expect, it } from 'vitest';

import { model } from '../src/index.js';

const values = (t: Tensor | Tensor[]) => Array.from((t as Tensor).dataSync());

function closeTo(a: number[], b: number[], tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(tol));
}

describe('the functional API', () => {
  it('records layer applications on symbolic tensors and replays them on real ones', () => {
    setSeed(1);
    const x = input({ shape: [8, 8, 1] });
    const conv = conv2d({ filters: 4, kernelSize: 3, activation: 'relu', name: 'features' });
    const pool = maxPooling2d({ poolSize: 2 });
    const head = dense({ units: 3, activation: 'softmax' });
    // apply returns SymbolicTensor | SymbolicTensor[] (a layer may have several outputs), as in tfjs.
    const features = conv.apply(x) as SymbolicTensor;
    const y = head.apply(flatten().apply(pool.apply(features))) as SymbolicTensor;
    expect(features.shape).toEqual([null, 6, 6, 4]);
    expect(y.shape).toEqual([null, 3]);
    const m = model({ inputs: x, outputs: y, name: 'classifier' });
    expect(m.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Dense']);
    expect(m.getLayer('features')).toBe(conv);
    expect(m.trainableWeights).toHaveLength(4);
    const batch = randomNormal([5, 8, 8, 1]);
    // The same layers applied by hand to the real batch.
    const byHand = head.apply(flatten().apply(pool.apply(conv.apply(batch) as Tensor) as Tensor) as Tensor) as Tensor;
    closeTo(values(m.predict(batch, { batchSize: 2 })), values(byHand));
  });

  it('makes a model of an intermediate output that shares the trained weights (activation maps)', () => {
    const x = input({ shape: [6, 6, 1] });
    const conv = conv2d({ filters: 2, kernelSize: 3, name: 'maps' });
    const y = dense({ units: 1 }).apply(flatten().apply(conv.apply(x)));
    const full = model({ inputs: x, outputs: y });
    const maps = model({ inputs: full.inputs, outputs: full.getLayer('maps').output as never });
    const batch = randomNormal([3, 6, 6, 1]);
    closeTo(values(maps.predict(batch)), values(conv.apply(batch) as Tensor));
    // The same variables, not copies: a change to the trained layer shows in the maps.
    expect(maps.trainableWeights[0]).toBe(conv.trainableWeights[0]);
    const [kernel, bias] = conv.getWeights();
    conv.setWeights([zeros(kernel!.shape), fill(bias!.shape, 0.5)]);
    expect(values(maps.predict(batch)).every((v) => v === 0.5)).toBe(true);
  });

  it('shares a layer applied twice, has several outputs, and nests as a layer', () => {
    const a = input({ shape: [4] });
    const shared = dense({ units: 4, activation: 'tanh', name: 'shared' });
    const h1 = shared.apply(a) as SymbolicTensor;
    const h2 = shared.apply(h1) as SymbolicTensor;
    const out1 = dense({ units: 1, name: 'first' }).apply(h1) as SymbolicTensor;
    const out2 = dense({ units: 2, name: 'second' }).apply(h2) as SymbolicTensor;
    const m = model({ inputs: a, outputs: [out1, out2] });
    expect(m.trainableWeights).toHaveLength(6); // the shared layer's weights once
    const batch = randomNormal([3, 4]);
    const [p1, p2] = m.predict(batch) as Tensor[];
    expect(p1!.shape).toEqual([3, 1]);
    expect(p2!.shape).toEqual([3, 2]);
    // Nested: the whole model used as a layer of another.
    const b = input({ shape: [4] });
    const [n1] = m.apply(b) as never as [typeof b, typeof b];
    const outer = model({ inputs: b, outputs: dense({ units: 1 }).apply(n1!) });
    expect(outer.layers.some((l) => l === m)).toBe(true);
    expect((outer.predict(batch) as Tensor).shape).toEqual([3, 1]);
  });

  it('trains through its weights (a custom loop with valueAndGrads and an optimizer)', () => {
    setSeed(3);
    const x = input({ shape: [3] });
    const y = dense({ units: 1 }).apply(dense({ units: 8, activation: 'relu' }).apply(x));
    const m = model({ inputs: x, outputs: y });
    const data = randomNormal([64, 3]);
    const target = mean(square(data), 1, true);
    const optimizer = new Adam({ learningRate: 0.05 });
    const losses: number[] = [];
    for (let step = 0; step < 60; step++) {
      const { value, grads } = valueAndGrads(
        () => mean(square(sub(m.call(data, { training: true }) as Tensor, target))),
        m.trainableWeights,
      );
      optimizer.applyGradients(m.trainableWeights, grads);
      losses.push(value.item());
    }
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 3);
  });

  it('says what is wrong', () => {
    const x = input({ shape: [2] });
    const other = input({ shape: [2] });
    const y = dense({ units: 1 }).apply(other);
    expect(() => model({ inputs: x, outputs: y })).toThrow(/model: output .* depends on .*, which is not among the model's inputs/);
    expect(() => model({ inputs: x, outputs: x, nam: 'm' } as never)).toThrow(/model: unknown option 'nam' \(did you mean 'name'\?\)/);
    const m = model({ inputs: x, outputs: dense({ units: 1 }).apply(x) });
    expect(() => m.predict(randomNormal([2, 3]))).toThrow(
      /predict: x has shape \[2,3\], but model .* expects input shape \[null,2\] \(input '.*'\)/,
    );
    expect(() => m.getLayer('nope')).toThrow(/getLayer: model .* has no layer "nope"; its layers: /);
    expect(() => input({ shape: [2], dtyp: 'int32' } as never)).toThrow(/input: unknown option 'dtyp' \(did you mean 'dtype'\?\)/);
  });
});

describe('training a functional model', () => {
  it('compiles and fits (one input, one output) and checks per-output settings', async () => {
    setSeed(4);
    const x = input({ shape: [4] });
    const hidden = dense({ units: 16, activation: 'relu' }).apply(x) as SymbolicTensor;
    const m = model({ inputs: x, outputs: dense({ units: 1 }).apply(hidden) as SymbolicTensor });
    await expect(m.fit(randomNormal([8, 4]), randomNormal([8, 1]))).rejects.toThrow(
      /Functional .*: call compile\(\{optimizer, loss\}\) before fit\(\)/,
    );
    m.compile({ optimizer: new Adam({ learningRate: 0.02 }), loss: 'meanSquaredError' });
    const data = randomNormal([128, 4]);
    const target = mean(square(data), 1, true);
    const history = await m.fit(data, target, { epochs: 20, batchSize: 32, verbose: 0 });
    const losses = history.history.loss!;
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 3);
    expect(m.evaluate(data, target)).toBeCloseTo(losses.at(-1)!, 0);
    const two = model({ inputs: x, outputs: [hidden, hidden] });
    expect(() => two.compile({ optimizer: 'adam', loss: ['mse'] })).toThrow(/compile: loss has 1 entries, but the model has 2 output\(s\)/);
    // Metrics: a flat list serves every output; a list per output or an object by name choose.
    const keys = (metrics: unknown) => {
      const twoHeads = model({
        inputs: x,
        outputs: [
          dense({ units: 1, name: `a${++heads}` }).apply(hidden),
          dense({ units: 1, name: `b${heads}` }).apply(hidden),
        ] as SymbolicTensor[],
      });
      twoHeads.compile({ optimizer: 'sgd', loss: 'mse', metrics: metrics as never });
      return twoHeads.evaluate(data, [target, target], { returnDict: true });
    };
    let heads = 0;
    expect(Object.keys(keys(['mae']))).toEqual(['loss', 'a1_loss', 'b1_loss', 'a1_mae', 'b1_mae']);
    expect(Object.keys(keys([['mae'], ['mse', 'mae']]))).toEqual(['loss', 'a2_loss', 'b2_loss', 'a2_mae', 'b2_mse', 'b2_mae']);
    expect(Object.keys(keys({ b3: 'mae' }))).toEqual(['loss', 'a3_loss', 'b3_loss', 'b3_mae']);
    expect(() => keys([['mae']])).toThrow(/compile: metrics has 1 entries, but the model has 2 output\(s\)/);
    expect(() => keys({ c5: 'mae' })).toThrow(/compile: metrics names output 'c5', which the model does not have/);
  });
});

describe('functional model configs', () => {
  it('round-trip through getConfig / deserializeLayer: shared layers, several outputs, nesting', () => {
    setSeed(6);
    const a = input({ shape: [4], name: 'features_in' });
    const shared = dense({ units: 4, activation: 'tanh', name: 'shared_dense' });
    const h1 = shared.apply(a) as SymbolicTensor;
    const h2 = shared.apply(h1) as SymbolicTensor;
    const inner = model({
      inputs: a,
      outputs: [
        dense({ units: 1, name: 'head_a' }).apply(h1) as SymbolicTensor,
        dense({ units: 2, name: 'head_b' }).apply(h2) as SymbolicTensor,
      ],
      name: 'inner',
    });
    const b = input({ shape: [4], name: 'outer_in' });
    const [o1, o2] = inner.apply(b) as SymbolicTensor[];
    const outer = model({ inputs: b, outputs: [o1!, dense({ units: 3, name: 'tail' }).apply(o2!) as SymbolicTensor], name: 'outer' });

    const config = serializeLayer(outer);
    expect(config.className).toBe('Functional');
    const saved = config.config as { layers: { name: string; inboundNodes: unknown[] }[]; inputLayers: unknown; outputLayers: unknown };
    expect(saved.inputLayers).toEqual([['outer_in', 0, 0]]);
    // A nested model's first application is node 1 (Keras and tfjs count its construction as node 0).
    expect(saved.outputLayers).toEqual([
      ['inner', 1, 0],
      ['tail', 0, 0],
    ]);
    const innerSaved = (
      saved.layers.find((l) => l.name === 'inner') as unknown as { config: { layers: { name: string; inboundNodes: unknown }[] } }
    ).config;
    // The shared layer's two applications: the second reads the first's output (node 0).
    expect(innerSaved.layers.find((l) => l.name === 'shared_dense')!.inboundNodes).toEqual([
      [['features_in', 0, 0, {}]],
      [['shared_dense', 0, 0, {}]],
    ]);

    const again = deserializeLayer(config) as typeof outer;
    again.setWeights(outer.getWeights());
    const x = randomNormal([5, 4]);
    const [p1, p2] = outer.predict(x) as Tensor[];
    const [q1, q2] = again.predict(x) as Tensor[];
    expect(values(q1!)).toEqual(values(p1!));
    expect(values(q2!)).toEqual(values(p2!));
    expect(again.trainableWeights.length).toBe(outer.trainableWeights.length);
  });

  it('reads the snake_case form Keras and tfjs write ("Model", inbound_nodes)', () => {
    const keras = {
      className: 'Model',
      config: {
        name: 'keras_model',
        layers: [
          {
            class_name: 'InputLayer',
            name: 'in',
            config: { batch_input_shape: [null, 3], dtype: 'float32', name: 'in' },
            inbound_nodes: [],
          },
          { class_name: 'Dense', name: 'd', config: { units: 2, name: 'd', activation: 'relu' }, inbound_nodes: [[['in', 0, 0, {}]]] },
        ],
        input_layers: [['in', 0, 0]],
        output_layers: [['d', 0, 0]],
      },
    };
    const m = deserializeLayer(keras) as ReturnType<typeof model>;
    expect((m.predict(randomNormal([2, 3])) as Tensor).shape).toEqual([2, 2]);
    expect(m.getLayer('d').getConfig().units).toBe(2);
  });
});

describe('functional model weights files', () => {
  it('saveWeights / loadWeights by layer name', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'axon-functional-'));
    try {
      const build = (seed: number) => {
        setSeed(seed);
        const x = input({ shape: [3], name: 'in' });
        const y = dense({ units: 2, name: 'out' }).apply(
          dense({ units: 4, activation: 'relu', name: 'hidden' }).apply(x) as SymbolicTensor,
        );
        return model({ inputs: x, outputs: y as SymbolicTensor });
      };
      const a = build(1);
      const b = build(2);
      const x = randomNormal([4, 3]);
      expect(values(b.predict(x))).not.toEqual(values(a.predict(x)));
      await a.saveWeights(join(dir, 'w'));
      await b.loadWeights(join(dir, 'w'));
      expect(values(b.predict(x))).toEqual(values(a.predict(x)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a ResNet-style block on Fashion-MNIST', () => {
  it('trains (conv → conv → add with the skip) and its config rebuilds the same predictions', async () => {
    const { loadFashionMnist } = await import('@axon/data');
    const { add, activation } = await import('@axon/layers');
    setSeed(11);
    const { train, test } = loadFashionMnist({ trainLimit: 2000, testLimit: 500 });
    const x = input({ shape: [28, 28, 1], name: 'image' });
    const stem = conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', name: 'stem' }).apply(x) as SymbolicTensor;
    const branch = conv2d({ filters: 16, kernelSize: 3, padding: 'same', name: 'branch' }).apply(
      conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', name: 'inner' }).apply(stem) as SymbolicTensor,
    ) as SymbolicTensor;
    const residual = activation({ activation: 'relu' }).apply(add().apply([stem, branch]) as SymbolicTensor) as SymbolicTensor;
    const pooled = flatten().apply(maxPooling2d({ poolSize: 2 }).apply(residual) as SymbolicTensor) as SymbolicTensor;
    const resnet = model({
      inputs: x,
      outputs: dense({ units: 10, activation: 'softmax' }).apply(pooled) as SymbolicTensor,
      name: 'resnet_block',
    });
    resnet.compile({ optimizer: new Adam({ learningRate: 0.005 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
    await resnet.fit(train.x, train.y, { epochs: 3, batchSize: 32, verbose: 0 });
    const [, accuracy] = resnet.evaluate(test.x, test.y) as number[];
    expect(accuracy).toBeGreaterThan(0.6); // 10 classes: chance is 0.1
    const rebuilt = deserializeLayer(serializeLayer(resnet)) as typeof resnet;
    rebuilt.setWeights(resnet.getWeights());
    const sample = slice(test.x, 0, 16);
    expect(values(rebuilt.predict(sample))).toEqual(values(resnet.predict(sample)));
  }, 120_000);
});

describe('summary', () => {
  it('lists each layer with its output shape, parameters and the tensors it reads (Keras "Connected to")', async () => {
    const { concatenate } = await import('@axon/layers');
    const image = input({ shape: [4], name: 'image' });
    const meta = input({ shape: [2], name: 'meta' });
    const shared = dense({ units: 3, name: 'shared' });
    const a = shared.apply(image) as SymbolicTensor;
    const joined = concatenate({ name: 'join' }).apply([a, meta]) as SymbolicTensor;
    const m = model({ inputs: [image, meta], outputs: dense({ units: 1, name: 'out' }).apply(joined) as SymbolicTensor, name: 'two_in' });
    const lines: string[] = [];
    m.summary({ printFn: (l) => lines.push(l) });
    expect(lines[0]).toBe('Model: "two_in"');
    expect(lines[2]).toMatch(/^Layer \(type\)\s+Output Shape\s+Param #\s+Connected to$/);
    const row = (name: string) => lines.find((l) => l.startsWith(`${name} `))!.split(/\s{2,}/);
    expect(row('image')).toEqual(['image (InputLayer)', '[null,4]', '0']);
    expect(row('shared')).toEqual(['shared (Dense)', '[null,3]', '15', 'image[0][0]']);
    expect(row('join')).toEqual(['join (Concatenate)', '[null,5]', '0', 'shared[0][0]']);
    // A layer reading several tensors lists the others on the following lines, as Keras does.
    expect(lines[lines.indexOf(lines.find((l) => l.startsWith('join '))!) + 1]!.trim()).toBe('meta[0][0]');
    expect(row('out')).toEqual(['out (Dense)', '[null,1]', '6', 'join[0][0]']);
    expect(lines).toContain('Total params: 21');
  });
});
