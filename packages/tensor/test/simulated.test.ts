/**
 * The contract proved on a device that is not host memory: the simulated
 * backend keeps every buffer in a private store and counts every transfer.
 * It passes the kernel conformance suite and the op cases, ops move no data
 * but what they must, and kernels it lacks fall back to a host backend with
 * the data moved both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  add,
  conv2d,
  kernelProviders,
  matmul,
  mean,
  mul,
  registerBackend,
  relu,
  setBackend,
  softmax,
  sum,
  tensor,
  valueAndGrads,
  variable,
  type Backend,
} from '../src/index.js';
import {
  conformanceCases,
  conformanceCasesFor,
  createReferenceBackend,
  createSimulatedBackend,
  createSimulatedDevice,
  opCases,
  recurrentConformanceCases,
  type SimulatedDevice,
} from '../src/testing/index.js';

const full = createSimulatedBackend(createReferenceBackend());

describe('the simulated backend passes the kernel conformance suite', () => {
  for (const c of conformanceCases) it(c.name, () => c.run(full));
  // The reference backend has no fused recurrent kernels: the recurrent cases do not apply.
  it('has no recurrent cases to run (the reference backend has no fused kernels)', () => {
    expect(recurrentConformanceCases.filter((c) => typeof full[c.kernel] === 'function')).toEqual([]);
  });
});

describe('with the simulated backend active', () => {
  let device: SimulatedDevice;
  beforeAll(() => {
    registerBackend('reference', createReferenceBackend, 0);
    registerBackend('sim', () => createSimulatedBackend(createReferenceBackend()), -10);
    device = setBackend('sim').device as SimulatedDevice;
  });
  afterAll(() => {
    setBackend('reference');
  });

  describe('op cases', () => {
    for (const c of opCases) it(c.name, () => c.run());
  });

  it('uploads a tensor once, runs ops with no transfer, and downloads only what is read', () => {
    device.resetCounters();
    const x = tensor([
      [1, -2],
      [3, -4],
    ]);
    expect(device.counters.uploads).toBe(1);
    const w = variable(
      tensor([
        [0.5, 1],
        [1, 0.5],
      ]),
    );
    device.resetCounters();
    // Scalars, the variable's copy, broadcasting, reductions, gradients: all on the device.
    const { value, grads } = valueAndGrads(() => mean(relu(add(matmul(x, w), 0.25))), [w]);
    const probabilities = softmax(mul(x, 2));
    expect(device.counters.uploads).toBe(0);
    expect(device.counters.downloads).toBe(0);
    // relu(x·w + 0.25) = [[0, 0.25], [0, 1.25]].
    expect(value.item()).toBeCloseTo(0.375, 6);
    expect(device.counters.downloads).toBe(1);
    expect(device.counters.downloadBytes).toBe(4);
    expect(grads[0]!.shape).toEqual([2, 2]);
    expect(sum(probabilities).item()).toBeCloseTo(2, 5);
  });

  it('fails clearly when a device buffer is used after its memory was freed', () => {
    const b = device.alloc(3, 'float32');
    device.free!(b);
    expect(() => device.read(b)).toThrow(/not a live buffer/);
  });
});

describe('per-kernel fallback across devices', () => {
  let device: SimulatedDevice;
  beforeAll(() => {
    device = createSimulatedDevice('partial-device');
    registerBackend('reference', createReferenceBackend, 0);
    // Element-wise kernels only: gemm, conv2d, reductions etc. come from 'reference' on the host.
    registerBackend(
      'partial',
      () =>
        createSimulatedBackend(createReferenceBackend(), {
          name: 'partial',
          device,
          kernels: ['fill', 'cast', 'unary', 'binary', 'select'],
        }),
      -20,
    );
    setBackend('partial');
  });
  afterAll(() => {
    setBackend('reference');
  });

  it('takes each kernel from the next backend that has it', () => {
    const providers = new Map(kernelProviders().map((p) => [p.kernel, p.backend]));
    expect(providers.get('binary')).toBe('partial');
    expect(providers.get('gemm')).toBe('reference');
    expect(providers.get('conv2d')).toBe('reference');
    expect(providers.get('lstmForward')).toBe(null);
  });

  it('computes what the host backend computes, moving the data there and back', () => {
    const xs = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    const ws = [
      [1, 0],
      [0, 1],
      [1, 1],
    ];
    const expected = [
      [4, 5],
      [10, 11],
    ];
    device.resetCounters();
    const y = matmul(tensor(xs), tensor(ws));
    // Two uploads for the inputs, then gemm on the host: a and b go down (c is written whole, beta 0), c comes back up.
    expect(device.counters.downloads).toBe(2);
    expect(device.counters.uploads).toBe(3);
    expect(y.toArray()).toEqual(expected);
    const img = tensor(
      Float32Array.from({ length: 16 }, (_, i) => i),
      [1, 4, 4, 1],
    );
    const filter = tensor([1, 0, 0, 1], [2, 2, 1, 1]);
    const { grads } = valueAndGrads(() => sum(relu(conv2d(img, filter))), [filter]);
    expect(Array.from(grads[0]!.dataSync())).toEqual([
      0 + 1 + 2 + 4 + 5 + 6 + 8 + 9 + 10,
      1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11,
      4 + 5 + 6 + 8 + 9 + 10 + 12 + 13 + 14,
      5 + 6 + 7 + 9 + 10 + 11 + 13 + 14 + 15,
    ]);
  });

  it('moves a tensor made on another device when an op of the active backend reads it', () => {
    setBackend('reference');
    const onHost = tensor([1, 2, 3]);
    setBackend('partial');
    device.resetCounters();
    const y = add(onHost, 1);
    expect(device.counters.uploads).toBe(1);
    expect(y.toArray()).toEqual([2, 3, 4]);
  });
});

describe('conformanceCasesFor', () => {
  it('keeps only the cases of the kernels a backend implements', () => {
    const partial: Backend<unknown, unknown> = createSimulatedBackend(createReferenceBackend(), { kernels: ['fill', 'gemm'] });
    const cases = conformanceCasesFor(partial);
    expect(new Set(cases.map((c) => c.kernel))).toEqual(new Set(['fill', 'gemm']));
    expect(cases.length).toBeGreaterThan(40);
  });
});
