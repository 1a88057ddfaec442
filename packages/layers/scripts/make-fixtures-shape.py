#!/usr/bin/env python3
"""Reference values for the 1-D pooling and the reshaping layers of @axon/layers, computed by PyTorch
(run: /usr/bin/python3 scripts/make-fixtures-shape.py). Same format and helpers as make-fixtures.py:
channels-last, Keras-shaped configs and tensors; TensorFlow's 'same' padding (odd cell after) and
average pooling that never counts padded cells.
"""
import importlib.util
import math
import os

import torch
import torch.nn.functional as F

_spec = importlib.util.spec_from_file_location('make_fixtures', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'make-fixtures.py'))
mf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mf)
rnd, distinct, write, tf_same_pads = mf.rnd, mf.distinct, mf.write, mf.tf_same_pads


def pool1d(x, pool, stride, padding, kind):
    """x [b, steps, c] → [b, out, c]."""
    xc = x.permute(0, 2, 1)
    if padding == 'same':
        lo, hi = tf_same_pads(xc.shape[2], pool, stride)
        if kind == 'max':
            return F.max_pool1d(F.pad(xc, (lo, hi), value=-math.inf), pool, stride).permute(0, 2, 1)
        summed = F.avg_pool1d(F.pad(xc, (lo, hi)), pool, stride) * pool
        counts = F.avg_pool1d(F.pad(torch.ones_like(xc), (lo, hi)), pool, stride) * pool
        return (summed / counts).permute(0, 2, 1)
    fn = F.max_pool1d if kind == 'max' else F.avg_pool1d
    return fn(xc, pool, stride).permute(0, 2, 1)


def pooling1d_cases():
    cases = [
        ('max_pooling1d_default', 'MaxPooling1D', (2, 7, 3), 2, None, 'valid', 'max'),
        ('max_pooling1d_same_3_s2', 'MaxPooling1D', (2, 8, 2), 3, 2, 'same', 'max'),
        ('max_pooling1d_overlap', 'MaxPooling1D', (1, 9, 3), 3, 1, 'valid', 'max'),
        ('average_pooling1d_default', 'AveragePooling1D', (2, 6, 3), 2, None, 'valid', 'avg'),
        ('average_pooling1d_same_3_s2', 'AveragePooling1D', (2, 7, 2), 3, 2, 'same', 'avg'),
        ('average_pooling1d_same_2_s1', 'AveragePooling1D', (1, 5, 2), 2, 1, 'same', 'avg'),
    ]
    for i, (name, cls, xs, pool, stride, padding, kind) in enumerate(cases):
        x = distinct(xs, 1000 + i)
        config = {'poolSize': pool, 'padding': padding}
        if stride is not None:
            config['strides'] = stride
        write(name, {'className': cls, 'config': config}, x, [],
              lambda x, p=pool, s=stride or pool, pad=padding, k=kind: pool1d(x, p, s, pad, k))
    write('global_max_pooling1d', {'className': 'GlobalMaxPooling1D', 'config': {}}, distinct((2, 6, 4), 1010), [],
          lambda x: x.amax(dim=1))
    write('global_max_pooling1d_keepdims', {'className': 'GlobalMaxPooling1D', 'config': {'keepdims': True}},
          distinct((3, 5, 2), 1011), [], lambda x: x.amax(dim=1, keepdim=True))
    write('global_average_pooling1d', {'className': 'GlobalAveragePooling1D', 'config': {}}, rnd((2, 6, 4), 1012), [],
          lambda x: x.mean(dim=1))
    write('global_average_pooling1d_keepdims', {'className': 'GlobalAveragePooling1D', 'config': {'keepdims': True}},
          rnd((3, 5, 2), 1013), [], lambda x: x.mean(dim=1, keepdim=True))


def reshaping_cases():
    write('up_sampling1d', {'className': 'UpSampling1D', 'config': {'size': 3}}, rnd((2, 4, 3), 1100), [],
          lambda x: x.repeat_interleave(3, dim=1))

    def up2d(x, sh, sw):
        return F.interpolate(x.permute(0, 3, 1, 2), scale_factor=(sh, sw), mode='nearest').permute(0, 2, 3, 1)

    write('up_sampling2d_default', {'className': 'UpSampling2D', 'config': {}}, rnd((2, 3, 4, 2), 1101), [],
          lambda x: up2d(x, 2, 2))
    write('up_sampling2d_2x3', {'className': 'UpSampling2D', 'config': {'size': [2, 3], 'interpolation': 'nearest'}},
          rnd((1, 3, 2, 3), 1102), [], lambda x: up2d(x, 2, 3))
    write('zero_padding1d_default', {'className': 'ZeroPadding1D', 'config': {}}, rnd((2, 4, 3), 1110), [],
          lambda x: F.pad(x, (0, 0, 1, 1)))
    write('zero_padding1d_asym', {'className': 'ZeroPadding1D', 'config': {'padding': [2, 0]}}, rnd((2, 3, 2), 1111), [],
          lambda x: F.pad(x, (0, 0, 2, 0)))
    write('zero_padding2d_int', {'className': 'ZeroPadding2D', 'config': {'padding': 1}}, rnd((2, 3, 3, 2), 1112), [],
          lambda x: F.pad(x, (0, 0, 1, 1, 1, 1)))
    write('zero_padding2d_pair', {'className': 'ZeroPadding2D', 'config': {'padding': [2, 1]}}, rnd((1, 3, 4, 2), 1113), [],
          lambda x: F.pad(x, (0, 0, 1, 1, 2, 2)))
    write('zero_padding2d_pairs', {'className': 'ZeroPadding2D', 'config': {'padding': [[0, 1], [2, 3]]}},
          rnd((2, 2, 3, 2), 1114), [], lambda x: F.pad(x, (0, 0, 2, 3, 0, 1)))
    write('cropping1d_default', {'className': 'Cropping1D', 'config': {}}, rnd((2, 5, 3), 1120), [],
          lambda x: x[:, 1:-1, :])
    write('cropping1d_asym', {'className': 'Cropping1D', 'config': {'cropping': [2, 0]}}, rnd((2, 6, 2), 1121), [],
          lambda x: x[:, 2:, :])
    write('cropping2d_int', {'className': 'Cropping2D', 'config': {'cropping': 1}}, rnd((2, 5, 4, 2), 1122), [],
          lambda x: x[:, 1:-1, 1:-1, :])
    write('cropping2d_pair', {'className': 'Cropping2D', 'config': {'cropping': [2, 1]}}, rnd((1, 6, 5, 2), 1123), [],
          lambda x: x[:, 2:-2, 1:-1, :])
    write('cropping2d_pairs', {'className': 'Cropping2D', 'config': {'cropping': [[0, 2], [1, 0]]}},
          rnd((2, 5, 4, 3), 1124), [], lambda x: x[:, 0:3, 1:, :])
    write('permute_2d', {'className': 'Permute', 'config': {'dims': [2, 1]}}, rnd((2, 3, 4), 1130), [],
          lambda x: x.permute(0, 2, 1))
    write('permute_3d', {'className': 'Permute', 'config': {'dims': [3, 1, 2]}}, rnd((2, 3, 4, 2), 1131), [],
          lambda x: x.permute(0, 3, 1, 2))
    write('repeat_vector', {'className': 'RepeatVector', 'config': {'n': 3}}, rnd((2, 4), 1140), [],
          lambda x: x.unsqueeze(1).expand(2, 3, 4))


if __name__ == '__main__':
    os.makedirs(mf.OUT, exist_ok=True)
    pooling1d_cases()
    reshaping_cases()
