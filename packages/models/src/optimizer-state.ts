/**
 * The optimizer's state in model.json, as TensorFlow.js writes it with `includeOptimizer`: extra
 * weights in the manifest marked `"group": "optimizer"`, in the order of tfjs' optimizer
 * `getWeights()`: first `iter` (an int32 scalar, the number of steps taken), then each state slot
 * for every variable that has one, slot after slot (`<variable>/m` for all variables, then
 * `<variable>/v`, ...). tfjs-layers restores them positionally when it loads a model it can compile;
 * Axon matches them by name, falling back to tfjs' positional order.
 */
import { Tensor, type Variable } from '@axon/tensor';
import type { Optimizer } from './optimizers.js';

/** The manifest group tfjs marks optimizer weights with. */
export const OPTIMIZER_GROUP = 'optimizer';

/** The name tfjs gives the iteration counter. */
const ITERATIONS = 'iter';

/**
 * The optimizer's state as named tensors for the manifest (group 'optimizer'), in tfjs' order:
 * `iter`, then every slot of the variables (of `variables`, in order) that have state.
 */
export function optimizerWeights(
  optimizer: Optimizer,
  variables: readonly Variable[],
): {
  /** `iter` or `<variable>/<slot>`. */
  name: string;
  /** The value. */
  tensor: Tensor;
  /** Always 'optimizer'. */
  group: string;
}[] {
  const out = [{ name: ITERATIONS, tensor: new Tensor(new Int32Array([optimizer.iterations]), [], 'int32'), group: OPTIMIZER_GROUP }];
  const withState = variables.flatMap((v) => {
    const state = optimizer.stateOf(v);
    return state ? [{ v, state }] : [];
  });
  for (const slot of optimizer.stateSlotNames()) {
    for (const { v, state } of withState) {
      // A slot tfjs keeps but this optimizer does not use (RMSprop's momentum at 0) is saved as zeros.
      const tensor: Tensor = state[slot] ?? new Tensor(new Float32Array(v.size), [...v.shape]);
      out.push({ name: `${v.name}/${slot}`, tensor, group: OPTIMIZER_GROUP });
    }
  }
  return out;
}

function sameShape(a: Tensor, b: Tensor): boolean {
  return a.rank === b.rank && a.shape.every((d, i) => d === b.shape[i]);
}

/**
 * Assignments of saved slot values to `variables` by name: `<variable>/<slot>`.
 *
 * @returns the assignments, or a reason they cannot be made.
 */
function byName(
  optimizer: Optimizer,
  variables: readonly Variable[],
  slots: [string, Tensor][],
): { variable: Variable; slot: string; value: Tensor }[] | string {
  const known = new Map(variables.map((v) => [v.name, v]));
  const slotNames = new Set(optimizer.stateSlotNames());
  const out: { variable: Variable; slot: string; value: Tensor }[] = [];
  for (const [name, value] of slots) {
    const cut = name.lastIndexOf('/');
    const variable = cut > 0 ? known.get(name.slice(0, cut)) : undefined;
    const slot = name.slice(cut + 1);
    if (!variable) return `'${name}' names no trainable weight of the model`;
    if (!slotNames.has(slot)) return `'${name}' is not a slot of ${optimizer.className} (${[...slotNames].join(', ') || 'none'})`;
    out.push({ variable, slot, value });
  }
  return out;
}

/**
 * Assignments in tfjs' positional order: each slot of `optimizer.stateSlotNames()` for every one
 * of `variables`, as tfjs' optimizer `setWeights()` reads them.
 */
function byPosition(
  optimizer: Optimizer,
  variables: readonly Variable[],
  slots: [string, Tensor][],
): { variable: Variable; slot: string; value: Tensor }[] | string {
  const slotNames = optimizer.stateSlotNames();
  if (slots.length !== slotNames.length * variables.length) {
    return `${slots.length} slot values for ${variables.length} weights × ${slotNames.length} slots (${slotNames.join(', ')})`;
  }
  return slots.map(([, value], i) => ({
    variable: variables[i % variables.length]!,
    slot: slotNames[Math.floor(i / variables.length)]!,
    value,
  }));
}

/**
 * Restores the optimizer's state saved by {@link optimizerWeights} (or by tfjs-layers) into
 * `optimizer` for the model's trainable `variables`. Slot values are matched to variables by
 * name (`<variable>/<slot>`), or else in tfjs' positional order; all or nothing.
 *
 * @returns null when restored, else why not (the optimizer is then left fresh).
 */
export function restoreOptimizerWeights(
  optimizer: Optimizer,
  variables: readonly Variable[],
  saved: ReadonlyMap<string, Tensor>,
): string | null {
  const iterations = saved.get(ITERATIONS);
  if (iterations?.size !== 1) return `no scalar '${ITERATIONS}' among the optimizer weights`;
  const slots = [...saved].filter(([name]) => name !== ITERATIONS);
  let assignments = byName(optimizer, variables, slots);
  if (typeof assignments === 'string') {
    const positional = byPosition(optimizer, variables, slots);
    if (typeof positional === 'string') return `${assignments}; nor do they follow tfjs' order: ${positional}`;
    assignments = positional;
  }
  for (const { variable, slot, value } of assignments) {
    if (!sameShape(variable, value)) {
      return `'${variable.name}/${slot}' has shape [${value.shape.join(',')}], but the weight has [${variable.shape.join(',')}]`;
    }
    // Slots are float32 variables; an int32 entry would be float32 bytes misread (as tfjs, no conversion).
    if (value.dtype !== 'float32') return `'${variable.name}/${slot}' has dtype '${value.dtype}', but optimizer slots are float32`;
  }
  for (const { variable, slot, value } of assignments) {
    const target = optimizer.stateOf(variable, true)?.[slot];
    // null: a slot this optimizer does not use (RMSprop's momentum at 0); tfjs writes it anyway.
    if (target) target.assign(value);
  }
  const step = iterations.dtype === 'int32' ? iterations.intDataSync()[0]! : iterations.dataSync()[0]!;
  optimizer.iterations = Math.round(step);
  return null;
}
