"""Size and speed helpers."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from toonkit.metrics.perf import (
    count_flops,
    count_parameters,
    measure_throughput,
    peak_memory,
    size_and_speed,
)


def _net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 1))


def test_parameter_count() -> None:
    net = _net()
    assert count_parameters(net) == (3 * 8 * 9 + 8) + (8 * 3 + 3)
    net[0].requires_grad_(False)
    assert count_parameters(net, trainable_only=True) == 8 * 3 + 3
    shared = nn.Sequential(net[2], net[2])
    assert count_parameters(shared) == 8 * 3 + 3


def test_flops_are_two_per_multiply_add() -> None:
    h = w = 16
    expected = 2 * (h * w * 8 * 3 * 9) + 2 * (h * w * 3 * 8)
    assert count_flops(_net(), (1, 3, h, w)) == expected
    assert count_flops(_net(), (2, 3, h, w)) == 2 * expected


def test_throughput_and_memory_report_what_they_measured() -> None:
    net = _net().eval()
    result = measure_throughput(net, batch_size=2, size=32, warmup=1, repeats=3)
    assert result["images_per_s"] > 0 and result["repeats"] == 3 and result["batch_size"] == 2
    mem = peak_memory(lambda: net(torch.zeros(1, 3, 32, 32)))
    assert mem["kind"] == "cpu_process_rss_peak" and mem["peak_mb"] > 10


def test_size_and_speed_columns() -> None:
    net = _net().eval()
    row = size_and_speed(net, net, size=32, batch_sizes=(1, 2), warmup=1, repeats=2)
    assert set(row) == {"device", "params", "gflops", "img_per_s_b1", "img_per_s_b2", "peak_mem_mb",
                        "peak_mem_kind"}
    assert row["params"] == count_parameters(net)
    assert row["gflops"] == pytest.approx(count_flops(net, (1, 3, 32, 32)) / 1e9)
    assert "params" not in size_and_speed(None, net, size=32, batch_sizes=(1,), warmup=0, repeats=1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_peak_memory_is_allocator_peak() -> None:
    mem = peak_memory(lambda: torch.zeros(256, 1024, 1024, device="cuda"), "cuda")  # 1 GiB
    assert mem["kind"] == "cuda_max_allocated" and mem["peak_mb"] >= 1024
