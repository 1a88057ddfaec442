/**
 * Why does a Fashion-MNIST CNN say what it says? For a few test images this writes, into one
 * folder, the input, saliency, Integrated Gradients, Grad-CAM, occlusion, LIME and KernelSHAP
 * pictures, the first conv layer's activation maps and the class probabilities, plus the training
 * curves, and an index.html that shows them side by side with the predicted and true classes.
 *
 * The model is loaded from --model (default <output>/model); when none is there, the CNN of
 * examples/fashion-mnist-cnn is trained briefly and saved there with its history.
 *
 *   node dist/main.js [--images N] [--model DIR] [--output DIR] [--epochs N] [--limit N] [--backend js|native] [--seed N]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { FASHION_MNIST_CLASSES, loadFashionMnist } from '@axon/data';
import {
  activationMaps,
  barChart,
  gradCam,
  gridPng,
  heatmapPng,
  imagePng,
  integratedGradients,
  kernelShap,
  limeImage,
  maskPng,
  occlusion,
  overlayPng,
  saliency,
  type Segmentation,
  trainingCurves,
} from '@axon/explain';
import '@axon/kernels-js';
import '@axon/kernels-native';
import { conv2d, dense, flatten, maxPooling2d } from '@axon/layers';
import { loadModel, type Model, sequential } from '@axon/models';
import { abs, backendStatus, getBackend, ones, setBackend, setSeed, slice, type Tensor, tensor, zeros } from '@axon/tensor';

const USAGE =
  'usage: node dist/main.js [--images N] [--model DIR] [--output DIR] [--epochs N] [--limit N] [--backend js|native] [--seed N]';

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got '${value}'\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

function parse() {
  try {
    return parseArgs({
      options: {
        images: { type: 'string' },
        model: { type: 'string' },
        output: { type: 'string' },
        epochs: { type: 'string' },
        limit: { type: 'string' },
        backend: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

/** The CNN of examples/fashion-mnist-cnn, trained briefly; saved with its history for the curves. */
async function train(dir: string, epochs: number, limit: number): Promise<{ model: Model; history: Record<string, number[]> }> {
  console.log(`No model in ${dir}: training the Fashion-MNIST CNN for ${epochs} epoch(s) on ${limit} images`);
  const { train, test } = loadFashionMnist({ trainLimit: limit, testLimit: 2000 });
  const model = sequential([
    conv2d({ filters: 32, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }),
    maxPooling2d({ poolSize: 2 }),
    conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
    maxPooling2d({ poolSize: 2 }),
    flatten(),
    dense({ units: 128, activation: 'relu' }),
    dense({ units: 10, activation: 'softmax' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const { history } = await model.fit(train.x, train.y, { epochs, batchSize: 64, validationData: [test.x, test.y], verbose: 0 });
  const accuracy = history.val_accuracy?.at(-1);
  console.log(
    `Validation accuracy after ${epochs} epoch(s): ${accuracy === undefined ? '?' : (100 * accuracy).toFixed(1)} % (on 2000 test images)`,
  );
  await model.save(dir);
  writeFileSync(join(dir, 'history.json'), JSON.stringify(history));
  return { model, history };
}

/** One picture of one image: a file name, or why it could not be made. */
type Cell = { file: string } | { error: string };

const METHODS = [
  'input',
  'saliency',
  'integrated gradients',
  'Grad-CAM',
  'occlusion',
  'LIME',
  'KernelSHAP',
  'conv1 activations',
  'probabilities',
];

/**
 * KernelSHAP over LIME's superpixels: a coalition keeps some segments and blacks out the rest (the
 * background of Fashion-MNIST is black), so x is "all segments on" and the background "all off".
 */
function segmentShap(model: Model, image: Tensor, segmentation: Segmentation, classIndex: number, seed: number): number[] {
  const pixels = image.dataSync();
  const { labels, count } = segmentation;
  const predict = (coalitions: Tensor): Tensor => {
    const on = coalitions.dataSync();
    const n = coalitions.shape[0]!;
    const batch = new Float32Array(n * pixels.length);
    for (let s = 0; s < n; s++)
      labels.forEach((label, p) => (batch[s * pixels.length + p] = on[s * count + label]! > 0.5 ? pixels[p]! : 0));
    return model.predict(tensor(batch, [n, 28, 28, 1])) as Tensor;
  };
  return kernelShap(predict, ones([count]), zeros([1, count]), { classIndex, nsamples: 1000, seed }).values;
}

async function main(): Promise<void> {
  const values = parse();
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const images = positiveInt('images', values.images, 4);
  const epochs = positiveInt('epochs', values.epochs, 2);
  const limit = positiveInt('limit', values.limit, 20000);
  const seed = positiveInt('seed', values.seed, 42);
  const here = dirname(fileURLToPath(import.meta.url));
  const output = resolve(values.output ?? join(here, '..', 'output'));
  const modelDir = resolve(values.model ?? join(output, 'model'));
  if (values.backend !== undefined) {
    if (values.backend !== 'js' && values.backend !== 'native') {
      console.error(`--backend must be 'js' or 'native', got '${values.backend}'\n${USAGE}`);
      process.exit(2);
    }
    setBackend(values.backend);
  }
  setSeed(seed);
  const unavailable = backendStatus().filter((b) => !b.available);
  console.log(`Backend: ${getBackend().name}${unavailable.map((b) => ` (${b.name} unavailable: ${b.reason})`).join('')}`);
  const start = performance.now();
  mkdirSync(output, { recursive: true });

  let model: Model;
  let history: Record<string, number[]> | undefined;
  if (existsSync(join(modelDir, 'model.json'))) {
    console.log(`Loading the model from ${modelDir}`);
    model = await loadModel(modelDir);
    const saved = join(modelDir, 'history.json');
    history = existsSync(saved) ? JSON.parse(readFileSync(saved, 'utf8')) : undefined;
  } else {
    ({ model, history } = await train(modelDir, epochs, limit));
  }
  const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => l.name);
  if (convs.length === 0) throw new Error(`the model in ${modelDir} has no Conv2D layer to draw Grad-CAM and activations at`);
  const [firstConv, lastConv] = [convs[0]!, convs.at(-1)!];

  const { test } = loadFashionMnist({ trainLimit: 1, testLimit: images });
  const truth = test.y.dataSync();
  const rows: { predicted: string; actual: string; confidence: number; cells: Cell[] }[] = [];
  const failures: string[] = [];
  for (let i = 0; i < images; i++) {
    const x = slice(test.x, [i, 0, 0, 0], [1, 28, 28, 1]);
    const probabilities = Array.from((model.predict(x) as Tensor).dataSync());
    const classIndex = probabilities.indexOf(Math.max(...probabilities));
    const cells: Cell[] = [];
    // Each method is drawn on its own: one that fails is reported in its cell and in the exit status.
    const draw = async (method: string, picture: () => Uint8Array | Promise<Uint8Array>): Promise<void> => {
      const file = `${i}-${method.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase()}.png`;
      const t = performance.now();
      try {
        writeFileSync(join(output, file), await picture());
        cells.push({ file });
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        failures.push(`image ${i}, ${method}: ${error}`);
        cells.push({ error });
      }
      console.log(`  image ${i}: ${method} ${((performance.now() - t) / 1000).toFixed(2)} s`);
    };
    const lime = () => limeImage(model, x, { classIndex, segments: 30, hideColor: 0, samples: 1000, seed });
    let segments: ReturnType<typeof lime> | undefined;
    await draw('input', () => imagePng(x, { range: [0, 1], scale: 4 }));
    await draw('saliency', () => heatmapPng(saliency(model, x, { classIndex }), { colormap: 'inferno', scale: 4 }));
    await draw('integrated gradients', () =>
      heatmapPng(abs(integratedGradients(model, x, { classIndex, steps: 32 })), { colormap: 'inferno', scale: 4 }),
    );
    await draw('Grad-CAM', () => overlayPng(x, gradCam(model, x, { layer: lastConv, classIndex }), { alpha: 0.5, scale: 4 }));
    await draw('occlusion', () => overlayPng(x, occlusion(model, x, { window: 6, stride: 2, classIndex }), { alpha: 0.5, scale: 4 }));
    await draw('LIME', () => {
      segments = lime();
      return maskPng(x, segments.segmentation, segments.weights, { topK: 5, positiveOnly: true, scale: 4 });
    });
    await draw('KernelSHAP', () => {
      const segmentation = (segments ?? lime()).segmentation;
      return maskPng(x, segmentation, segmentShap(model, x, segmentation, classIndex, seed), { scale: 4 });
    });
    await draw('conv1 activations', () => gridPng(activationMaps(model, x, { layer: firstConv }), { columns: 8, scale: 2 }));
    await draw('probabilities', async () => (await barChart([...FASHION_MNIST_CLASSES], probabilities)).png);
    rows.push({
      predicted: FASHION_MNIST_CLASSES[classIndex]!,
      actual: FASHION_MNIST_CLASSES[truth[i]!]!,
      confidence: probabilities[classIndex]!,
      cells,
    });
  }

  let curves = '<p>No training history was saved with this model (train it with this example to get the curves).</p>';
  if (history) {
    const chart = await trainingCurves(history, { title: 'Training' });
    writeFileSync(join(output, 'training-curves.svg'), chart.svg);
    writeFileSync(join(output, 'training-curves.png'), chart.png);
    curves = '<img src="training-curves.svg" alt="training curves">';
  }
  writeFileSync(join(output, 'index.html'), page(rows, curves, relative(output, modelDir) || '.'));
  const seconds = (performance.now() - start) / 1000;
  console.log(`Wrote ${join(output, 'index.html')} and its pictures in ${seconds.toFixed(1)} s (backend ${getBackend().name})`);
  if (failures.length > 0) {
    console.error(`${failures.length} picture(s) failed:\n${failures.join('\n')}`);
    process.exit(1);
  }
}

const html = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function page(rows: { predicted: string; actual: string; confidence: number; cells: Cell[] }[], curves: string, model: string): string {
  const head = `<tr><th>predicted / true</th>${METHODS.map((m) => `<th>${m}</th>`).join('')}</tr>`;
  const body = rows
    .map((row) => {
      const verdict = row.predicted === row.actual ? 'right' : 'wrong';
      const label = `<td class="${verdict}">${html(row.predicted)} (${(100 * row.confidence).toFixed(1)} %)<br>true: ${html(row.actual)}</td>`;
      const cells = row.cells.map((c) =>
        'file' in c ? `<td><img src="${c.file}" alt=""></td>` : `<td class="error">${html(c.error)}</td>`,
      );
      return `<tr>${label}${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Why the Fashion-MNIST CNN decides what it decides</title>
<style>
  body { font-family: sans-serif; margin: 2em; }
  table { border-collapse: collapse; }
  th, td { padding: 6px; text-align: center; vertical-align: middle; font-size: 13px; }
  img { image-rendering: pixelated; }
  .right { color: #2e7d32; } .wrong { color: #c62828; } .error { color: #c62828; max-width: 14em; }
</style>
<h1>Why the Fashion-MNIST CNN decides what it decides</h1>
<p>Model: <code>${html(model)}</code>. Each row explains the predicted class. Saliency and Integrated Gradients:
|gradient| and |attribution| per pixel (inferno: dark is low). Grad-CAM (last conv layer) and occlusion (the drop in
the class score, its logit, when a 6 × 6 patch is blacked out) over the image (jet: red is high). LIME: the 5 superpixels that
raise the class most (a sample blacks out the superpixels it hides, as the background is black). KernelSHAP: the same superpixels tinted green (for) or red (against) by their Shapley value.</p>
<table>
${head}
${body}
</table>
<h2>Training</h2>
${curves}
</html>
`;
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
