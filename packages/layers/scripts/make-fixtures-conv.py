#!/usr/bin/env python3
"""Reference values for the convolution layers beyond Conv2D (run: /usr/bin/python3 scripts/make-fixtures-conv.py).

Conv1D, grouped Conv2D, DepthwiseConv2D, SeparableConv1D/2D and Conv2DTranspose, computed by
PyTorch in float64 with make-fixtures.py's helpers (same fixture format: config, input, weights in
Keras layout and order, output, gradients). TensorFlow's 'same' padding is applied with an explicit
F.pad (odd cell after); 'causal' pads (kernelSize - 1) * dilation steps on the left.
"""
import importlib.util
import os

import torch
import torch.nn.functional as F

_spec = importlib.util.spec_from_file_location(
    'make_fixtures', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'make-fixtures.py'))
mf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mf)
rnd, write, tf_same_pads = mf.rnd, mf.write, mf.tf_same_pads
nhwc_to_nchw, nchw_to_nhwc, pad_nchw_same = mf.nhwc_to_nchw, mf.nchw_to_nhwc, mf.pad_nchw_same

ACTS = {'linear': lambda t: t, 'tanh': torch.tanh, 'sigmoid': torch.sigmoid}


def conv1d_ref(x, k, b, stride, padding, dilation, groups=1):
    """x [batch, steps, in], k [kernel, in, out] (Keras) → [batch, outSteps, out]."""
    xc = x.permute(0, 2, 1)
    if padding == 'same':
        xc = F.pad(xc, tf_same_pads(xc.shape[2], k.shape[0], stride, dilation))
    elif padding == 'causal':
        xc = F.pad(xc, ((k.shape[0] - 1) * dilation, 0))
    return F.conv1d(xc, k.permute(2, 1, 0), b, stride=stride, dilation=dilation, groups=groups).permute(0, 2, 1)


def conv1d_cases():
    cases = [
        ('conv1d_valid', (2, 7, 3), 3, 4, 1, 'valid', 1, 'linear'),
        ('conv1d_same_stride2', (2, 8, 2), 4, 3, 2, 'same', 1, 'tanh'),
        ('conv1d_causal_dilation2', (2, 9, 3), 3, 2, 1, 'causal', 2, 'sigmoid'),
        ('conv1d_causal_stride2', (1, 7, 2), 2, 3, 2, 'causal', 1, 'linear'),
        ('conv1d_same_dilation3', (2, 8, 2), 2, 2, 1, 'same', 3, 'linear'),
        ('conv1d_groups2_causal', (2, 7, 4), 3, 6, 1, 'causal', 1, 'tanh', 2),
        ('conv1d_groups3_same_stride2', (1, 8, 6), 2, 3, 2, 'same', 1, 'linear', 3),
    ]
    for i, (name, xs, ks, filters, stride, padding, dil, act, *rest) in enumerate(cases):
        groups = rest[0] if rest else 1
        x = rnd(xs, 1000 + i)
        k = rnd((ks, xs[2] // groups, filters), 1100 + i, -0.5, 0.5)
        b = rnd((filters,), 1200 + i, -0.5, 0.5)
        config = {'filters': filters, 'kernelSize': [ks], 'strides': [stride], 'padding': padding,
                  'dilationRate': [dil], 'activation': act}
        if groups != 1:
            config['groups'] = groups
        write(name, {'className': 'Conv1D', 'config': config}, x, [(k, True), (b, True)],
              lambda x, k, b, s=stride, p=padding, d=dil, g=groups, a=ACTS[act]: a(conv1d_ref(x, k, b, s, p, d, g)))


def conv2d_ref(x, w, b, strides, padding, dilation=(1, 1), groups=1):
    """x NHWC, w in PyTorch layout [out, in/groups, kh, kw] → NHWC."""
    xc = nhwc_to_nchw(x)
    if padding == 'same':
        xc = pad_nchw_same(xc, w.shape[2:], strides, dilation)
    return nchw_to_nhwc(F.conv2d(xc, w, b, stride=strides, dilation=dilation, groups=groups))


def groups_cases():
    cases = [
        ('conv2d_groups2_same', (2, 5, 6, 4), (3, 3), 6, 2, (1, 1), 'same', 'linear'),
        ('conv2d_groups3_valid_stride2', (1, 7, 7, 6), (2, 3), 3, 3, (2, 2), 'valid', 'tanh'),
    ]
    for i, (name, xs, ks, filters, groups, strides, padding, act) in enumerate(cases):
        x = rnd(xs, 1300 + i)
        k = rnd((*ks, xs[3] // groups, filters), 1310 + i, -0.5, 0.5)
        b = rnd((filters,), 1320 + i, -0.5, 0.5)
        config = {'filters': filters, 'kernelSize': list(ks), 'strides': list(strides), 'padding': padding,
                  'groups': groups, 'activation': act}
        write(name, {'className': 'Conv2D', 'config': config}, x, [(k, True), (b, True)],
              lambda x, k, b, s=strides, p=padding, g=groups, a=ACTS[act]: a(conv2d_ref(x, k.permute(3, 2, 0, 1), b, s, p, groups=g)))


def depthwise_ref(x, dk, strides, padding, dilation):
    """dk [kh, kw, in, m] (Keras) as a grouped conv: output channel c * m + j."""
    kh, kw, c, m = dk.shape
    w = dk.reshape(kh, kw, 1, c * m).permute(3, 2, 0, 1)
    return conv2d_ref(x, w, None, strides, padding, dilation, groups=c)


def depthwise_cases():
    cases = [
        ('depthwise_conv2d_valid', (2, 5, 6, 3), (3, 2), 2, (1, 1), 'valid', (1, 1), 'linear', True),
        ('depthwise_conv2d_same_stride2', (1, 7, 6, 2), (3, 3), 1, (2, 2), 'same', (1, 1), 'tanh', True),
        ('depthwise_conv2d_dilation2_nobias', (1, 7, 7, 3), (3, 3), 2, (1, 1), 'same', (2, 2), 'linear', False),
    ]
    for i, (name, xs, ks, mult, strides, padding, dil, act, bias) in enumerate(cases):
        x = rnd(xs, 1400 + i)
        dk = rnd((*ks, xs[3], mult), 1410 + i, -0.5, 0.5)
        config = {'kernelSize': list(ks), 'depthMultiplier': mult, 'strides': list(strides), 'padding': padding,
                  'dilationRate': list(dil), 'activation': act, 'useBias': bias}
        weights = [(dk, True)]
        if bias:
            weights.append((rnd((xs[3] * mult,), 1420 + i, -0.5, 0.5), True))

        def forward(x, dk, b=None, s=strides, p=padding, d=dil, a=ACTS[act]):
            y = depthwise_ref(x, dk, s, p, d)
            return a(y + b if b is not None else y)
        write(name, {'className': 'DepthwiseConv2D', 'config': config}, x, weights, forward)


def separable2d_cases():
    cases = [
        ('separable_conv2d_same', (2, 6, 5, 3), (3, 3), 2, 4, (1, 1), 'same', (1, 1), 'linear'),
        ('separable_conv2d_valid_stride2', (1, 7, 7, 2), (2, 3), 1, 3, (2, 2), 'valid', (1, 1), 'tanh'),
        ('separable_conv2d_dilation2', (1, 7, 6, 2), (2, 2), 3, 2, (1, 1), 'valid', (2, 2), 'sigmoid'),
    ]
    for i, (name, xs, ks, mult, filters, strides, padding, dil, act) in enumerate(cases):
        x = rnd(xs, 1500 + i)
        dk = rnd((*ks, xs[3], mult), 1510 + i, -0.5, 0.5)
        pk = rnd((1, 1, xs[3] * mult, filters), 1520 + i, -0.5, 0.5)
        b = rnd((filters,), 1530 + i, -0.5, 0.5)
        config = {'filters': filters, 'kernelSize': list(ks), 'depthMultiplier': mult, 'strides': list(strides),
                  'padding': padding, 'dilationRate': list(dil), 'activation': act}

        def forward(x, dk, pk, b, s=strides, p=padding, d=dil, a=ACTS[act]):
            y = depthwise_ref(x, dk, s, p, d)
            return a(conv2d_ref(y, pk.permute(3, 2, 0, 1), b, (1, 1), 'valid'))
        write(name, {'className': 'SeparableConv2D', 'config': config}, x, [(dk, True), (pk, True), (b, True)], forward)


def separable1d_cases():
    cases = [
        ('separable_conv1d_causal', (2, 8, 3), 3, 2, 4, 1, 'causal', 1, 'linear'),
        ('separable_conv1d_same_stride2', (2, 9, 2), 4, 1, 3, 2, 'same', 1, 'tanh'),
    ]
    for i, (name, xs, ks, mult, filters, stride, padding, dil, act) in enumerate(cases):
        x = rnd(xs, 1600 + i)
        dk = rnd((ks, xs[2], mult), 1610 + i, -0.5, 0.5)
        pk = rnd((1, xs[2] * mult, filters), 1620 + i, -0.5, 0.5)
        b = rnd((filters,), 1630 + i, -0.5, 0.5)
        config = {'filters': filters, 'kernelSize': [ks], 'depthMultiplier': mult, 'strides': [stride],
                  'padding': padding, 'dilationRate': [dil], 'activation': act}

        def forward(x, dk, pk, b, s=stride, p=padding, d=dil, a=ACTS[act]):
            k, c, m = dk.shape
            xc = x.permute(0, 2, 1)
            if p == 'same':
                xc = F.pad(xc, tf_same_pads(xc.shape[2], k, s, d))
            elif p == 'causal':
                xc = F.pad(xc, ((k - 1) * d, 0))
            y = F.conv1d(xc, dk.reshape(k, 1, c * m).permute(2, 1, 0), None, stride=s, dilation=d, groups=c)
            y = F.conv1d(y, pk.permute(2, 1, 0), b)
            return a(y.permute(0, 2, 1))
        write(name, {'className': 'SeparableConv1D', 'config': config}, x, [(dk, True), (pk, True), (b, True)], forward)


def transpose_ref(x, k, b, strides, padding, output_padding=None):
    """TensorFlow's conv2d_transpose: x NHWC, k [kh, kw, out, in] (Keras) → NHWC of in * stride
    ('same') or in * stride + max(kernel - stride, 0) ('valid'); with output_padding, Keras'
    (in - 1) * stride + kernel - 2 * pad + output_padding (pad = kernel // 2 for 'same'). The output
    window starts at TensorFlow's pad_before = max((in - 1) * stride + kernel - out, 0) // 2 ('same')."""
    xc = nhwc_to_nchw(x)
    full = F.conv_transpose2d(xc, k.permute(3, 2, 0, 1), None, stride=strides)
    h, w = xc.shape[2], xc.shape[3]
    (kh, kw), (sh, sw) = k.shape[:2], strides
    if output_padding is not None:
        (oph, opw), same = output_padding, padding == 'same'
        out_h = (h - 1) * sh + kh - 2 * (kh // 2 if same else 0) + oph
        out_w = (w - 1) * sw + kw - 2 * (kw // 2 if same else 0) + opw
    elif padding == 'same':
        out_h, out_w = h * sh, w * sw
    else:
        out_h, out_w = h * sh + max(kh - sh, 0), w * sw + max(kw - sw, 0)
    if padding == 'same':
        top, left = max((h - 1) * sh + kh - out_h, 0) // 2, max((w - 1) * sw + kw - out_w, 0) // 2
    else:
        top, left = 0, 0
    full = F.pad(full, (0, max(left + out_w - full.shape[3], 0), 0, max(top + out_h - full.shape[2], 0)))
    y = full[:, :, top:top + out_h, left:left + out_w] + b.reshape(1, -1, 1, 1)
    return nchw_to_nhwc(y)


def transpose_cases():
    cases = [
        ('conv2d_transpose_valid', (2, 3, 4, 3), (3, 3), 2, (1, 1), 'valid', 'linear'),
        ('conv2d_transpose_same_stride2', (2, 3, 3, 2), (3, 3), 3, (2, 2), 'same', 'linear'),
        ('conv2d_transpose_valid_stride2', (1, 3, 4, 2), (2, 3), 2, (2, 2), 'valid', 'tanh'),
        ('conv2d_transpose_same_k4_stride2', (1, 4, 3, 2), (4, 4), 2, (2, 2), 'same', 'sigmoid'),
        ('conv2d_transpose_kernel_below_stride', (1, 3, 2, 2), (2, 2), 2, (3, 3), 'valid', 'linear'),
        ('conv2d_transpose_same_kernel_below_stride', (1, 2, 3, 2), (2, 1), 2, (3, 2), 'same', 'linear'),
        ('conv2d_transpose_valid_output_padding', (1, 3, 2, 2), (3, 3), 2, (2, 2), 'valid', 'linear', (1, 1)),
        ('conv2d_transpose_same_output_padding', (2, 3, 3, 2), (3, 4), 2, (2, 2), 'same', 'tanh', (1, 1)),
        ('conv2d_transpose_valid_output_padding_cut', (1, 3, 3, 2), (2, 2), 2, (3, 3), 'valid', 'linear', (0, 1)),
    ]
    for i, (name, xs, ks, filters, strides, padding, act, *rest) in enumerate(cases):
        op = rest[0] if rest else None
        x = rnd(xs, 1700 + i)
        k = rnd((*ks, filters, xs[3]), 1710 + i, -0.5, 0.5)
        b = rnd((filters,), 1720 + i, -0.5, 0.5)
        config = {'filters': filters, 'kernelSize': list(ks), 'strides': list(strides), 'padding': padding, 'activation': act}
        if op is not None:
            config['outputPadding'] = list(op)
        write(name, {'className': 'Conv2DTranspose', 'config': config}, x, [(k, True), (b, True)],
              lambda x, k, b, s=strides, p=padding, a=ACTS[act], o=op: a(transpose_ref(x, k, b, s, p, o)))


if __name__ == '__main__':
    os.makedirs(mf.OUT, exist_ok=True)
    conv1d_cases()
    groups_cases()
    depthwise_cases()
    separable2d_cases()
    separable1d_cases()
    transpose_cases()
