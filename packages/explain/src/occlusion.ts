/**
 * Occlusion sensitivity (Zeiler & Fergus 2014): how much the class score drops when a window of
 * the image is covered, slid over the image — a model-agnostic map needing only predictions.
 */
import { checkOptions } from '@axon/layers';
import { Model } from '@axon/models';
import { Tensor, add, mul, noGrad, scope, sub, tensor } from '@axon/tensor';
import { checkModelInput, classScores, describe, selectScores, targetClasses } from './class-score.js';

/** Options of {@link occlusion}. */
export interface OcclusionOptions {
  /** The occluding window's size in pixels: [height, width], or one number for a square. */
  window: number | [number, number];
  /** How far the window moves each time: [down, across] or one number (default the window's size: patches side by side). */
  stride?: number | [number, number];
  /** The value the window's pixels take, in every channel (default 0). */
  fill?: number;
  /** The class to explain (one, or one per sample); default each sample's predicted class. */
  classIndex?: number | number[];
}

/** A window or stride as [rows, columns] of positive integers at most [h, w]. */
function pair(name: string, value: unknown, h: number, w: number): [number, number] {
  const [r, c] = typeof value === 'number' ? [value, value] : Array.isArray(value) && value.length === 2 ? value : [Number.NaN, Number.NaN];
  if (!(Number.isInteger(r) && Number.isInteger(c) && r >= 1 && c >= 1 && r <= h && c <= w)) {
    throw new Error(
      `occlusion: ${name} must be a positive integer or [rows, columns] of them, at most the image's [${h}, ${w}], got ${describe(value)}`,
    );
  }
  return [r, c];
}

/**
 * Occlusion sensitivity: for every position of a `window` slid over the image by `stride`, the
 * class score of x minus the score with the window's pixels set to `fill`; each pixel gets the mean
 * over the windows covering it (pixels no window covers get 0), as Captum's Occlusion. Positive
 * where hiding the pixels lowers the score. The score is the logit when the model ends in a
 * softmax, else the output; `model` may also be any function from a batch [n, h, w, c] to scores
 * [n, classes], whose output is then the score.
 *
 * @param x - Images [n, h, w, channels].
 * @returns A Tensor [n, h, w].
 * @throws Error if x is not [n, h, w, c], window or stride is not a positive integer (or pair)
 *   within the image, fill is not finite, or classIndex is out of range.
 *
 * @example
 * ```ts
 * const map = occlusion(classifier, images, { window: 4, stride: 2, fill: 0.5 }); // [n, 28, 28]
 * ```
 */
export function occlusion(model: Model | ((x: Tensor) => Tensor), x: Tensor, options: OcclusionOptions): Tensor {
  const fn = 'occlusion';
  if (options === null || typeof options !== 'object')
    throw new Error(`${fn}: options {window, ...} are required, got ${describe(options)}`);
  checkOptions(fn, options, ['window', 'stride', 'fill', 'classIndex']);
  if (model instanceof Model) checkModelInput(fn, model, x);
  else if (typeof model !== 'function') throw new Error(`${fn}: model must be a Model or a function (x) => scores, got ${describe(model)}`);
  if (!(x instanceof Tensor) || x.rank !== 4 || x.shape[0] === 0)
    throw new Error(`${fn}: x must be images [n, h, w, channels], got ${describe(x)}`);
  const [n, h, w] = x.shape as [number, number, number, number];
  const [wh, ww] = pair('window', options.window, h, w);
  const [sh, sw] = pair('stride', options.stride ?? [wh, ww], h, w);
  const fillValue = options.fill ?? 0;
  if (typeof fillValue !== 'number' || !Number.isFinite(fillValue))
    throw new Error(`${fn}: fill must be a finite number, got ${describe(fillValue)}`);
  const scoresOf = (batch: Tensor): Tensor => {
    const s = model instanceof Model ? classScores(fn, model, batch) : model(batch);
    if (!(s instanceof Tensor) || s.rank !== 2 || s.shape[0] !== batch.shape[0]) {
      throw new Error(`${fn}: the model must give scores [${batch.shape[0]}, classes], got ${describe(s)}`);
    }
    return s;
  };
  return noGrad(() =>
    scope(fn, () => {
      const full = scoresOf(x);
      const classes = targetClasses(fn, full, options.classIndex);
      const reference = selectScores(full, classes).dataSync();
      const totals = new Float64Array(n * h * w);
      const counts = new Float64Array(h * w);
      for (let top = 0; top + wh <= h; top += sh) {
        for (let left = 0; left + ww <= w; left += sw) {
          const mask = new Float32Array(h * w);
          for (let i = top; i < top + wh; i++) mask.fill(1, i * w + left, i * w + left + ww);
          const drops = scope(fn, () => {
            const m = tensor(mask, [1, h, w, 1]);
            const covered = add(sub(x, mul(x, m)), mul(m, fillValue));
            return selectScores(scoresOf(covered), classes).dataSync();
          });
          for (let i = top; i < top + wh; i++) {
            for (let j = left; j < left + ww; j++) {
              counts[i * w + j]! += 1;
              for (let s = 0; s < n; s++) totals[(s * h + i) * w + j]! += reference[s]! - drops[s]!;
            }
          }
        }
      }
      const map = new Float32Array(n * h * w);
      totals.forEach((t, k) => {
        const c = counts[k % (h * w)]!;
        map[k] = c > 0 ? t / c : 0;
      });
      return tensor(map, [n, h, w]);
    }),
  );
}
