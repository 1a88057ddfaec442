#!/usr/bin/env python3
"""PyTorch CPU side of benchmarks/src/models.js: the seed CNN and LSTM, trained and run.

A worker: reads one JSON command per line on stdin, {"model": "cnn"|"lstm", "mode": "train"|"predict",
"batch": N, "budget": seconds}, times that workload (2 warm-up steps, then repetitions until the
budget is spent) and writes {"ms": median ms per step, "reps": n} — so the Node side can interleave
PyTorch with Axon in one run. The first line it writes is {"torch": version, "threads": n}.

Models as in the seed: Conv2D(32,3,relu) > MaxPool(2) > Conv2D(64,3,relu) > MaxPool(2) > Flatten >
Dense(128,relu) > Dense(10) on [B,1,28,28] (NCHW, PyTorch's native layout); LSTM(64, sequences) >
LSTM(64) > Dense(10) on [B,28,28]. Adam, cross-entropy from logits (softmax + log loss), random data.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3)
        self.c2 = nn.Conv2d(32, 64, 3)
        self.d1 = nn.Linear(1600, 128)
        self.d2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.d2(F.relu(self.d1(x.flatten(1))))


class Lstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.LSTM(28, 64, batch_first=True)
        self.b = nn.LSTM(64, 64, batch_first=True)
        self.d = nn.Linear(64, 10)

    def forward(self, x):
        y, _ = self.a(x)
        y, _ = self.b(y)
        return self.d(y[:, -1])


def workload(model_name, mode, batch):
    torch.manual_seed(0)
    model = Cnn() if model_name == "cnn" else Lstm()
    x = torch.rand(batch, 1, 28, 28) if model_name == "cnn" else torch.rand(batch, 28, 28)
    if mode == "predict":
        model.eval()

        def step():
            with torch.no_grad():
                model(x)

        return step
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    y = torch.randint(0, 10, (batch,))

    def step():
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    return step


def median_ms(step, budget):
    for _ in range(2):
        step()
    samples = []
    start = time.perf_counter()
    while len(samples) < 3 or (time.perf_counter() - start < budget and len(samples) < 500):
        t0 = time.perf_counter()
        step()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return samples[len(samples) // 2], len(samples)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(threads)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    cache = {}
    for line in sys.stdin:
        command = json.loads(line)
        key = (command["model"], command["mode"], command["batch"])
        if key not in cache:
            cache[key] = workload(*key)
        ms, reps = median_ms(cache[key], command.get("budget", 2.0))
        print(json.dumps({"ms": ms, "reps": reps}), flush=True)


if __name__ == "__main__":
    main()
