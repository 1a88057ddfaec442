/**
 * The one-import package: what it exports, which backend it picks, and that it stays silent
 * unless asked. Backend choice is checked in child processes against the built dist/, where the
 * addon can be made unavailable without touching this process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import * as axon from '../src/index.js';

const distIndex = fileURLToPath(new URL('../dist/index.js', import.meta.url));

function child(code: string, env: Record<string, string | undefined>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8',
    env: { ...process.env, AXON_BACKEND: undefined, AXON_VERBOSE: undefined, ...env },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const report = `
  const axon = await import(${JSON.stringify(distIndex)});
  const y = axon.matmul(axon.tensor([[1, 2]]), axon.tensor([[3], [4]]));
  console.log(JSON.stringify({ info: axon.backendInfo(), line: axon.describeBackend(), y: y.dataSync()[0] }));
`;

describe('@axon/node', () => {
  it('exports tensors, ops, layers, recurrent layers, models and data loaders from one module', () => {
    // Names shared by tensor and layers resolve to the layer, as in Keras; the op is under `ops`.
    const layer = axon.conv2d({ filters: 2, kernelSize: 3, inputShape: [5, 5, 1] });
    expect(layer).toBeInstanceOf(axon.Layer);
    const y = axon.ops.conv2d(axon.ones([1, 5, 5, 1]), axon.ones([3, 3, 1, 2]), 1, 'valid');
    expect(y.shape).toEqual([1, 3, 3, 2]);
    expect(Array.from(y.dataSync())).toEqual(new Array(18).fill(9));
    // The merge layers add, maximum and minimum win over the element-wise ops of the same names.
    expect(axon.add()).toBeInstanceOf(axon.Add);
    expect(axon.maximum()).toBeInstanceOf(axon.Maximum);
    expect(axon.minimum()).toBeInstanceOf(axon.Minimum);
    expect(Array.from(axon.add([axon.ones([1, 2]), axon.ones([1, 2])]).dataSync())).toEqual([2, 2]);
    expect(Array.from(axon.ops.add(axon.ones([2]), 1).dataSync())).toEqual([2, 2]);
    expect(Array.from(axon.ops.maximum(axon.tensor([1, 5]), 3).dataSync())).toEqual([3, 5]);
    const entryPoints = [axon.sequential, axon.dense, axon.lstm, axon.gru, axon.loadModel, axon.loadFashionMnist, axon.valueAndGrads];
    const datasets = [axon.fromTensors, axon.fromGenerator, axon.fromIterable, axon.array, axon.zip, axon.idx, axon.csv, axon.imageFolder];
    for (const f of [...entryPoints, ...datasets, axon.Dataset]) expect(typeof f).toBe('function');
  });

  it('exports the explanations of @axon/explain and their pictures', () => {
    const explain = [axon.saliency, axon.integratedGradients, axon.gradCam, axon.occlusion, axon.limeImage, axon.kernelShap, axon.slic];
    const pictures = [axon.heatmapPng, axon.overlayPng, axon.gridPng, axon.maskPng, axon.barChart, axon.trainingCurves];
    for (const f of [...explain, ...pictures]) expect(typeof f).toBe('function');
    const png = axon.heatmapPng(axon.tensor([0, 1, 2, 3], [2, 2]));
    expect(Buffer.from(png.subarray(1, 4)).toString('latin1')).toBe('PNG');
  });

  it('trains a model built from its exports', async () => {
    axon.setSeed(1);
    const model = axon.sequential([axon.dense({ units: 8, activation: 'relu', inputShape: [4] }), axon.dense({ units: 1 })]);
    model.compile({ optimizer: new axon.Adam({ learningRate: 0.05 }), loss: 'meanSquaredError' });
    const x = axon.randomNormal([64, 4]);
    const y = axon.sum(x, 1, true);
    const history = await model.fit(x, y, { epochs: 30, batchSize: 16, verbose: 0 });
    const losses = history.history.loss!;
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 5);
  });

  it('trains with augmentation and preprocessing layers at the input, and saves and reloads them', async () => {
    axon.setSeed(2);
    const x = axon.randomUniform([32, 6, 6, 1], 0, 255);
    const y = axon.ops.reshape(axon.mean(x, [1, 2, 3]), [32, 1]);
    const norm = axon.normalization({ axis: null });
    norm.adapt(x);
    const model = axon.sequential([
      axon.randomFlip({ inputShape: [6, 6, 1], seed: 1 }),
      axon.randomTranslation({ heightFactor: 0.1, widthFactor: 0.1, fillMode: 'nearest' }),
      axon.randomContrast({ factor: 0.1 }),
      axon.centerCrop({ height: 4, width: 4 }),
      norm,
      axon.flatten(),
      axon.dense({ units: 1 }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
    const history = await model.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
    expect(history.history.loss).toHaveLength(2);
    // At inference the random layers are the identity, so predictions repeat.
    const p1 = Array.from((model.predict(x) as axon.Tensor).dataSync());
    expect(Array.from((model.predict(x) as axon.Tensor).dataSync())).toEqual(p1);
    const dir = mkdtempSync(join(tmpdir(), 'axon-preprocessing-'));
    try {
      await model.save(dir);
      const loaded = await axon.loadModel(dir);
      expect(loaded.layers.map((l) => l.getClassName())).toEqual(model.layers.map((l) => l.getClassName()));
      const p2 = Array.from((loaded.predict(x) as axon.Tensor).dataSync());
      p2.forEach((v, i) => expect(v).toBeCloseTo(p1[i]!, 4));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves on native when the addon loads, else js, and says which only when asked', () => {
    const r = child(report, {});
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const { info, line, y } = JSON.parse(r.stdout);
    expect(y).toBe(11);
    expect(line.split('\n')).toHaveLength(1);
    if (info.nativeAvailable) {
      expect(info.backend).toBe('native');
      expect(line).toMatch(/^Axon backend: native \(OpenBLAS .*, \d+ threads; .*\.node\)$/);
    } else {
      if (process.env.AXON_REQUIRE_NATIVE === '1')
        throw new Error(`AXON_REQUIRE_NATIVE=1 but the addon did not load: ${info.nativeUnavailableReason}`);
      expect(info.backend).toBe('js');
    }
  });

  it('falls back to js in silence when the addon cannot load, and names the reason when asked', () => {
    const r = child(report, { AXON_NATIVE_ADDON_PATH: '/nonexistent/axon_native.node' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const { info, line, y } = JSON.parse(r.stdout);
    expect(y).toBe(11);
    expect(info).toMatchObject({ backend: 'js', nativeAvailable: false });
    expect(line).toMatch(/^Axon backend: js \(native unavailable: no addon at \/nonexistent\/axon_native\.node .*; to enable it: .*\)$/);
  });

  it('AXON_VERBOSE=1 prints the backend line once at load', () => {
    const r = child(`await import(${JSON.stringify(distIndex)});`, { AXON_VERBOSE: '1' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^Axon backend: (native|js) \(/);
  });

  it('AXON_BACKEND still picks the backend', () => {
    const r = child(report, { AXON_BACKEND: 'js' });
    expect(r.status, r.stderr).toBe(0);
    const { info, line } = JSON.parse(r.stdout);
    expect(info.backend).toBe('js');
    if (info.nativeAvailable) expect(line).toBe('Axon backend: js (native available, not selected)');
  });
});
