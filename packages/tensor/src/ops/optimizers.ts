/**
 * In-place optimizer steps on variables, each one fused kernel pass (Keras
 * formulas: see Kernels.sgdUpdate etc.). They record no gradient.
 */
import type { AdamConfig, RmspropConfig, SgdConfig } from '../backend.js';
import { formatShape, shapesEqual } from '../shape.js';
import { Tensor, Variable } from '../tensor.js';
import { asFloat, buf, kernels } from './util.js';

function check(op: string, param: Variable, state: Record<string, Tensor | null>): void {
  if (!(param instanceof Variable)) throw new Error(`${op}: param must be a Variable (updated in place)`);
  for (const [name, t] of Object.entries(state)) {
    if (t === null) continue;
    if (!(t instanceof Tensor)) throw new Error(`${op}: ${name} must be a Tensor`);
    if (!shapesEqual(t.shape, param.shape)) {
      throw new Error(`${op}: ${name} for '${param.name}' has shape ${formatShape(t.shape)}, expected ${formatShape(param.shape)}`);
    }
    if (name !== 'grad' && !(t instanceof Variable))
      throw new Error(`${op}: ${name} must be a Variable (optimizer state, updated in place)`);
  }
}

/** SGD (with momentum when config.momentum > 0, which needs a velocity variable). */
export function sgdUpdate(param: Variable, grad: Tensor, velocity: Variable | null, config: SgdConfig): void {
  check('sgdUpdate', param, { grad, velocity });
  const g = asFloat(grad);
  kernels().sgdUpdate(buf(param, 'sgdUpdate'), buf(g, 'sgdUpdate'), velocity ? buf(velocity, 'sgdUpdate') : null, config);
}

/** Adam / AdamW with moment variables m and v. */
export function adamUpdate(param: Variable, grad: Tensor, m: Variable, v: Variable, config: AdamConfig): void {
  check('adamUpdate', param, { grad, m, v });
  const g = asFloat(grad);
  kernels().adamUpdate(buf(param, 'adamUpdate'), buf(g, 'adamUpdate'), buf(m, 'adamUpdate'), buf(v, 'adamUpdate'), config);
}

/** RMSprop; mom only with momentum, meanGrad only when centered. */
export function rmspropUpdate(
  param: Variable,
  grad: Tensor,
  meanSquare: Variable,
  mom: Variable | null,
  meanGrad: Variable | null,
  config: RmspropConfig,
): void {
  check('rmspropUpdate', param, { grad, meanSquare, mom, meanGrad });
  const g = asFloat(grad);
  const b = (t: Variable | null): unknown => (t ? buf(t, 'rmspropUpdate') : null);
  kernels().rmspropUpdate(buf(param, 'rmspropUpdate'), buf(g, 'rmspropUpdate'), b(meanSquare), b(mom), b(meanGrad), config);
}
