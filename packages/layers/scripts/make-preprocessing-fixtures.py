#!/usr/bin/env python3
"""Reference values for the preprocessing and augmentation layers of @axon/layers
(run: /usr/bin/python3 scripts/make-preprocessing-fixtures.py; writes test/preprocessing-fixtures.json).

TensorFlow is not installed here, so each reference comes from PyTorch with settings that equal
TensorFlow's conventions (which Keras uses), or from a small independent re-implementation
checked against PyTorch where PyTorch has the same operation:

- Resizing (tf.image.resize, antialias off): TF's bilinear uses half-pixel centers, i.e.
  source = (i + 0.5) * in / out - 0.5 clamped at the edges = F.interpolate(mode='bilinear',
  align_corners=False, antialias=False); TF's nearest with half-pixel centers takes
  floor((i + 0.5) * in / out) = F.interpolate(mode='nearest-exact').
  cropToAspectRatio / CenterCrop on a small image / RandomCrop at inference crop Keras'
  centered window (int truncations as in keras.src.utils.image_utils.smart_resize) first.
- Rotation, translation, zoom (tf.raw_ops.ImageProjectiveTransformV3): output pixel (x, y) reads
  the input at the transformed point in pixel indices. With F.grid_sample:
    constant: align_corners=True maps pixel index p to 2p/(len-1) - 1; padding 'zeros' reads 0
      for neighbours outside, as TF reads fill_value, so TF = grid_sample(x - fill) + fill
      (the bilinear weights sum to 1);
    nearest: padding 'border' (align_corners=True) clamps the point to [0, len-1] as TF does;
    reflect: TF reflects about the outer pixel edges (d c b a | a b c d) then clamps, which is
      padding 'reflection' with align_corners=False (pixel p at (2p+1)/len - 1).
  'wrap' has no grid_sample mode: integer shifts are checked against torch.roll, and other
  transforms use `tf_projective_transform` below, a loop transcription of TF's kernel
  (image_ops.h) that is asserted here to agree with grid_sample / roll on every case those cover.
  Nearest interpolation: TF rounds half away from zero, grid_sample half to even; the cases
  avoid exact halves.
- Normalization.adapt: the population mean and variance (unbiased=False) of all the batches
  concatenated, over every axis but the kept ones — what Keras' adapt computes batch by batch.
- Contrast (tf.image.adjust_contrast, then the clip Keras adds): (x - mean_hw) * f + mean_hw.
- Brightness: x + f * (high - low), clipped.
- Flips: torch.flip.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'preprocessing-fixtures.json')


def rnd(shape, seed, lo=0.0, hi=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g, dtype=torch.float32) * (hi - lo) + lo).to(torch.float64)


def enc(t):
    t = t.detach().to(torch.float64).contiguous()
    return {'shape': list(t.shape), 'values': [float(f'{v:.9g}') for v in t.reshape(-1).tolist()]}


def nchw(x):
    return x.permute(0, 3, 1, 2)


def nhwc(x):
    return x.permute(0, 2, 3, 1)


# ---- the projective transform ------------------------------------------------------------------

def rotation(angle, h, w):
    """Keras' RandomRotation matrix (keras/src/layers/preprocessing/image_preprocessing/random_rotation.py)."""
    c, s = math.cos(angle), math.sin(angle)
    x_off = ((w - 1) - (c * (w - 1) - s * (h - 1))) / 2
    y_off = ((h - 1) - (s * (w - 1) + c * (h - 1))) / 2
    return [c, -s, x_off, s, c, y_off, 0.0, 0.0]


def translation(dx, dy):
    """Keras' RandomTranslation matrix: [[1, 0, -dx], [0, 1, -dy]]."""
    return [1.0, 0.0, -dx, 0.0, 1.0, -dy, 0.0, 0.0]


def zoom(zx, zy, h, w):
    """Keras' RandomZoom matrix."""
    return [zx, 0.0, (w - 1) / 2 * (1 - zx), 0.0, zy, (h - 1) / 2 * (1 - zy), 0.0, 0.0]


def grid_sample_transform(x, t, interpolation, fill_mode, fill_value):
    """x NHWC; the affine t (c0 = c1 = 0) for every image; TF semantics via grid_sample (see the docstring)."""
    b, h, w, _ = x.shape
    oy, ox = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing='ij')
    px = t[0] * ox + t[1] * oy + t[2]
    py = t[3] * ox + t[4] * oy + t[5]
    if fill_mode == 'reflect':
        gx, gy, align, padding = (2 * px + 1) / w - 1, (2 * py + 1) / h - 1, False, 'reflection'
    else:
        gx, gy, align = 2 * px / (w - 1) - 1, 2 * py / (h - 1) - 1, True
        padding = 'zeros' if fill_mode == 'constant' else 'border'
    grid = torch.stack([gx, gy], dim=-1).unsqueeze(0).expand(b, h, w, 2)
    shift = fill_value if fill_mode == 'constant' else 0.0
    y = F.grid_sample(nchw(x) - shift, grid, mode=interpolation, padding_mode=padding, align_corners=align)
    return nhwc(y) + shift


def tf_map_coordinate(c, length, mode):
    """TF's MapCoordinate (tensorflow/core/kernels/image/image_ops.h), transcribed."""
    if mode == 'constant':
        return c
    if mode == 'reflect':
        if c < 0:
            if length <= 1:
                c = 0.0
            else:
                sz2 = 2 * length
                if c < sz2:
                    c = sz2 * int(-c / sz2) + c
                c = c + sz2 if c < -length else -c - 1
        elif c > length - 1:
            if length <= 1:
                c = 0.0
            else:
                sz2 = 2 * length
                c -= sz2 * int(c / sz2)
                if c >= length:
                    c = sz2 - c - 1
    elif mode == 'wrap':
        if c < 0:
            c = 0.0 if length <= 1 else c + length * (int(-c / (length - 1)) + 1)
        elif c > length - 1:
            c = 0.0 if length <= 1 else c - length * int(c / (length - 1))
    return min(max(c, 0.0), length - 1.0)


def tf_projective_transform(x, t, interpolation, fill_mode, fill_value):
    """TF's ProjectiveGenerator (image_ops.h), transcribed as a loop; x NHWC, one transform for all images."""
    b, h, w, ch = x.shape
    out = torch.empty_like(x)

    def read(n, yy, xx, c):
        return x[n, yy, xx, c].item() if 0 <= yy < h and 0 <= xx < w else fill_value

    def round_half_away(v):
        return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)

    for n in range(b):
        for oy in range(h):
            for ox in range(w):
                k = t[6] * ox + t[7] * oy + 1
                px = tf_map_coordinate((t[0] * ox + t[1] * oy + t[2]) / k, w, fill_mode)
                py = tf_map_coordinate((t[3] * ox + t[4] * oy + t[5]) / k, h, fill_mode)
                for c in range(ch):
                    if interpolation == 'nearest':
                        out[n, oy, ox, c] = read(n, round_half_away(py), round_half_away(px), c)
                        continue
                    y0, x0 = math.floor(py), math.floor(px)
                    top = (x0 + 1 - px) * read(n, y0, x0, c) + (px - x0) * read(n, y0, x0 + 1, c)
                    bottom = (x0 + 1 - px) * read(n, y0 + 1, x0, c) + (px - x0) * read(n, y0 + 1, x0 + 1, c)
                    out[n, oy, ox, c] = (y0 + 1 - py) * top + (py - y0) * bottom
    return out


def transform_reference(x, t, interpolation, fill_mode, fill_value, roll=None):
    """The reference for one case; the transcription must agree with PyTorch wherever PyTorch has the mode."""
    loop = tf_projective_transform(x, t, interpolation, fill_mode, fill_value)
    if fill_mode != 'wrap':
        torch_ref = grid_sample_transform(x, t, interpolation, fill_mode, fill_value)
        assert torch.allclose(loop, torch_ref, atol=1e-9), f'grid_sample disagrees: {fill_mode} {interpolation}'
        return torch_ref
    if roll is not None:
        torch_ref = torch.roll(x, shifts=roll, dims=(1, 2))
        assert torch.allclose(loop, torch_ref, atol=1e-9), 'torch.roll disagrees with the wrap transcription'
        return torch_ref
    return loop


def resize(x, h, w, interpolation):
    mode = 'bilinear' if interpolation == 'bilinear' else 'nearest-exact'
    kwargs = {'align_corners': False, 'antialias': False} if mode == 'bilinear' else {}
    return nhwc(F.interpolate(nchw(x), size=(h, w), mode=mode, **kwargs))


def smart_resize(x, h, w):
    """keras.src.utils.image_utils.smart_resize: the centered window of the target aspect ratio, then bilinear."""
    height, width = x.shape[1], x.shape[2]
    crop_h = max(min(height, int(float(width * h) / w)), 1)
    crop_w = max(min(width, int(float(height * w) / h)), 1)
    top, left = int(float(height - crop_h) / 2), int(float(width - crop_w) / 2)
    return resize(x[:, top:top + crop_h, left:left + crop_w, :], h, w, 'bilinear')


def main():
    layers = []
    transforms = []

    def layer_case(name, class_name, config, x, y, training=False):
        layers.append({'name': name, 'layer': {'className': class_name, 'config': config}, 'training': training,
                       'input': enc(x), 'output': enc(y)})

    pixels = torch.floor(rnd((2, 4, 5, 3), 1, 0, 256))
    layer_case('rescaling', 'Rescaling', {'scale': 1 / 127.5, 'offset': -1}, pixels, pixels * (1 / 127.5) - 1)

    features = rnd((5, 3), 2, -4, 4)
    mean, var = [0.5, -1.0, 2.0], [4.0, 0.25, 9.0]
    layer_case('normalization_fixed', 'Normalization', {'mean': mean, 'variance': var}, features,
               (features - torch.tensor(mean)) / torch.tensor(var).sqrt())
    layer_case('normalization_fixed_invert', 'Normalization', {'mean': mean, 'variance': var, 'invert': True}, features,
               features * torch.tensor(var).sqrt() + torch.tensor(mean))

    # Resizing: up and down, both methods, and cropToAspectRatio.
    img = rnd((2, 4, 5, 2), 3)
    big = rnd((1, 7, 9, 2), 4)
    for interp in ('bilinear', 'nearest'):
        layer_case(f'resizing_up_{interp}', 'Resizing', {'height': 7, 'width': 8, 'interpolation': interp}, img,
                   resize(img, 7, 8, interp))
        layer_case(f'resizing_down_{interp}', 'Resizing', {'height': 3, 'width': 4, 'interpolation': interp}, big,
                   resize(big, 3, 4, interp))
    layer_case('resizing_crop_to_aspect_ratio', 'Resizing', {'height': 4, 'width': 4, 'cropToAspectRatio': True}, big,
               smart_resize(big, 4, 4))

    # CenterCrop: a crop, and the resize Keras falls back to for a smaller image.
    layer_case('center_crop', 'CenterCrop', {'height': 4, 'width': 6}, big, big[:, 1:5, 1:7, :])
    layer_case('center_crop_smaller_input', 'CenterCrop', {'height': 6, 'width': 4}, img, smart_resize(img, 6, 4))
    layer_case('random_crop_inference', 'RandomCrop', {'height': 5, 'width': 5, 'seed': 3}, big, smart_resize(big, 5, 5))

    # The geometric layers at a fixed parameter (factor [a, a] draws exactly a), every fill mode.
    h, w = 5, 6
    x = rnd((2, h, w, 2), 5)
    angle = 0.1 * 2 * math.pi
    for fill_mode in ('reflect', 'wrap', 'constant', 'nearest'):
        for interp in ('bilinear', 'nearest'):
            config = {'factor': [0.1, 0.1], 'fillMode': fill_mode, 'interpolation': interp, 'fillValue': 0.5}
            y = transform_reference(x, rotation(angle, h, w), interp, fill_mode, 0.5)
            layer_case(f'random_rotation_{fill_mode}_{interp}', 'RandomRotation', config, x, y, training=True)
    t = translation(-1.8, 1.0)  # widthFactor -0.3 of 6, heightFactor 0.2 of 5
    for fill_mode in ('reflect', 'constant', 'nearest', 'wrap'):
        config = {'heightFactor': [0.2, 0.2], 'widthFactor': [-0.3, -0.3], 'fillMode': fill_mode, 'fillValue': -1}
        layer_case(f'random_translation_{fill_mode}', 'RandomTranslation', config, x,
                   transform_reference(x, t, 'bilinear', fill_mode, -1.0), training=True)
    square = rnd((1, 5, 5, 2), 6)
    config = {'heightFactor': [-0.4, -0.4], 'widthFactor': [0.2, 0.2], 'fillMode': 'wrap'}
    layer_case('random_translation_wrap_integer', 'RandomTranslation', config, square,
               transform_reference(square, translation(1.0, -2.0), 'bilinear', 'wrap', 0.0, roll=(-2, 1)), training=True)
    for fill_mode, interp in (('constant', 'bilinear'), ('reflect', 'nearest'), ('wrap', 'bilinear'), ('nearest', 'bilinear')):
        config = {'heightFactor': [0.3, 0.3], 'widthFactor': [-0.3, -0.3], 'fillMode': fill_mode, 'interpolation': interp,
                  'fillValue': 0.25}
        layer_case(f'random_zoom_{fill_mode}_{interp}', 'RandomZoom', config, x,
                   transform_reference(x, zoom(0.7, 1.3, h, w), interp, fill_mode, 0.25), training=True)
    config = {'heightFactor': [-0.5, -0.5]}
    layer_case('random_zoom_in_same_aspect', 'RandomZoom', config, x,
               transform_reference(x, zoom(0.5, 0.5, h, w), 'bilinear', 'reflect', 0.0), training=True)

    # Brightness at a fixed shift: 0.1 of [0, 1] up, and down past the bottom of [0, 255].
    layer_case('random_brightness_up', 'RandomBrightness', {'factor': [0.1, 0.1], 'valueRange': [0, 1]}, x,
               torch.clamp(x + 0.1, 0, 1), training=True)
    layer_case('random_brightness_down', 'RandomBrightness', {'factor': [-0.2, -0.2]}, pixels,
               torch.clamp(pixels - 0.2 * 255, 0, 255), training=True)

    # The raw transform with a rotation matrix (for the affineTransform export) and wrap on a rotation.
    for fill_mode in ('wrap', 'reflect'):
        t = rotation(-0.7, h, w)
        transforms.append({'name': f'rotation_-0.7_{fill_mode}', 'transform': t, 'interpolation': 'bilinear',
                           'fillMode': fill_mode, 'fillValue': 0, 'input': enc(x),
                           'output': enc(transform_reference(x, t, 'bilinear', fill_mode, 0.0))})

    # Normalization.adapt over a stream of batches, for three axis settings.
    batches = [rnd((3, 4, 2), 10 + i, -3, 5) for i in range(3)]
    data = torch.cat(batches)
    adapt = []
    for name, axis, reduce in (('last', -1, (0, 1)), ('axes12', [1, 2], (0,)), ('none', None, (0, 1, 2))):
        keep = [d for d in range(3) if d not in reduce]
        m = data.mean(dim=reduce)
        v = data.var(dim=reduce, unbiased=False)
        shape = [1 if d in reduce else data.shape[d] for d in range(3)]
        adapt.append({'name': f'adapt_{name}', 'axis': axis, 'batches': [enc(b) for b in batches],
                      'mean': enc(m), 'variance': enc(v), 'keptShape': [data.shape[d] for d in keep],
                      'output': enc((batches[0] - m.reshape(shape)) / v.reshape(shape).sqrt())})

    # Contrast at given per-image factors; flips.
    factors = [0.6, 1.7]
    means = pixels.mean(dim=(1, 2), keepdim=True)
    contrast = torch.clamp((pixels - means) * torch.tensor(factors).reshape(2, 1, 1, 1) + means, 0, 255)
    flips = {'input': enc(x), 'none': enc(x), 'horizontal': enc(torch.flip(x, dims=[2])), 'vertical': enc(torch.flip(x, dims=[1])),
             'both': enc(torch.flip(x, dims=[1, 2]))}

    fixtures = {
        'layers': layers,
        'transforms': transforms,
        'adapt': adapt,
        'contrast': {'input': enc(pixels), 'factors': factors, 'valueRange': [0, 255], 'output': enc(contrast)},
        'flips': flips,
    }
    with open(OUT, 'w') as f:
        json.dump(fixtures, f, separators=(',', ':'))
    print(f'{len(layers)} layer cases, {len(transforms)} transforms, {len(adapt)} adapt cases: {os.path.getsize(OUT)} bytes')


if __name__ == '__main__':
    main()
