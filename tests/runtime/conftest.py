"""Runtime tests: tiny models on the CPU, where torch's intra-op thread pool only adds hand-off cost."""

from __future__ import annotations

import torch

torch.set_num_threads(1)
