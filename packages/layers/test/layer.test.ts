import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '@axon/tensor';
import {
  Layer,
  deserializeLayer,
  getLayerClass,
  registerLayer,
  resetLayerNames,
  serializeLayer,
  type CallKwargs,
  type LayerArgs,
  type Shape,
} from '../src/index.js';

class Scale extends Layer {
  static override className = 'Scale';
  units: number;
  constructor(args: LayerArgs & { units?: number } = {}) {
    super(args);
    this.units = args.units ?? 2;
  }
  override build(inputShape: Shape | Shape[]): void {
    const shape = inputShape as Shape;
    this.addWeight('kernel', [shape[shape.length - 1]!, this.units], 'ones', 'l2');
    this.addWeight('moving', [this.units], 'zeros', null, false);
    this.addWeight('bias', [this.units], 'zeros');
    this.inputSpec = [{ minNDim: 2, axes: { [-1]: shape[shape.length - 1]! } }];
  }
  override call(inputs: Tensor | Tensor[], _kwargs: CallKwargs): Tensor {
    return inputs as Tensor;
  }
  override getConfig(): Record<string, unknown> {
    return { units: this.units, ...super.getConfig() };
  }
}
registerLayer(Scale);

describe('Layer base', () => {
  it('names layers per class like Keras', () => {
    resetLayerNames();
    expect(new Scale().name).toBe('scale_1');
    expect(new Scale().name).toBe('scale_2');
    expect(new Scale({ name: 'mine' }).name).toBe('mine');
  });

  it('builds lazily, names weights, orders them trainable first', () => {
    const layer = new Scale({ name: 's' });
    expect(layer.built).toBe(false);
    layer.apply(tensor([[1, 2, 3]]));
    expect(layer.built).toBe(true);
    expect(layer.weights.map((w) => w.name)).toEqual(['s/kernel', 's/bias', 's/moving']);
    expect(layer.trainableWeights.map((w) => w.name)).toEqual(['s/kernel', 's/bias']);
    expect(layer.nonTrainableWeights.map((w) => w.name)).toEqual(['s/moving']);
    expect(layer.countParams()).toBe(10);
    layer.trainable = false;
    expect(layer.trainableWeights).toEqual([]);
    expect(layer.weights.map((w) => w.name)).toEqual(['s/kernel', 's/bias', 's/moving']);
    expect(layer.weights[0]!.requiresGrad).toBe(false);
    layer.trainable = true;
    expect(layer.weights[0]!.requiresGrad).toBe(true);
  });

  it('validates inputs against the built spec and the declared shape', () => {
    const layer = new Scale({ name: 'v' });
    layer.apply(tensor([[1, 2, 3]]));
    expect(() => layer.apply(tensor([[1, 2]]))).toThrow(/Layer v: expected axis -1 of the input to have size 3, got shape \[1,2\]/);
    const declared = new Scale({ name: 'd', inputShape: [3] });
    expect(() => declared.apply(tensor([[1, 2]]))).toThrow(/Layer d: expected input shape \[null,3\], got \[1,2\]/);
  });

  it('gets and sets weights with shape checks', () => {
    const layer = new Scale({ name: 'w' });
    layer.apply(tensor([[1, 2, 3]]));
    const ws = layer.getWeights();
    expect(ws.map((w) => w.shape)).toEqual([[3, 2], [2], [2]]);
    expect(() => layer.setWeights([ws[0]!, ws[0]!, ws[2]!])).toThrow(/Layer w: weight w\/bias expects shape \[2\], got \[3,2\]/);
    expect(() => layer.setWeights([ws[0]!])).toThrow(/expects 3 weight/);
    layer.setWeights([
      tensor([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
      tensor([7, 8]),
      tensor([9, 10]),
    ]);
    expect(Array.from(layer.weights[2]!.dataSync())).toEqual([9, 10]);
  });

  it('round-trips through the registry', () => {
    const layer = new Scale({ name: 'r', units: 5, inputShape: [4] });
    const s = serializeLayer(layer);
    expect(s).toEqual({
      className: 'Scale',
      config: { units: 5, name: 'r', trainable: true, batchInputShape: [null, 4], dtype: 'float32' },
    });
    const copy = deserializeLayer(s) as Scale;
    expect(copy).toBeInstanceOf(Scale);
    expect(copy.units).toBe(5);
    expect(getLayerClass('Scale')).toBe(Scale);
    expect(() => getLayerClass('Nope')).toThrow(/Unknown layer class 'Nope'. Registered layers: .*Scale/);
  });
});
