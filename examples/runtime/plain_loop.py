"""Audit and repair a model's initialization in a hand-written training loop (no Lightning).

    python examples/runtime/plain_loop.py

A 10-layer ReLU network with PyTorch's default initialization starts with weights at 0.41x the
Kaiming std, so the signal shrinks layer after layer. Before the first optimizer step we audit the
model on the first real batch with the real loss, re-initialize the offending layers with the scheme
their activation needs, check that the audit is now clean, and train as usual. The audit leaves no
trace: weights, gradients, BatchNorm statistics and random number generators are as they were.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bnlint.runtime import audit, audit_pass, reinitialize


def make_data(n: int = 1024, features: int = 32, classes: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Synthetic classification: the label is the largest of four fixed random projections."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, features, generator=generator)
    y = (x @ torch.randn(features, classes, generator=generator)).argmax(dim=1)
    return x, y


def make_model(depth: int = 10, width: int = 64) -> nn.Sequential:
    """A deep ReLU MLP left with PyTorch's default init (kaiming_uniform with a=sqrt(5)), no biases."""
    layers: list[nn.Module] = [nn.Linear(32, width, bias=False), nn.ReLU()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width, bias=False), nn.ReLU()]
    layers.append(nn.Linear(width, 4, bias=False))
    return nn.Sequential(*layers)


def train(steps: int = 60, batch_size: int = 64) -> list[float]:
    """Audit, repair, re-audit, then train; returns the loss of every step."""
    torch.manual_seed(0)
    x, y = make_data()
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    # 1. Audit on the first real batch with the real loss: `audit_pass` takes a callable that runs
    #    the forward and returns the tensor to backpropagate.
    first_x, first_y = x[:batch_size], y[:batch_size]
    report = audit_pass(model, lambda: F.cross_entropy(model(first_x), first_y))
    print(report)

    # 2. Re-initialize the offending layers in place (biases zero, norms gamma 1 beta 0).
    for change in reinitialize(model, report):
        print("re-initialized", change)

    # 3. Check again; in CI, `audit(model, first_x).raise_for_findings()` raises InitError instead.
    after = audit(model, first_x)
    print(after.table())
    print("findings after the repair:", len(after.findings))

    # 4. The usual loop.
    losses = []
    for step in range(steps):
        start = (step * batch_size) % len(x)
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    print(f"loss: first step {losses[0]:.3f}, last step {losses[-1]:.3f}")
    return losses


if __name__ == "__main__":
    train()
