"""The generator EMA warms up, so a short run's average is not dominated by the random initial weights."""
from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from toonkit.train.optim import ema_avg_fn


def test_ema_warms_up_then_reaches_its_decay() -> None:
    net = nn.Linear(1, 1, bias=False)
    ema = AveragedModel(net, multi_avg_fn=ema_avg_fn(0.999), use_buffers=True)
    with torch.no_grad():
        net.weight.fill_(0.0)
    ema.update_parameters(net)  # the first update copies
    with torch.no_grad():
        net.weight.fill_(1.0)
    for _ in range(200):
        ema.update_parameters(net)
    # a fixed 0.999 would leave 0.999**200 = 82 % of the initial 0; the warm-up leaves about 5 %
    got = float(ema.module.weight)
    assert 0.9 < got < 1.0
    expected = 1.0
    for n in range(1, 201):
        expected *= min(0.999, (1 + n) / (10 + n))
    assert abs((1 - got) - expected) < 1e-6


def test_ema_uses_the_decay_once_warm() -> None:
    update = ema_avg_fn(0.9)
    e, c = [torch.zeros(3)], [torch.ones(3)]
    update(e, c, torch.tensor(10_000))
    assert torch.allclose(e[0], torch.full((3,), 0.1))
