#!/usr/bin/env python3
"""Reference values for @axon/layers, computed by PyTorch (run: /usr/bin/python3 scripts/make-fixtures.py).

Each fixture holds a layer config (className + camelCase config, as @axon/layers
deserializes it), an input, the weights in Keras layout and order, and what
PyTorch computes for them in float64: the output, and the gradients of the
scalar loss sum(output * projection) with respect to the input and every
trainable weight. Everything is channels-last (NHWC) and Keras-shaped; the
script permutes to PyTorch's layout internally, so autograd returns gradients
already in Keras layout.

TensorFlow's 'same' padding (odd padding cell after, i.e. bottom/right) is
applied with an explicit F.pad, because PyTorch's symmetric padding differs
when the total is odd. Average pooling excludes padded cells as TensorFlow does
(divide by the pooled count of a padded ones tensor).
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')


def rnd(shape, seed, lo=-1.0, hi=1.0, gap=0.0):
    """Float32-representable values in [lo, hi), optionally kept `gap` away from 0 (kinks)."""
    g = torch.Generator().manual_seed(seed)
    v = torch.rand(shape, generator=g, dtype=torch.float32) * (hi - lo) + lo
    if gap > 0:
        v = torch.where(v.abs() < gap, torch.sign(v + 1e-12) * (gap + v.abs()), v)
    return v.to(torch.float64)


def distinct(shape, seed):
    """A shuffled ramp: distinct values, so max pooling has no ties."""
    n = math.prod(shape)
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=g).to(torch.float64)
    return ((perm - n / 2) * 0.1).reshape(shape)


def enc(t):
    t = t.detach().to(torch.float64).contiguous()
    return {'shape': list(t.shape), 'values': [float(f'{v:.9g}') for v in t.reshape(-1).tolist()]}


def tf_same_pads(size, window, stride, dilation=1):
    eff = (window - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + eff - size, 0)
    return total // 2, total - total // 2


def pad_nchw_same(x, kernel, strides, dilation=(1, 1), value=0.0):
    top, bottom = tf_same_pads(x.shape[2], kernel[0], strides[0], dilation[0])
    left, right = tf_same_pads(x.shape[3], kernel[1], strides[1], dilation[1])
    return F.pad(x, (left, right, top, bottom), value=value)


def nhwc_to_nchw(x):
    return x.permute(0, 3, 1, 2)


def nchw_to_nhwc(x):
    return x.permute(0, 2, 3, 1)


def write(name, layer, x, weights, forward, *, training=False, input_grad=True, extra=None):
    """Runs forward(x, *weights), projects to a scalar and writes the fixture."""
    x = x.clone().requires_grad_(input_grad)
    weights = [w.clone().requires_grad_(trainable) for w, trainable in weights]
    y = forward(x, *weights)
    proj = rnd(tuple(y.shape), seed=len(name) * 7919 + 17, lo=0.5, hi=1.5)
    loss = (y * proj).sum()
    loss.backward()
    fixture = {
        'name': name,
        'layer': layer,
        'training': training,
        'input': enc(x),
        'weights': [enc(w) for w in weights],
        'output': enc(y),
        'projection': enc(proj),
        'inputGrad': enc(x.grad) if input_grad else None,
        'weightGrads': [enc(w.grad) if w.requires_grad else None for w in weights],
    }
    if extra:
        fixture.update(extra(x, weights))
    path = os.path.join(OUT, f'{name}.json')
    with open(path, 'w') as f:
        json.dump(fixture, f, separators=(',', ':'))
    print(f'{name}: {os.path.getsize(path)} bytes')


def dense_cases():
    x = rnd((4, 5), 1)
    k, b = rnd((5, 3), 2), rnd((3,), 3, -0.5, 0.5)
    write('dense_relu', {'className': 'Dense', 'config': {'units': 3, 'activation': 'relu'}},
          x, [(k, True), (b, True)], lambda x, k, b: F.relu(x @ k + b))
    x = rnd((3, 2, 4), 4)
    k, b = rnd((4, 5), 5), rnd((5,), 6, -0.5, 0.5)
    write('dense_softmax_rank3', {'className': 'Dense', 'config': {'units': 5, 'activation': 'softmax'}},
          x, [(k, True), (b, True)], lambda x, k, b: F.softmax(x @ k + b, dim=-1))
    x = rnd((3, 4), 7)
    k = rnd((4, 2), 8)
    write('dense_nobias_tanh', {'className': 'Dense', 'config': {'units': 2, 'activation': 'tanh', 'useBias': False}},
          x, [(k, True)], lambda x, k: torch.tanh(x @ k))


def conv(x, k, b, strides, padding, dilation=(1, 1)):
    """x NHWC, k [kh, kw, in, out] (Keras) → NHWC."""
    xc = nhwc_to_nchw(x)
    w = k.permute(3, 2, 0, 1)
    if padding == 'same':
        xc = pad_nchw_same(xc, k.shape[:2], strides, dilation)
    y = F.conv2d(xc, w, b, stride=strides, dilation=dilation)
    return nchw_to_nhwc(y)


def conv_cases():
    cases = [
        ('conv2d_valid', (2, 6, 5, 3), (3, 2), 4, (1, 1), 'valid', (1, 1), 'linear'),
        ('conv2d_same_stride2', (2, 7, 6, 2), (3, 3), 3, (2, 2), 'same', (1, 1), 'linear'),
        ('conv2d_same_stride2_even', (1, 8, 8, 2), (4, 4), 2, (2, 2), 'same', (1, 1), 'tanh'),
        ('conv2d_dilation2', (1, 9, 8, 2), (3, 3), 2, (1, 1), 'valid', (2, 2), 'linear'),
        ('conv2d_dilation2_same', (2, 6, 7, 2), (3, 2), 3, (1, 1), 'same', (2, 2), 'sigmoid'),
    ]
    acts = {'linear': lambda t: t, 'tanh': torch.tanh, 'sigmoid': torch.sigmoid}
    for i, (name, xs, ks, filters, strides, padding, dil, act) in enumerate(cases):
        x = rnd(xs, 100 + i)
        k = rnd((*ks, xs[3], filters), 200 + i, -0.5, 0.5)
        b = rnd((filters,), 300 + i, -0.5, 0.5)
        config = {'filters': filters, 'kernelSize': list(ks), 'strides': list(strides), 'padding': padding,
                  'dilationRate': list(dil), 'activation': act}
        write(name, {'className': 'Conv2D', 'config': config}, x, [(k, True), (b, True)],
              lambda x, k, b, s=strides, p=padding, d=dil, a=acts[act]: a(conv(x, k, b, s, p, d)))


def max_pool(x, pool, strides, padding):
    xc = nhwc_to_nchw(x)
    if padding == 'same':
        xc = pad_nchw_same(xc, pool, strides, value=-math.inf)
    return nchw_to_nhwc(F.max_pool2d(xc, pool, strides))


def avg_pool(x, pool, strides, padding):
    xc = nhwc_to_nchw(x)
    if padding == 'valid':
        return nchw_to_nhwc(F.avg_pool2d(xc, pool, strides))
    # TensorFlow divides by the number of real (unpadded) cells in each window.
    summed = F.avg_pool2d(pad_nchw_same(xc, pool, strides), pool, strides, divisor_override=1)
    counts = F.avg_pool2d(pad_nchw_same(torch.ones_like(xc), pool, strides), pool, strides, divisor_override=1)
    return nchw_to_nhwc(summed / counts)


def pool_cases():
    cases = [
        ('max_pooling2d_valid', 'MaxPooling2D', (2, 6, 6, 3), (2, 2), (2, 2), 'valid', max_pool),
        ('max_pooling2d_same_3x3_s2', 'MaxPooling2D', (1, 7, 6, 2), (3, 3), (2, 2), 'same', max_pool),
        ('max_pooling2d_overlap', 'MaxPooling2D', (2, 5, 5, 2), (3, 2), (1, 2), 'valid', max_pool),
        ('average_pooling2d_valid', 'AveragePooling2D', (2, 6, 5, 3), (2, 2), (2, 2), 'valid', avg_pool),
        ('average_pooling2d_same_3x3_s2', 'AveragePooling2D', (2, 7, 6, 2), (3, 3), (2, 2), 'same', avg_pool),
        ('average_pooling2d_same_2x2_s1', 'AveragePooling2D', (1, 5, 4, 2), (2, 2), (1, 1), 'same', avg_pool),
    ]
    for i, (name, cls, xs, pool, strides, padding, fn) in enumerate(cases):
        x = distinct(xs, 400 + i)
        config = {'poolSize': list(pool), 'strides': list(strides), 'padding': padding}
        write(name, {'className': cls, 'config': config}, x, [],
              lambda x, p=pool, s=strides, pad=padding, f=fn: f(x, p, s, pad))
    x = distinct((2, 4, 5, 3), 450)
    write('global_max_pooling2d', {'className': 'GlobalMaxPooling2D', 'config': {}}, x, [],
          lambda x: x.amax(dim=(1, 2)))
    write('global_average_pooling2d', {'className': 'GlobalAveragePooling2D', 'config': {}}, rnd((2, 4, 5, 3), 451), [],
          lambda x: x.mean(dim=(1, 2)))


def bn_cases():
    """Keras: moving = moving * momentum + batch * (1 - momentum), with the biased batch
    variance for both normalization and the moving-variance update. PyTorch uses the
    same normalization but the unbiased variance for running_var, so the expected
    moving variance is computed here from the biased variance; the expected moving
    mean is PyTorch's running_mean (momentum_torch = 1 - momentum_keras)."""
    momentum, eps = 0.9, 1e-3
    for name, xs, axis in [('batch_normalization_train_2d', (6, 4), -1),
                           ('batch_normalization_train_nhwc', (2, 3, 3, 4), -1),
                           ('batch_normalization_train_axis1', (3, 4, 2, 2), 1)]:
        c = xs[axis]
        x = rnd(xs, 500 + len(xs) + axis, -2, 3)
        gamma, beta = rnd((c,), 510, 0.5, 1.5), rnd((c,), 511, -0.5, 0.5)
        mm, mv = rnd((c,), 512, -0.2, 0.2), rnd((c,), 513, 0.5, 1.5)
        to_torch = (lambda t: t.movedim(-1, 1)) if axis == -1 else (lambda t: t)
        from_torch = (lambda t: t.movedim(1, -1)) if axis == -1 else (lambda t: t)
        running = {}

        def forward(x, gamma, beta, mm_, mv_):
            rm, rv = mm_.detach().clone(), mv_.detach().clone()
            y = F.batch_norm(to_torch(x), rm, rv, gamma, beta, training=True, momentum=1 - momentum, eps=eps)
            running['mean'] = rm
            return from_torch(y)

        def after(x, weights):
            xt = to_torch(x.detach())
            dims = [d for d in range(xt.dim()) if d != 1]
            biased = xt.var(dim=dims, unbiased=False)
            return {'weightsAfter': [enc(weights[0]), enc(weights[1]), enc(running['mean']),
                                     enc(mv * momentum + biased * (1 - momentum))]}

        config = {'axis': axis, 'momentum': momentum, 'epsilon': eps}
        write(name, {'className': 'BatchNormalization', 'config': config}, x,
              [(gamma, True), (beta, True), (mm, False), (mv, False)], forward, training=True, extra=after)

    x = rnd((2, 3, 3, 4), 520, -2, 3)
    gamma, beta = rnd((4,), 521, 0.5, 1.5), rnd((4,), 522, -0.5, 0.5)
    mm, mv = rnd((4,), 523, -0.5, 0.5), rnd((4,), 524, 0.5, 1.5)

    def infer(x, gamma, beta, mm_, mv_):
        return F.batch_norm(x.movedim(-1, 1), mm_, mv_, gamma, beta, training=False, eps=eps).movedim(1, -1)

    write('batch_normalization_inference', {'className': 'BatchNormalization', 'config': {'momentum': momentum, 'epsilon': eps}},
          x, [(gamma, True), (beta, True), (mm, False), (mv, False)], infer)


def embedding_cases():
    idx = torch.tensor([[1, 4, 4, 0], [6, 2, 1, 1]], dtype=torch.float64)
    table = rnd((7, 3), 600)
    write('embedding', {'className': 'Embedding', 'config': {'inputDim': 7, 'outputDim': 3}}, idx, [(table, True)],
          lambda x, t: F.embedding(x.long(), t), input_grad=False)


ACTIVATIONS = {
    'relu': F.relu,
    'relu6': F.relu6,
    'sigmoid': torch.sigmoid,
    'tanh': torch.tanh,
    'softmax': lambda x: F.softmax(x, dim=-1),
    'logSoftmax': lambda x: F.log_softmax(x, dim=-1),
    'linear': lambda x: x,
    'elu': F.elu,
    'selu': F.selu,
    'softplus': F.softplus,
    'softsign': F.softsign,
    'gelu': lambda x: F.gelu(x),  # exact (erf), as Keras' gelu(approximate=False)
    'swish': F.silu,
    'leakyRelu': lambda x: F.leaky_relu(x, 0.2),
}


def activation_cases():
    for i, (name, fn) in enumerate(ACTIVATIONS.items()):
        x = rnd((3, 7), 700 + i, -4, 7 if name == 'relu6' else 4, gap=0.05)
        if name == 'relu6':
            x = torch.where((x - 6).abs() < 0.05, x + 0.1, x)
        write(f'activation_{name}', {'className': 'Activation', 'config': {'activation': name}}, x, [], fn)


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    dense_cases()
    conv_cases()
    pool_cases()
    bn_cases()
    embedding_cases()
    activation_cases()
