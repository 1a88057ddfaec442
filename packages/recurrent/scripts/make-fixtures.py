#!/usr/bin/env python3
"""Reference values for @axon/recurrent's layer tests, computed with PyTorch.

For each case: a layer config (TensorFlow.js camelCase), fixed weights in
Keras layout, an input (and mask / initial states), the outputs, and the
gradients of sum_i sum(output_i * projection_i) with respect to the input,
every weight and the initial states.

The reference is a float64 step loop in torch ops that follows Keras'
equations (masks, go_backwards, GRU reset_after both ways). Wherever PyTorch
has the same computation built in (nn.LSTM; nn.GRU, which is Keras'
reset_after=True; nn.RNN; bidirectional nn.LSTM/nn.GRU/nn.RNN; no masks),
the script first checks the loop against it, values and gradients, after
converting the weights: Keras kernels are PyTorch's weight_ih transposed;
LSTM gates i,f,c,o are PyTorch's i,f,g,o; GRU gates z,r,h are PyTorch's r,z,n
reordered, with Keras' input bias in bias_ih and recurrent bias in bias_hh.

    /usr/bin/python3 packages/recurrent/scripts/make-fixtures.py
    # writes packages/recurrent/test/fixtures/*.json
"""
import json
import os

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures")
rng = np.random.default_rng(20240607)
checked = []  # cases verified against PyTorch's own modules

ACT = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "linear": lambda x: x,
    "hardSigmoid": lambda x: torch.clamp(0.2 * x + 0.5, 0.0, 1.0),
}
GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


def f32(a):
    """Values as float32 (what Axon stores), back in float64 for the reference."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def rand(*shape, scale=1.0):
    return f32(rng.uniform(-scale, scale, size=shape))


def enc(t):
    a = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    return {"shape": list(a.shape), "values": [float("%.8g" % v) for v in a.astype(np.float32).ravel()]}


# ---- the Keras step loop --------------------------------------------------------------


def cell_step(kind, cfg, xt, states, W, U, b):
    """One Keras step: (x_t, states) -> new states (h first)."""
    u = cfg["units"]
    act = ACT[cfg.get("activation", "tanh")]
    ract = ACT[cfg.get("recurrentActivation", "sigmoid")]
    h = states[0]
    if kind == "SimpleRNN":
        z = xt @ W + h @ U
        if b is not None:
            z = z + b
        return [act(z)]
    if kind == "LSTM":
        z = xt @ W + h @ U
        if b is not None:
            z = z + b
        i, f, g, o = z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:]
        c = ract(f) * states[1] + ract(i) * act(g)
        return [ract(o) * act(c), c]
    # GRU
    reset_after = cfg.get("resetAfter", True)
    if reset_after:
        bx = b[0] if b is not None else 0
        bh = b[1] if b is not None else 0
        mx = xt @ W + bx
        mh = h @ U + bh
        z = ract(mx[:, :u] + mh[:, :u])
        r = ract(mx[:, u:2 * u] + mh[:, u:2 * u])
        hh = act(mx[:, 2 * u:] + r * mh[:, 2 * u:])
    else:
        mx = xt @ W + (b if b is not None else 0)
        z = ract(mx[:, :u] + h @ U[:, :u])
        r = ract(mx[:, u:2 * u] + h @ U[:, u:2 * u])
        hh = act(mx[:, 2 * u:] + (r * h) @ U[:, 2 * u:])
    return [z * h + (1 - z) * hh]


def run_rnn(kind, cfg, x, weights, initial=None, mask=None, zero_output_for_mask=False):
    """Keras RNN semantics: returns (output, final states)."""
    W, U = weights[0], weights[1]
    b = weights[2] if len(weights) > 2 else None
    B, T, _ = x.shape
    u = cfg["units"]
    n_states = 2 if kind == "LSTM" else 1
    states = list(initial) if initial is not None else [torch.zeros(B, u) for _ in range(n_states)]
    prev = torch.zeros(B, u)
    outs = []
    for s in range(T):
        t = T - 1 - s if cfg.get("goBackwards", False) else s
        new = cell_step(kind, cfg, x[:, t], states, W, U, b)
        if mask is not None:
            m = mask[:, t:t + 1] > 0
            out = torch.where(m, new[0], torch.zeros(B, u) if zero_output_for_mask else prev)
            states = [torch.where(m, n, o) for n, o in zip(new, states)]
        else:
            out, states = new[0], new
        outs.append(out)
        prev = out
    output = torch.stack(outs, 1) if cfg.get("returnSequences", False) else prev
    return output, states


def run_layer(class_name, cfg, x, weights, initial, mask):
    """The layer's outputs, as a list (output, then states with returnState)."""
    if class_name == "Bidirectional":
        inner = cfg["layer"]
        kind, icfg = inner["className"], inner["config"]
        n_w = len(weights) // 2
        n_s = 2 if kind == "LSTM" else 1
        rs = icfg.get("returnSequences", False)
        bcfg = dict(icfg, goBackwards=not icfg.get("goBackwards", False))
        yf, sf = run_rnn(kind, icfg, x, weights[:n_w], initial[:n_s] if initial else None, mask, zero_output_for_mask=rs)
        yb, sb = run_rnn(kind, bcfg, x, weights[n_w:], initial[n_s:] if initial else None, mask, zero_output_for_mask=rs)
        if rs:
            yb = yb.flip(1)
        mode = cfg.get("mergeMode", "concat")
        y = {"concat": lambda: torch.cat([yf, yb], -1), "sum": lambda: yf + yb, "mul": lambda: yf * yb,
             "ave": lambda: (yf + yb) / 2}[mode]()
        return [y] + (sf + sb if icfg.get("returnState", False) else [])
    y, states = run_rnn(class_name, cfg, x, weights, initial, mask)
    return [y] + (states if cfg.get("returnState", False) else [])


# ---- checks against PyTorch's own modules -------------------------------------------------


def reorder_gru(m, u):
    """Keras z, r, h blocks (last axis) -> PyTorch r, z, n."""
    return torch.cat([m[..., u:2 * u], m[..., :u], m[..., 2 * u:]], -1)


def torch_module(kind, cfg, input_size, weight_sets):
    """nn.LSTM / nn.GRU / nn.RNN (bidirectional when given two weight sets) with Keras weights."""
    u = cfg["units"]
    bidi = len(weight_sets) == 2
    common = dict(input_size=input_size, hidden_size=u, batch_first=True, bidirectional=bidi, bias=True)
    if kind == "LSTM":
        mod = torch.nn.LSTM(**common)
    elif kind == "GRU":
        mod = torch.nn.GRU(**common)
    else:
        mod = torch.nn.RNN(nonlinearity=cfg.get("activation", "tanh"), **common)
    with torch.no_grad():
        for suffix, (W, U, b) in zip(["", "_reverse"], weight_sets):
            if kind == "GRU":
                W, U = reorder_gru(W, u), reorder_gru(U, u)
                bx, bh = (reorder_gru(b[0], u), reorder_gru(b[1], u)) if b is not None else (0 * W[0], 0 * W[0])
            else:
                bx, bh = (b if b is not None else 0 * W[0]), 0 * W[0]
            getattr(mod, "weight_ih_l0" + suffix).copy_(W.T)
            getattr(mod, "weight_hh_l0" + suffix).copy_(U.T)
            getattr(mod, "bias_ih_l0" + suffix).copy_(bx)
            getattr(mod, "bias_hh_l0" + suffix).copy_(bh)
    return mod


def check_against_torch(class_name, cfg, x, weights, initial):
    """The loop equals PyTorch's module (outputs and input gradient) where PyTorch has the computation."""
    if class_name == "Bidirectional":
        kind, icfg = cfg["layer"]["className"], cfg["layer"]["config"]
        if icfg.get("goBackwards", False):
            return
        n = len(weights) // 2
        sets = [weights[:n], weights[n:]]
    else:
        kind, icfg, sets = class_name, cfg, [weights]
    if kind == "GRU" and not icfg.get("resetAfter", True):
        return
    if icfg.get("activation", "tanh") not in ("tanh", "relu") or icfg.get("recurrentActivation", "sigmoid") != "sigmoid":
        return
    if kind == "LSTM" and icfg.get("activation", "tanh") != "tanh":
        return
    sets = [(s[0], s[1], s[2] if len(s) > 2 else None) for s in sets]
    mod = torch_module(kind, icfg, x.shape[2], sets)
    xin = x.detach().clone().requires_grad_(True)
    back = class_name != "Bidirectional" and icfg.get("goBackwards", False)
    n_s = 2 if kind == "LSTM" else 1
    hx = None
    if initial is not None:
        per_dir = len(sets)
        hs = torch.stack([initial[d * n_s] for d in range(per_dir)])
        hx = (hs, torch.stack([initial[d * n_s + 1] for d in range(per_dir)])) if kind == "LSTM" else hs
    seq, final = mod(xin.flip(1) if back else xin, hx)
    # Our loop with the same weights.
    xr = x.detach().clone().requires_grad_(True)
    if class_name == "Bidirectional":
        ours = run_layer(class_name, dict(cfg, layer=dict(cfg["layer"], config=dict(icfg, returnSequences=True, returnState=True)),
                                          mergeMode="concat"), xr, weights, initial, None)
    else:
        ours = run_layer(class_name, dict(icfg, returnSequences=True, returnState=True), xr, weights, initial, None)
    assert torch.allclose(ours[0], seq, atol=1e-10), f"{class_name} {cfg}: sequence differs from PyTorch"
    h_final = final[0] if kind == "LSTM" else final
    assert torch.allclose(ours[1], h_final[0], atol=1e-10), "final h differs from PyTorch"
    proj = torch.from_numpy(rand(*seq.shape))
    (g_ours,) = torch.autograd.grad((ours[0] * proj).sum(), xr)
    (g_torch,) = torch.autograd.grad((seq * proj).sum(), xin)
    assert torch.allclose(g_ours, g_torch, atol=1e-10), "input gradient differs from PyTorch"
    checked.append(kind)


# ---- cases -----------------------------------------------------------------------------------


def weights_for(class_name, cfg, input_size):
    if class_name == "Bidirectional":
        inner = cfg["layer"]
        return weights_for(inner["className"], inner["config"], input_size) * 2
    u, g = cfg["units"], GATES[class_name]
    ws = [rand(input_size, g * u, scale=0.6), rand(u, g * u, scale=0.6)]
    if cfg.get("useBias", True):
        ws.append(rand(2, g * u, scale=0.4) if class_name == "GRU" and cfg.get("resetAfter", True) else rand(g * u, scale=0.4))
    return ws


def make_case(name, class_name, cfg, batch=3, steps=5, features=3, mask=None, initial=False, embedding=None):
    # Keras always writes reset_after; a GRU config without it is TensorFlow.js' (reset_after=False).
    inner = cfg["layer"] if class_name == "Bidirectional" else {"className": class_name, "config": cfg}
    if inner["className"] == "GRU":
        inner["config"].setdefault("resetAfter", True)
    inner_kind = cfg["layer"]["className"] if class_name == "Bidirectional" else class_name
    units = cfg["layer"]["config"]["units"] if class_name == "Bidirectional" else cfg["units"]
    n_dirs = 2 if class_name == "Bidirectional" else 1
    n_states = (2 if inner_kind == "LSTM" else 1) * n_dirs
    case = {"name": name, "layer": {"className": class_name, "config": cfg}}
    if embedding is not None:
        # Indices -> rows of a fixed embedding matrix; index 0 is padding (the mask).
        vocab = embedding
        table = rand(vocab, features)
        idx = rng.integers(1, vocab, size=(batch, steps))
        idx[1, :2] = 0
        idx[2, 3:] = 0
        idx[0, 2] = 0
        x_np = table[idx]
        mask = (idx != 0).astype(np.float64)
        case["embedding"] = {"indices": enc(idx.astype(np.float32)), "table": enc(table)}
    else:
        x_np = rand(batch, steps, features)
    weights = [torch.from_numpy(w).requires_grad_(True) for w in weights_for(class_name, cfg, features)]
    x = torch.from_numpy(x_np).requires_grad_(True)
    init = [torch.from_numpy(rand(batch, units)).requires_grad_(True) for _ in range(n_states)] if initial else None
    m = torch.from_numpy(mask) if mask is not None else None
    if m is None:
        check_against_torch(class_name, cfg, x, weights, init)
    outputs = run_layer(class_name, cfg, x, weights, init, m)
    projections = [torch.from_numpy(rand(*o.shape)) for o in outputs]
    loss = sum((o * p).sum() for o, p in zip(outputs, projections))
    wrt = [x] + weights + (init or [])
    grads = torch.autograd.grad(loss, wrt, allow_unused=True)
    grads = [g if g is not None else torch.zeros_like(w) for g, w in zip(grads, wrt)]
    case.update({
        "input": enc(x),
        "mask": enc(m) if m is not None else None,
        "initialState": [enc(s) for s in init] if init else None,
        "weights": [enc(w) for w in weights],
        "outputs": [enc(o) for o in outputs],
        "projections": [enc(p) for p in projections],
        "inputGrad": enc(grads[0]),
        "weightGrads": [enc(g) for g in grads[1:1 + len(weights)]],
        "initialStateGrads": [enc(g) for g in grads[1 + len(weights):]] if init else None,
    })
    return case


def mask_for(batch, steps):
    """Sample 0 all steps; sample 1 skips its first two (so its early outputs are zeros); others random holes."""
    m = np.ones((batch, steps))
    m[1, :2] = 0
    for b in range(2, batch):
        m[b] = (rng.uniform(size=steps) > 0.35).astype(np.float64)
    m[2, -1] = 0
    return m


def family(class_name, extra):
    """The option matrix every layer goes through."""
    def cfg(**kw):
        return dict(units=4, **extra, **kw)
    return [
        ("last output", cfg(), {}),
        ("returnSequences", cfg(returnSequences=True), {}),
        ("returnState", cfg(returnState=True), {}),
        ("goBackwards, returnSequences, returnState", cfg(goBackwards=True, returnSequences=True, returnState=True), {}),
        ("goBackwards, last output", cfg(goBackwards=True), {}),
        ("initial state, returnState", cfg(returnState=True), {"initial": True}),
        ("mask, returnSequences, initial state", cfg(returnSequences=True, returnState=True), {"mask": True, "initial": True}),
        ("mask, last output", cfg(returnState=True), {"mask": True}),
        ("mask, goBackwards, returnSequences", cfg(goBackwards=True, returnSequences=True), {"mask": True}),
        ("no bias", cfg(useBias=False, returnSequences=True), {}),
    ]


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {
        "lstm": [("LSTM", {}, family("LSTM", {}))],
        "gru": [("GRU", {"resetAfter": True}, family("GRU", {"resetAfter": True})),
                ("GRU", {"resetAfter": False}, family("GRU", {"resetAfter": False}))],
        "simple-rnn": [("SimpleRNN", {}, family("SimpleRNN", {}))],
    }
    for file, groups in files.items():
        cases = []
        for class_name, tag, variants in groups:
            label = class_name + ("" if not tag else " " + ", ".join(f"{k}={v}" for k, v in tag.items()))
            for desc, cfg, opts in variants:
                mask = mask_for(3, 5) if opts.get("mask") else None
                cases.append(make_case(f"{label}: {desc}", class_name, cfg, mask=mask, initial=opts.get("initial", False)))
        extra = {
            "lstm": [("LSTM: relu / hardSigmoid activations", "LSTM", dict(units=3, activation="relu", recurrentActivation="hardSigmoid", returnSequences=True))],
            "gru": [("GRU resetAfter=True: linear / hardSigmoid, goBackwards", "GRU", dict(units=3, activation="linear", recurrentActivation="hardSigmoid", goBackwards=True, returnSequences=True))],
            "simple-rnn": [("SimpleRNN: relu", "SimpleRNN", dict(units=4, activation="relu", returnSequences=True)),
                           ("SimpleRNN: sigmoid (composite-only activations are also fused)", "SimpleRNN", dict(units=3, activation="sigmoid"))],
        }[file]
        for name, class_name, cfg in extra:
            cases.append(make_case(name, class_name, cfg))
        write(file, cases)

    bidi = []
    for mode, inner, rs, opts in [
        ("concat", {"className": "LSTM", "config": {"units": 3, "returnSequences": True}}, True, {}),
        ("sum", {"className": "GRU", "config": {"units": 3, "returnSequences": True, "resetAfter": True}}, True, {}),
        ("mul", {"className": "SimpleRNN", "config": {"units": 3}}, False, {}),
        ("ave", {"className": "GRU", "config": {"units": 3, "returnSequences": True, "resetAfter": False}}, True, {}),
        ("concat", {"className": "LSTM", "config": {"units": 3, "returnSequences": True, "returnState": True}}, True, {"initial": True}),
        ("concat", {"className": "LSTM", "config": {"units": 3, "returnSequences": True}}, True, {"mask": True}),
        ("ave", {"className": "GRU", "config": {"units": 3, "resetAfter": True}}, False, {"mask": True}),
    ]:
        desc = f"Bidirectional({inner['className']}) {mode}" + ("" if rs else ", last output") + \
            "".join(f", {k}" for k in opts) + (", returnState" if inner["config"].get("returnState") else "")
        mask = mask_for(3, 5) if opts.get("mask") else None
        bidi.append(make_case(desc, "Bidirectional", {"layer": inner, "mergeMode": mode}, mask=mask, initial=opts.get("initial", False)))
    write("bidirectional", bidi)

    masking = [
        make_case("Embedding(maskZero) -> LSTM, returnSequences", "LSTM", dict(units=4, returnSequences=True), embedding=7),
        make_case("Embedding(maskZero) -> GRU, last output", "GRU", dict(units=4), embedding=7),
        make_case("Embedding(maskZero) -> Bidirectional(LSTM) concat", "Bidirectional",
                  {"layer": {"className": "LSTM", "config": {"units": 3, "returnSequences": True}}, "mergeMode": "concat"}, embedding=7),
    ]
    write("masking", masking)
    print(f"{len(checked)} cases checked against torch.nn modules: " + ", ".join(f"{k} {checked.count(k)}" for k in sorted(set(checked))))


def write(file, cases):
    path = os.path.join(OUT, f"{file}.json")
    with open(path, "w") as fh:
        json.dump(cases, fh, separators=(",", ":"))
    print(f"wrote {path}: {len(cases)} cases, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
