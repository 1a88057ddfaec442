"""Reference Integrated Gradients for @axon/explain's tests, computed with PyTorch.

Writes test/fixtures/integrated-gradients.json: a small conv model's weights (in Axon/Keras layout),
inputs, baselines, classes and the attributions computed here in float64. The tests load the
weights into an Axon model with setWeights and compare. Run from packages/explain:

    /usr/bin/python3 scripts/make-gradient-fixtures.py

The model, NHWC as Axon: conv2d(3 filters, 3x3, valid) -> relu -> flatten (h, w, c order) ->
dense(3) -> softmax. As in Axon's integratedGradients (and as Captum users pass a model without
its softmax), the explained score is the logit before the softmax.

IG is implemented here directly (not with Captum): (x - b) * mean gradient along the straight path,
the integral by the trapezoidal rule over `steps` equal intervals: gradients at alpha = k/steps,
k = 0..steps, weights 1/steps, halved at both ends — the rule Axon uses.
"""

import json
import os

import torch

torch.manual_seed(20261130)
torch.set_default_dtype(torch.float64)

H, W, C_IN, FILTERS, CLASSES, STEPS = 8, 8, 2, 3, 3, 50


def f32(t):
    """Rounds to float32 and back, so Axon (float32) and this reference use the same numbers."""
    return t.float().double()


conv_w = f32(torch.randn(FILTERS, C_IN, 3, 3) * 0.5)  # torch layout [out, in, kh, kw]
conv_b = f32(torch.randn(FILTERS) * 0.1)
dense_w = f32(torch.randn(CLASSES, (H - 2) * (W - 2) * FILTERS) * 0.2)  # torch layout [out, in]
dense_b = f32(torch.randn(CLASSES) * 0.1)


def logits(x):
    """x: [n, h, w, c] (NHWC, as Axon) -> logits [n, classes]."""
    y = torch.nn.functional.conv2d(x.permute(0, 3, 1, 2), conv_w, conv_b)
    y = torch.relu(y).permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # flatten in h, w, c order, as Axon's Flatten
    return y @ dense_w.T + dense_b


def integrated_gradients(x, baseline, classes, steps):
    total = torch.zeros_like(x)
    for k in range(steps + 1):
        point = (baseline + (k / steps) * (x - baseline)).requires_grad_(True)
        score = logits(point)[torch.arange(x.shape[0]), classes].sum()
        (g,) = torch.autograd.grad(score, point)
        total += g * ((0.5 if k in (0, steps) else 1.0) / steps)
    return (x - baseline) * total


x = f32(torch.randn(2, H, W, C_IN))
cases = []
# Case 1: the default baseline (zeros) and the predicted classes.
zero = torch.zeros_like(x)
predicted = logits(x).argmax(1)
cases.append({"name": "zero baseline, predicted classes", "baseline": zero, "classes": predicted, "given": False})
# Case 2: a random baseline and given classes.
cases.append({"name": "random baseline, given classes", "baseline": f32(torch.rand(2, H, W, C_IN) - 0.5), "classes": torch.tensor([2, 0]), "given": True})

out = {
    "generator": "packages/explain/scripts/make-gradient-fixtures.py (torch %s)" % torch.__version__,
    "rule": "trapezoid",
    "steps": STEPS,
    "inputShape": [H, W, C_IN],
    "filters": FILTERS,
    "classes": CLASSES,
    # Axon layout: Conv2D kernel [kh, kw, in, out], Dense kernel [in, out].
    "weights": {
        "convKernel": conv_w.permute(2, 3, 1, 0).flatten().tolist(),
        "convBias": conv_b.tolist(),
        "denseKernel": dense_w.T.flatten().tolist(),
        "denseBias": dense_b.tolist(),
    },
    "x": x.flatten().tolist(),
    "logits": logits(x).flatten().tolist(),
    "cases": [],
}
for case in cases:
    ig = integrated_gradients(x, case["baseline"], case["classes"], STEPS)
    delta = (logits(x) - logits(case["baseline"]))[torch.arange(2), case["classes"]]
    out["cases"].append(
        {
            "name": case["name"],
            "baseline": case["baseline"].flatten().tolist(),
            "classes": case["classes"].tolist(),
            "classIndexGiven": case["given"],
            "attributions": ig.flatten().tolist(),
            "scoreDifference": delta.tolist(),
        }
    )

path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "integrated-gradients.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("wrote", os.path.normpath(path))
for case in out["cases"]:
    print(case["name"], "sum(IG) per sample", [sum(case["attributions"][i * H * W * C_IN:(i + 1) * H * W * C_IN]) for i in range(2)], "score difference", case["scoreDifference"])
