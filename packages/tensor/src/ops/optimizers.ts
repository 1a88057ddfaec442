/**
 * In-place optimizer steps on variables, each one fused kernel pass (Keras
 * formulas: see Kernels.sgdUpdate etc.). They record no gradient.
 */
import type { AdamConfig, RmspropConfig, SgdConfig } from '../backend.js';
import { formatShape, shapesEqual } from '../shape.js';
import { Tensor, Variable } from '../tensor.js';
import { asFloat, assertNumber, buf, kernels } from './util.js';

/** The config's fields, each a finite number or (where the config has a flag) a boolean. */
function checkConfig(op: string, config: object, numbers: readonly string[], flags: readonly string[]): void {
  if (config === null || typeof config !== 'object')
    throw new Error(`${op}: config must be an object, got ${config === null ? 'null' : typeof config}`);
  const fields = config as Record<string, unknown>;
  for (const name of numbers) assertNumber(op, `config.${name}`, fields[name]);
  for (const name of flags) {
    if (typeof fields[name] !== 'boolean') throw new Error(`${op}: config.${name} must be a boolean, got ${typeof fields[name]}`);
  }
}

function check(op: string, param: Variable, state: Record<string, Tensor | null>): void {
  if (!(param instanceof Variable)) throw new Error(`${op}: param must be a Variable (updated in place)`);
  for (const [name, t] of Object.entries(state)) {
    if (t === null && name !== 'grad') continue; // an optional state buffer
    if (!(t instanceof Tensor)) throw new Error(`${op}: ${name} must be a Tensor, got ${t === null ? 'null' : typeof t}`);
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
  checkConfig('sgdUpdate', config, ['lr', 'momentum'], ['nesterov']);
  const g = asFloat(grad);
  kernels().sgdUpdate(buf(param, 'sgdUpdate'), buf(g, 'sgdUpdate'), velocity ? buf(velocity, 'sgdUpdate') : null, config);
}

/** Adam / AdamW with moment variables m and v. */
export function adamUpdate(param: Variable, grad: Tensor, m: Variable, v: Variable, config: AdamConfig): void {
  check('adamUpdate', param, { grad, m, v });
  checkConfig('adamUpdate', config, ['lr', 'beta1', 'beta2', 'epsilon', 'step', 'weightDecay'], []);
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
  checkConfig('rmspropUpdate', config, ['lr', 'rho', 'momentum', 'epsilon'], ['centered']);
  const g = asFloat(grad);
  const b = (t: Variable | null): unknown => (t ? buf(t, 'rmspropUpdate') : null);
  kernels().rmspropUpdate(buf(param, 'rmspropUpdate'), buf(g, 'rmspropUpdate'), b(meanSquare), b(mom), b(meanGrad), config);
}
