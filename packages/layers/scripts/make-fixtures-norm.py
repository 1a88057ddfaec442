#!/usr/bin/env python3
"""Reference values for LayerNormalization, the activation layers (ReLU, LeakyReLU, PReLU, ELU,
Softmax) and the noise layers (inference: the identity), computed by PyTorch in float64.
Run: /usr/bin/python3 scripts/make-fixtures-norm.py. Uses make-fixtures.py's helpers (rnd, write).
Keras formulas are written out here where PyTorch has no equal (ReLU's threshold, layer
normalization over arbitrary axes with Keras' biased variance)."""
import importlib.util
import os

import torch
import torch.nn.functional as F

_spec = importlib.util.spec_from_file_location(
    'make_fixtures', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'make-fixtures.py'))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)
rnd, write = base.rnd, base.write
torch.set_default_dtype(torch.float64)


def layer_norm_cases():
    cases = [
        # name, input shape, axis, center, scale
        ('layer_normalization_last', (4, 6), -1, True, True),
        ('layer_normalization_rank3', (2, 3, 5), -1, True, True),
        ('layer_normalization_axes12', (2, 3, 4), [1, 2], True, True),
        ('layer_normalization_nhwc_axis1', (2, 3, 2, 2), 1, True, True),
        ('layer_normalization_no_center', (3, 5), -1, False, True),
        ('layer_normalization_no_scale_eps', (3, 5), -1, True, False),
    ]
    for i, (name, xs, axis, center, scale) in enumerate(cases):
        eps = 0.1 if name.endswith('_eps') else 1e-3
        x = rnd(xs, 900 + i, -2, 3)
        axes = [a % len(xs) for a in (axis if isinstance(axis, list) else [axis])]
        pshape = tuple(xs[a] for a in axes)
        bshape = [xs[d] if d in axes else 1 for d in range(len(xs))]
        weights = []
        if scale:
            weights.append((rnd(pshape, 910 + i, 0.5, 1.5), True))
        if center:
            weights.append((rnd(pshape, 920 + i, -0.5, 0.5), True))

        def forward(x, *ws, axes=axes, bshape=bshape, center=center, scale=scale, eps=eps):
            mean = x.mean(dim=axes, keepdim=True)
            var = ((x - mean) ** 2).mean(dim=axes, keepdim=True)
            y = (x - mean) / torch.sqrt(var + eps)
            k = 0
            if scale:
                y = y * ws[k].reshape(bshape)
                k += 1
            if center:
                y = y + ws[k].reshape(bshape)
            return y

        config = {'axis': axis, 'epsilon': eps, 'center': center, 'scale': scale}
        write(name, {'className': 'LayerNormalization', 'config': config}, x, weights, forward)


def keras_relu(x, max_value=None, negative_slope=0.0, threshold=0.0):
    """keras.backend.relu."""
    if negative_slope != 0 and max_value is None and threshold == 0:
        return F.leaky_relu(x, negative_slope)
    neg = F.relu(threshold - x) if negative_slope != 0 else None
    y = x * (x > threshold).to(x.dtype) if threshold != 0 else F.relu(x)
    if max_value is not None:
        y = torch.clamp(y, 0.0, max_value)
    if neg is not None:
        y = y - negative_slope * neg
    return y


def away(x, points, gap=0.05):
    """Moves values within gap of a kink outward, so finite differences do not straddle it."""
    for p in points:
        x = torch.where((x - p).abs() < gap, p + torch.sign(x - p + 1e-12) * (gap + (x - p).abs()), x)
    return x


def activation_layer_cases():
    relus = [
        ('re_lu', {}, {}),
        ('re_lu_max_value', {'maxValue': 2.5}, {'max_value': 2.5}),
        ('re_lu_slope_threshold_max', {'maxValue': 2.0, 'negativeSlope': 0.1, 'threshold': 0.5},
         {'max_value': 2.0, 'negative_slope': 0.1, 'threshold': 0.5}),
        ('re_lu_threshold', {'threshold': 1.0}, {'threshold': 1.0}),
        ('re_lu_slope', {'negativeSlope': 0.2}, {'negative_slope': 0.2}),
    ]
    for i, (name, config, kw) in enumerate(relus):
        x = away(rnd((3, 8), 1000 + i, -4, 4), [0.0, kw.get('threshold', 0.0), kw.get('max_value', 1e9)])
        write(name, {'className': 'ReLU', 'config': config}, x, [], lambda x, kw=kw: keras_relu(x, **kw))

    for i, (name, config, alpha) in enumerate([('leaky_re_lu', {}, 0.3), ('leaky_re_lu_alpha', {'alpha': 0.05}, 0.05)]):
        x = rnd((3, 7), 1010 + i, -3, 3, gap=0.05)
        write(name, {'className': 'LeakyReLU', 'config': config}, x, [], lambda x, a=alpha: F.leaky_relu(x, a))

    x = rnd((4, 5), 1020, -3, 3, gap=0.05)
    write('p_re_lu', {'className': 'PReLU', 'config': {}}, x, [(rnd((5,), 1021, -0.5, 0.8), True)],
          lambda x, a: F.relu(x) - a * F.relu(-x))
    x = rnd((2, 3, 4, 2), 1022, -3, 3, gap=0.05)
    write('p_re_lu_shared_axes', {'className': 'PReLU', 'config': {'sharedAxes': [1, 2]}}, x,
          [(rnd((1, 1, 2), 1023, -0.5, 0.8), True)], lambda x, a: F.relu(x) - a * F.relu(-x))

    for i, (name, config, alpha) in enumerate([('elu', {}, 1.0), ('elu_alpha', {'alpha': 0.5}, 0.5)]):
        x = rnd((3, 7), 1030 + i, -3, 3, gap=0.05)
        write(name, {'className': 'ELU', 'config': config}, x, [], lambda x, a=alpha: F.elu(x, a))

    x = rnd((2, 3, 5), 1040, -3, 3)
    write('softmax', {'className': 'Softmax', 'config': {}}, x, [], lambda x: F.softmax(x, dim=-1))
    write('softmax_axis1', {'className': 'Softmax', 'config': {'axis': 1}}, x, [], lambda x: F.softmax(x, dim=1))


def noise_inference_cases():
    """Outside training the noise layers are the identity (gradient 1)."""
    cases = [
        ('spatial_dropout1d_inference', 'SpatialDropout1D', {'rate': 0.5}, (2, 3, 4)),
        ('spatial_dropout2d_inference', 'SpatialDropout2D', {'rate': 0.5}, (2, 3, 3, 2)),
        ('gaussian_noise_inference', 'GaussianNoise', {'stddev': 0.7}, (3, 4)),
        ('gaussian_dropout_inference', 'GaussianDropout', {'rate': 0.4}, (3, 4)),
        ('alpha_dropout_inference', 'AlphaDropout', {'rate': 0.3}, (3, 4)),
    ]
    for i, (name, cls, config, xs) in enumerate(cases):
        write(name, {'className': cls, 'config': config}, rnd(xs, 1100 + i, -2, 2), [], lambda x: x * 1.0)


if __name__ == '__main__':
    os.makedirs(base.OUT, exist_ok=True)
    layer_norm_cases()
    activation_layer_cases()
    noise_inference_cases()
