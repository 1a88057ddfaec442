#!/usr/bin/env python3
"""Reference values for @axon/models' loss and optimizer tests.

Losses come from PyTorch (float64); optimizer steps from a float64 NumPy
transcription of Keras' update rules (keras/src/optimizers/*.py), because
PyTorch's RMSprop, Adagrad and Adam place epsilon differently from Keras.

    python3 packages/models/scripts/make-fixtures.py   # writes test/fixtures/reference.json
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
out = {}

y_reg = np.array([[0.5, -1.0], [2.0, 0.0], [1.0, 3.0]])
p_reg = np.array([[0.0, -0.5], [3.5, 0.2], [1.1, 0.0]])
w = np.array([1.0, 0.5, 2.0])


def per_sample(t):
    return t.reshape(t.shape[0], -1).mean(dim=1)


def case(name, y_true, y_pred, per, extra=None):
    per = per.detach().numpy()
    out[name] = {
        "yTrue": np.asarray(y_true).tolist(),
        "yPred": np.asarray(y_pred).tolist(),
        "perSample": per.tolist(),
        "mean": float(per.mean()),
        "weighted": float((per * w[: len(per)]).sum() / len(per)) if len(per) == len(w) else None,
        **(extra or {}),
    }


yt, yp = torch.tensor(y_reg), torch.tensor(p_reg)
case("mse", y_reg, p_reg, per_sample(F.mse_loss(yp, yt, reduction="none")))
case("mae", y_reg, p_reg, per_sample(F.l1_loss(yp, yt, reduction="none")))
case("huber", y_reg, p_reg, per_sample(F.huber_loss(yp, yt, reduction="none", delta=1.0)))
case("huber_delta_0.5", y_reg, p_reg, per_sample(F.huber_loss(yp, yt, reduction="none", delta=0.5)), {"delta": 0.5})

# Binary cross-entropy: probabilities, logits (including large ones), label smoothing.
z = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
probs = np.array([[0.9, 0.2], [0.3, 0.6], [0.99, 0.5]])
logits = np.array([[2.0, -1.0], [-0.5, 0.3], [40.0, -35.0]])
case("bce_probs", z, probs, per_sample(F.binary_cross_entropy(torch.tensor(probs), torch.tensor(z), reduction="none")))
case("bce_logits", z, logits, per_sample(F.binary_cross_entropy_with_logits(torch.tensor(logits), torch.tensor(z), reduction="none")), {"fromLogits": True})
zs = z * (1 - 0.1) + 0.05
case("bce_logits_smooth_0.1", z, logits, per_sample(F.binary_cross_entropy_with_logits(torch.tensor(logits), torch.tensor(zs), reduction="none")),
     {"fromLogits": True, "labelSmoothing": 0.1})
lg = torch.tensor(logits, requires_grad=True)
F.binary_cross_entropy_with_logits(lg, torch.tensor(z), reduction="none").mean(dim=1).mean().backward()
out["bce_logits"]["grad"] = lg.grad.numpy().tolist()

# Categorical / sparse categorical cross-entropy.
labels = np.array([2, 0, 1])
onehot = np.eye(4)[labels]
clog = np.array([[1.0, 2.0, 3.0, 0.5], [4.0, -2.0, 0.0, 1.0], [100.0, -50.0, 0.0, 20.0]])
cprob = torch.softmax(torch.tensor(clog[:2]), dim=1).numpy()
cprob = np.vstack([cprob, [[0.1, 0.2, 0.3, 0.4]]])
case("cce_probs", onehot, cprob, -(torch.tensor(onehot) * torch.log(torch.tensor(cprob))).sum(dim=1))
case("cce_logits", onehot, clog, F.cross_entropy(torch.tensor(clog), torch.tensor(labels), reduction="none"), {"fromLogits": True})
case("cce_logits_smooth_0.2", onehot, clog, F.cross_entropy(torch.tensor(clog), torch.tensor(labels), reduction="none", label_smoothing=0.2),
     {"fromLogits": True, "labelSmoothing": 0.2})
case("scce_logits", labels, clog, F.cross_entropy(torch.tensor(clog), torch.tensor(labels), reduction="none"), {"fromLogits": True})
case("scce_probs", labels, cprob, F.nll_loss(torch.log(torch.tensor(cprob)), torch.tensor(labels), reduction="none"))
lg = torch.tensor(clog, requires_grad=True)
F.cross_entropy(lg, torch.tensor(labels)).backward()
out["scce_logits"]["grad"] = lg.grad.numpy().tolist()

# Optimizers: three steps on a 2x3 parameter, gradient g_t = g0 * (t + 1) - 0.1 * p_t.
p0 = np.array([[0.5, -1.0, 2.0], [0.0, 0.25, -0.75]])
g0 = np.array([[0.1, -0.2, 0.3], [0.05, 0.0, -1.0]])


def run(update, steps=3):
    p = p0.copy()
    state = {}
    history = []
    for t in range(steps):
        g = g0 * (t + 1) - 0.1 * p
        p = update(p, g, t + 1, state)
        history.append(p.tolist())
    return history


def sgd(lr, momentum=0.0, nesterov=False):
    def step(p, g, t, s):
        if momentum == 0:
            return p - lr * g
        v = momentum * s.get("v", np.zeros_like(p)) - lr * g
        s["v"] = v
        return p + (momentum * v - lr * g if nesterov else v)
    return step


def adam(lr=0.001, b1=0.9, b2=0.999, eps=1e-7, wd=0.0):
    def step(p, g, t, s):
        p = p - p * wd * lr
        m = b1 * s.get("m", 0) + (1 - b1) * g
        v = b2 * s.get("v", 0) + (1 - b2) * g * g
        s["m"], s["v"] = m, v
        lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return p - lr_t * m / (np.sqrt(v) + eps)
    return step


def rmsprop(lr=0.001, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    def step(p, g, t, s):
        ms = rho * s.get("ms", 0) + (1 - rho) * g * g
        s["ms"] = ms
        denom = ms
        if centered:
            mg = rho * s.get("mg", 0) + (1 - rho) * g
            s["mg"] = mg
            denom = ms - mg * mg
        inc = lr * g / np.sqrt(denom + eps)
        if momentum > 0:
            mom = momentum * s.get("mom", 0) + inc
            s["mom"] = mom
            return p - mom
        return p - inc
    return step


def adagrad(lr=0.001, init=0.1, eps=1e-7):
    def step(p, g, t, s):
        acc = s.get("acc", np.full_like(p, init)) + g * g
        s["acc"] = acc
        return p - lr * g / np.sqrt(acc + eps)
    return step


out["optimizers"] = {
    "p0": p0.tolist(),
    "g0": g0.tolist(),
    "cases": {
        "sgd_default": {"name": "sgd", "config": {}, "steps": run(sgd(0.01))},
        "sgd_momentum": {"name": "sgd", "config": {"learningRate": 0.1, "momentum": 0.9}, "steps": run(sgd(0.1, 0.9))},
        "sgd_nesterov": {"name": "sgd", "config": {"learningRate": 0.1, "momentum": 0.9, "nesterov": True}, "steps": run(sgd(0.1, 0.9, True))},
        "adam_default": {"name": "adam", "config": {}, "steps": run(adam())},
        "adam_custom": {"name": "adam", "config": {"learningRate": 0.1, "beta1": 0.5, "beta2": 0.9, "epsilon": 1e-3}, "steps": run(adam(0.1, 0.5, 0.9, 1e-3))},
        "adamw_default": {"name": "adamw", "config": {}, "steps": run(adam(wd=0.004))},
        "adamw_strong": {"name": "adamw", "config": {"learningRate": 0.1, "weightDecay": 0.5}, "steps": run(adam(lr=0.1, wd=0.5))},
        "rmsprop_default": {"name": "rmsprop", "config": {}, "steps": run(rmsprop())},
        "rmsprop_centered_momentum": {"name": "rmsprop", "config": {"learningRate": 0.01, "momentum": 0.5, "centered": True},
                                      "steps": run(rmsprop(0.01, momentum=0.5, centered=True))},
        "adagrad_default": {"name": "adagrad", "config": {}, "steps": run(adagrad())},
        "adagrad_custom": {"name": "adagrad", "config": {"learningRate": 0.5, "initialAccumulatorValue": 0.01}, "steps": run(adagrad(0.5, 0.01))},
    },
}

path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "reference.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(f"wrote {os.path.normpath(path)}")
