/**
 * Unknown or misspelled options are errors: `fit({ epoch: 5 })` would otherwise train one epoch
 * silently. Every options object a user passes is checked against the names its receiver knows,
 * and the message suggests the closest one (a Keras snake_case spelling maps to its camelCase).
 */
import { Tensor } from '@axon/tensor';
import { snakeToCamel } from './serialization.js';

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The known name closest to `name` (its camelCase form first), or undefined when none is close. */
export function closestOption(name: string, known: readonly string[]): string | undefined {
  const camel = snakeToCamel(name);
  if (camel !== name && known.includes(camel)) return camel;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = Math.min(distance(name, k), distance(camel, k));
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/**
 * Throws `<where>: unknown option 'epoch' (did you mean 'epochs'?)` for the first key of `options`
 * that is not in `known`. `undefined`/`null` options pass; anything else that is not an options
 * object (a Tensor, an array, a string, a number) is an error naming `where`.
 *
 * @example
 * ```ts
 * checkOptions('fit', { epoch: 5 }, ['epochs', 'batchSize']); // Error: fit: unknown option 'epoch' (did you mean 'epochs'?)
 * ```
 */
export function checkOptions(where: string, options: object | null | undefined, known: readonly string[]): void {
  if (options === null || options === undefined) return;
  if (typeof options !== 'object' || Array.isArray(options) || options instanceof Tensor) {
    // In @axon/node the merge layers shadow the tensor ops (`add`, `maximum`, ...): `add(x, y)` lands here.
    const given =
      options instanceof Tensor ? 'a Tensor' : Array.isArray(options) ? 'an array' : `${typeof options} ${JSON.stringify(options)}`;
    const hint =
      options instanceof Tensor || Array.isArray(options) ? ' (to compute on tensors, call the tensor op: under `ops` in @axon/node)' : '';
    throw new Error(`${where}: expected an options object, got ${given}${hint}`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const suggestion = closestOption(key, known);
    throw new Error(
      `${where}: unknown option '${key}'${suggestion ? ` (did you mean '${suggestion}'?)` : ''}; known options: ${[...known].sort().join(', ')}`,
    );
  }
}
