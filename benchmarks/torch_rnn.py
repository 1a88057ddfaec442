#!/usr/bin/env python3
"""PyTorch CPU side of benchmarks/src/rnn.js: the seed's recurrent model's training step.

RNN(64, return_sequences) -> RNN(64) -> Dense(10, softmax) on [batch, 28, 28], Adam,
categorical cross-entropy (softmax + log loss: F.cross_entropy on logits). Two threads
(torch.set_num_threads(2)); run with OPENBLAS_NUM_THREADS=1 so BLAS does not add its own.

    python3 benchmarks/torch_rnn.py --configs LSTM:32,GRU:128 --budget 1.5
prints one JSON object per line: {"cell", "batch", "ms"} (median ms per training step).
"""
import argparse
import json

import torch
import torch.nn.functional as F

from torch_models import median_ms


class Seed(torch.nn.Module):
    def __init__(self, cell):
        super().__init__()
        rnn = torch.nn.LSTM if cell == "LSTM" else torch.nn.GRU
        self.first = rnn(28, 64, batch_first=True)
        self.second = rnn(64, 64, batch_first=True)
        self.dense = torch.nn.Linear(64, 10)

    def forward(self, x):
        y, _ = self.first(x)
        y, _ = self.second(y)
        return self.dense(y[:, -1])


def median_step_ms(cell, batch, budget):
    torch.manual_seed(0)
    model = Seed(cell)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(batch, 28, 28)
    y = torch.randint(0, 10, (batch,))

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    return median_ms(step, budget)[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--configs", default="LSTM:32,LSTM:128,GRU:32,GRU:128")
    parser.add_argument("--budget", type=float, default=1.5, help="seconds of timed steps per config")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for config in args.configs.split(","):
        cell, batch = config.split(":")
        ms = median_step_ms(cell, int(batch), args.budget)
        print(json.dumps({"cell": cell, "batch": int(batch), "ms": ms, "threads": torch.get_num_threads(), "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
