#!/usr/bin/env python3
"""Reference values for the merge layers of @axon/layers, computed by PyTorch
(run: /usr/bin/python3 scripts/make-fixtures-merge.py). Each case has several inputs, so the cases
go to one file, test/merge-fixtures.json, read by test/merge.test.ts (not to test/fixtures/, whose
files have one input each): the inputs, the layer's output, and the gradients of
sum(output * projection) with respect to every input. Shapes are Keras' (batch first); the
element-wise layers broadcast as Keras 2 does (lower-rank inputs get size-1 axes after the batch axis).
"""
import importlib.util
import json
import os

import torch
import torch.nn.functional as F

_spec = importlib.util.spec_from_file_location('make_fixtures', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'make-fixtures.py'))
mf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mf)
rnd, distinct, enc = mf.rnd, mf.distinct, mf.enc

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'merge-fixtures.json')


def lift(xs):
    rank = max(x.dim() for x in xs)
    out = []
    for x in xs:
        while x.dim() < rank:
            x = x.unsqueeze(1)
        out.append(x)
    return out


def fold(fn):
    def run(*xs):
        xs = lift(list(xs))
        y = xs[0]
        for x in xs[1:]:
            y = fn(y, x)
        return y
    return run


def dot(axes, normalize=False):
    def run(x, y):
        a1, a2 = (axes, axes) if isinstance(axes, int) else axes
        a1, a2 = a1 % x.dim(), a2 % y.dim()
        if normalize:
            x, y = F.normalize(x, dim=a1, eps=1e-12), F.normalize(y, dim=a2, eps=1e-12)
        x = x.movedim(a1, -1)
        y = y.movedim(a2, 1)
        xr, yr = x.shape[1:-1], y.shape[2:]
        out = torch.bmm(x.reshape(x.shape[0], -1, x.shape[-1]), y.reshape(y.shape[0], y.shape[1], -1))
        out = out.reshape(x.shape[0], *xr, *yr)
        return out.unsqueeze(1) if out.dim() == 1 else out
    return run


def case(name, layer, shapes, forward, seed, values=rnd):
    xs = [values(s, seed + i).clone().requires_grad_(True) for i, s in enumerate(shapes)]
    y = forward(*xs)
    proj = rnd(tuple(y.shape), seed=len(name) * 7919 + 17, lo=0.5, hi=1.5)
    (y * proj).sum().backward()
    print(f'{name}: output {list(y.shape)}')
    return {
        'name': name,
        'layer': layer,
        'inputs': [enc(x) for x in xs],
        'output': enc(y),
        'projection': enc(proj),
        'inputGrads': [enc(x.grad) for x in xs],
    }


def main():
    cases = [
        case('add_3', {'className': 'Add', 'config': {}}, [(3, 4)] * 3, fold(torch.add), 1),
        case('add_broadcast', {'className': 'Add', 'config': {}}, [(2, 1, 3), (2, 4, 1)], fold(torch.add), 4),
        case('add_lower_rank', {'className': 'Add', 'config': {}}, [(2, 3), (2, 4, 3)], fold(torch.add), 6),
        case('subtract', {'className': 'Subtract', 'config': {}}, [(3, 2, 2)] * 2, fold(torch.sub), 8),
        case('multiply_3', {'className': 'Multiply', 'config': {}}, [(2, 5), (2, 1), (2, 5)], fold(torch.mul), 10),
        case('average_3', {'className': 'Average', 'config': {}}, [(2, 3, 2)] * 3, lambda *xs: fold(torch.add)(*xs) / len(xs), 13),
        case('maximum_3', {'className': 'Maximum', 'config': {}}, [(2, 6)] * 3, fold(torch.maximum), 16),
        case('minimum', {'className': 'Minimum', 'config': {}}, [(3, 4)] * 2, fold(torch.minimum), 19),
        case('concatenate_last', {'className': 'Concatenate', 'config': {}}, [(2, 3, 2), (2, 3, 4), (2, 3, 1)], lambda *xs: torch.cat(xs, -1), 21),
        case('concatenate_axis1', {'className': 'Concatenate', 'config': {'axis': 1}}, [(2, 2, 3), (2, 4, 3)], lambda *xs: torch.cat(xs, 1), 24),
        case('dot_2d', {'className': 'Dot', 'config': {'axes': 1}}, [(4, 5)] * 2, dot(1), 26),
        case('dot_2d_normalize', {'className': 'Dot', 'config': {'axes': -1, 'normalize': True}}, [(4, 5)] * 2, dot(-1, True), 28),
        case('dot_3d_matmul', {'className': 'Dot', 'config': {'axes': [2, 1]}}, [(2, 3, 4), (2, 4, 5)], dot([2, 1]), 30),
        case('dot_3d_axes1', {'className': 'Dot', 'config': {'axes': 1}}, [(2, 4, 3), (2, 4, 2)], dot(1), 32),
        case('dot_3d_axes2', {'className': 'Dot', 'config': {'axes': 2}}, [(2, 3, 4), (2, 2, 4)], dot(2), 34),
        case('dot_3d_2d', {'className': 'Dot', 'config': {'axes': [2, 1]}}, [(2, 3, 4), (2, 4)], dot([2, 1]), 36),
        case('dot_2d_3d_normalize', {'className': 'Dot', 'config': {'axes': [1, 1], 'normalize': True}}, [(2, 4), (2, 4, 3)], dot([1, 1], True), 38),
    ]
    with open(OUT, 'w') as f:
        json.dump(cases, f, separators=(',', ':'))
    print(f'{OUT}: {os.path.getsize(OUT)} bytes')


if __name__ == '__main__':
    main()
