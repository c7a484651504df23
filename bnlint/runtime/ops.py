"""What each torch function does to a layer's output, as data.

The pass follows a Linear/Conv output tensor through the torch functions that consume it. Each
function falls in one class: it carries the values on (reshapes, dropout, pooling, residual
additions, scalar scaling), normalizes them, applies an activation, feeds them to another layer,
ends in a loss, or does something the pass does not model (then the layer's activation is unknown).
Functions are named as `__torch_function__` sees them, so `F.relu`, `torch.relu`, `x.relu()` and
`x.relu_()` are one entry.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import torch
import torch.nn.functional as F


class OpKind(enum.Enum):
    """How a torch function treats a tagged (layer-output) tensor."""

    CARRY = "carry"  # the values go on to the function's output
    NORM = "norm"  # a normalization: recorded, then the values go on
    ACTIVATION = "activation"  # the path ends at an activation
    LAYER = "layer"  # another layer consumes the values: no activation in between (identity)
    OUTPUT = "output"  # softmax or a loss: the values are the model's output (identity)
    UNKNOWN = "unknown"  # anything else: the pass cannot tell which activation follows


class Carry(enum.Enum):
    """The ways a CARRY function moves values, which decide how the channel axis and scale follow."""

    ELEMENTWISE = "elementwise"  # same shape, same positions
    SHIFT_BREAKING = "shift_breaking"  # same positions, but a per-channel constant does not survive
    POOL = "pool"  # spatial dims shrink, channel axis stays
    RESHAPE = "reshape"
    PERMUTE = "permute"
    SLICE = "slice"
    CONCAT = "concat"
    RESIZE = "resize"  # padding and interpolation: channel axis stays, constants do not survive
    ADD = "add"
    SCALE = "scale"


_CARRY: dict[str, Carry] = {
    **dict.fromkeys(
        ["clone", "contiguous", "float", "double", "half", "bfloat16", "to", "type", "type_as",
         "detach", "data", "neg", "negative", "__neg__", "requires_grad_", "cpu", "cuda"],
        Carry.ELEMENTWISE,
    ),
    **dict.fromkeys(
        ["dropout", "dropout_", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
         "feature_alpha_dropout"],
        Carry.SHIFT_BREAKING,
    ),
    **dict.fromkeys(
        ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
         "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
         "adaptive_max_pool2d", "adaptive_max_pool3d"],
        Carry.POOL,
    ),
    **dict.fromkeys(
        ["view", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "view_as", "reshape_as"],
        Carry.RESHAPE,
    ),
    **dict.fromkeys(["transpose", "swapaxes", "swapdims", "permute", "movedim", "t", "T", "mT"], Carry.PERMUTE),
    **dict.fromkeys(["__getitem__", "narrow", "chunk", "split", "tensor_split", "unbind"], Carry.SLICE),
    **dict.fromkeys(["cat", "concat", "concatenate", "stack"], Carry.CONCAT),
    **dict.fromkeys(["pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear"], Carry.RESIZE),
    **dict.fromkeys(
        ["add", "add_", "__add__", "__iadd__", "__radd__", "sub", "sub_", "__sub__", "__isub__", "__rsub__"],
        Carry.ADD,
    ),
    **dict.fromkeys(
        ["mul", "mul_", "__mul__", "__imul__", "__rmul__", "div", "div_", "__truediv__", "__itruediv__"],
        Carry.SCALE,
    ),
}

NORMS: frozenset[str] = frozenset(
    {"batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm", "local_response_norm"}
)
# Normalizations that subtract a per-channel mean, so that a per-channel bias before them is cancelled.
CHANNEL_CENTERING_NORMS: frozenset[str] = frozenset({"batch_norm", "instance_norm"})

# Torch spelling -> canonical activation name (see schemes.py); in-place spellings included.
ACTIVATIONS: dict[str, str] = {
    **{name: name for name in ["relu", "relu6", "leaky_relu", "gelu", "silu", "mish", "elu", "celu",
                                "selu", "hardswish", "tanh", "sigmoid", "rrelu", "prelu"]},
    **{f"{name}_": name for name in ["relu", "leaky_relu", "elu", "celu", "selu", "tanh", "sigmoid", "rrelu"]},
    "hardtanh": "hardtanh",  # nn.ReLU6 calls F.hardtanh(x, 0, 6); other bounds stay unknown
    "hardtanh_": "hardtanh",
}

LAYERS: frozenset[str] = frozenset(
    {"linear", "bilinear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
     "conv_transpose3d"}
)

OUTPUTS: frozenset[str] = frozenset(
    {"softmax", "log_softmax", "cross_entropy", "nll_loss", "binary_cross_entropy",
     "binary_cross_entropy_with_logits", "kl_div", "mse_loss", "l1_loss", "smooth_l1_loss",
     "huber_loss", "poisson_nll_loss", "gaussian_nll_loss", "multi_margin_loss",
     "multilabel_margin_loss", "multilabel_soft_margin_loss", "soft_margin_loss",
     "hinge_embedding_loss", "cosine_embedding_loss", "margin_ranking_loss", "triplet_margin_loss",
     "ctc_loss"}
)

# Functions whose `__name__` is not their public name (boolean dispatch, property getters).
_NAMES_BY_OBJECT: dict[object, str] = {
    F.max_pool1d: "max_pool1d",
    F.max_pool2d: "max_pool2d",
    F.max_pool3d: "max_pool3d",
    F.adaptive_max_pool1d: "adaptive_max_pool1d",
    F.adaptive_max_pool2d: "adaptive_max_pool2d",
    F.adaptive_max_pool3d: "adaptive_max_pool3d",
    torch.Tensor.T.__get__: "T",
    torch.Tensor.mT.__get__: "mT",
    torch.Tensor.data.__get__: "data",
}


def op_name(func: Callable[..., object]) -> str:
    """The public name of a torch function as `__torch_function__` receives it."""
    try:
        return _NAMES_BY_OBJECT[func]
    except (KeyError, TypeError):
        return getattr(func, "__name__", repr(func))


def classify(name: str) -> OpKind:
    """The class of the torch function `name` (see `OpKind`)."""
    if name in _CARRY:
        return OpKind.CARRY
    if name in NORMS:
        return OpKind.NORM
    if name in ACTIVATIONS:
        return OpKind.ACTIVATION
    if name in LAYERS:
        return OpKind.LAYER
    if name in OUTPUTS or name.endswith("_loss"):
        return OpKind.OUTPUT
    return OpKind.UNKNOWN


def carry_kind(name: str) -> Carry:
    """How the CARRY function `name` moves values."""
    return _CARRY[name]
