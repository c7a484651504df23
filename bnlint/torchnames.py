"""PyTorch knowledge as data: layer families, constructor signatures, functional ops.

Rules never spell a PyTorch name themselves; they ask this module what a canonical qualified
name (see `bnlint.resolve.canonical`) is. Constructor parameter lists are the ones of
torch 2.x, in order, so positional arguments can be bound to names; a test checks them against
the installed torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NN = "torch.nn."
F = "torch.nn.functional."


@dataclass(frozen=True)
class LayerSpec:
    """What bnlint knows of one `torch.nn` layer class."""

    kind: str
    params: tuple[str, ...]
    dims: int | None = None
    defaults: dict[str, object] = field(default_factory=dict, hash=False, compare=False)


_CONV = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
         "padding_mode", "device", "dtype")  # fmt: skip
_CONV_T = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups", "bias",
           "dilation", "padding_mode", "device", "dtype")  # fmt: skip
_LAZY_CONV = _CONV[1:]
_LAZY_CONV_T = _CONV_T[1:]
_BN = ("num_features", "eps", "momentum", "affine", "track_running_stats", "device", "dtype")
_LAZY_BN = _BN[1:]
_DROPOUT = ("p", "inplace")

LAYERS: dict[str, LayerSpec] = {}


def _add(names: list[str], spec: LayerSpec) -> None:
    for name in names:
        LAYERS[NN + name] = spec


for _d in (1, 2, 3):
    _add([f"Conv{_d}d"], LayerSpec("conv", _CONV, _d, {"bias": True}))
    _add([f"LazyConv{_d}d"], LayerSpec("conv", _LAZY_CONV, _d, {"bias": True}))
    _add([f"ConvTranspose{_d}d"], LayerSpec("conv_transpose", _CONV_T, _d, {"bias": True}))
    _add([f"LazyConvTranspose{_d}d"], LayerSpec("conv_transpose", _LAZY_CONV_T, _d, {"bias": True}))
    _add([f"BatchNorm{_d}d"], LayerSpec("batchnorm", _BN, _d, {"momentum": 0.1}))
    _add([f"LazyBatchNorm{_d}d"], LayerSpec("batchnorm", _LAZY_BN, _d, {"momentum": 0.1}))
    _add([f"InstanceNorm{_d}d"], LayerSpec("instancenorm", _BN, _d, {"momentum": 0.1}))
    _add([f"LazyInstanceNorm{_d}d"], LayerSpec("instancenorm", _LAZY_BN, _d, {"momentum": 0.1}))
    _add([f"Dropout{_d}d"], LayerSpec("dropout", _DROPOUT, None, {"p": 0.5}))
    for _pool in ("MaxPool", "AvgPool", "AdaptiveMaxPool", "AdaptiveAvgPool", "LPPool"):
        _add([f"{_pool}{_d}d"], LayerSpec("pool", ()))

_add(["SyncBatchNorm"], LayerSpec("batchnorm", (*_BN[:5], "process_group", "device", "dtype"), None, {"momentum": 0.1}))
_add(["Linear"], LayerSpec("linear", ("in_features", "out_features", "bias", "device", "dtype"), None, {"bias": True}))
_add(["LazyLinear"], LayerSpec("linear", ("out_features", "bias", "device", "dtype"), None, {"bias": True}))
_add(
    ["Bilinear"],
    LayerSpec("bilinear", ("in1_features", "in2_features", "out_features", "bias", "device", "dtype"), None, {"bias": True}),
)
_add(["GroupNorm"], LayerSpec("groupnorm", ("num_groups", "num_channels", "eps", "affine", "device", "dtype")))
_add(["LayerNorm"], LayerSpec("layernorm", ("normalized_shape", "eps", "elementwise_affine", "bias", "device", "dtype")))
_add(["RMSNorm"], LayerSpec("rmsnorm", ("normalized_shape", "eps", "elementwise_affine", "device", "dtype")))
_add(["LocalResponseNorm"], LayerSpec("lrn", ("size", "alpha", "beta", "k")))
_add(["Dropout", "AlphaDropout", "FeatureAlphaDropout"], LayerSpec("dropout", _DROPOUT, None, {"p": 0.5}))
_add(["Flatten"], LayerSpec("reshape", ("start_dim", "end_dim")))
_add(["Unflatten"], LayerSpec("reshape", ("dim", "unflattened_size")))
_add(["Identity"], LayerSpec("identity", ()))
_add(["Sequential"], LayerSpec("sequential", ()))
_add(["ModuleList", "ModuleDict"], LayerSpec("container", ("modules",)))
_add(["Embedding"], LayerSpec("embedding", ("num_embeddings", "embedding_dim")))
_add(["RNN", "LSTM", "GRU"], LayerSpec("recurrent", ()))  # (*args, **kwargs) constructors

# Activations: module class or function -> the family that decides the init scheme.
ACTIVATION_MODULES: dict[str, str] = {
    **{NN + n: "relu" for n in ("ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "CELU", "SELU", "GELU",
                                 "SiLU", "Mish", "Hardswish")},  # fmt: skip
    **{NN + n: "tanh" for n in ("Tanh", "Hardtanh", "Softsign", "Tanhshrink")},
    **{NN + n: "sigmoid" for n in ("Sigmoid", "Hardsigmoid", "LogSigmoid")},
}
for _name in ACTIVATION_MODULES:
    LAYERS[_name] = LayerSpec("activation", ("negative_slope", "inplace") if _name.endswith("LeakyReLU") else ())

ACTIVATION_FUNCTIONS: dict[str, str] = {
    **{F + n: "relu" for n in ("relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "celu", "selu",
                                "gelu", "silu", "mish", "hardswish", "prelu", "rrelu")},  # fmt: skip
    **{F + n: "tanh" for n in ("tanh", "hardtanh", "hardtanh_", "softsign", "tanhshrink")},
    **{F + n: "sigmoid" for n in ("sigmoid", "hardsigmoid", "logsigmoid")},
    **{"torch." + n: "relu" for n in ("relu", "relu_", "selu", "celu", "prelu", "rrelu")},
    **{"torch." + n: "tanh" for n in ("tanh", "tanh_")},
    **{"torch." + n: "sigmoid" for n in ("sigmoid", "sigmoid_")},
}
# `x.relu()` and friends.
ACTIVATION_METHODS: dict[str, str] = {"relu": "relu", "relu_": "relu", "tanh": "tanh", "tanh_": "tanh",
                                      "sigmoid": "sigmoid", "sigmoid_": "sigmoid"}  # fmt: skip

DROPOUT_FUNCTIONS = frozenset(F + n for n in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
                                              "feature_alpha_dropout"))  # fmt: skip
NORM_FUNCTIONS: dict[str, str] = {
    F + "batch_norm": "batchnorm",
    F + "instance_norm": "instancenorm",
    F + "group_norm": "groupnorm",
    F + "layer_norm": "layernorm",
    F + "rms_norm": "rmsnorm",
    F + "local_response_norm": "lrn",
}
POOL_FUNCTIONS = frozenset(
    F + f"{kind}{d}d" for kind in ("max_pool", "avg_pool", "adaptive_max_pool", "adaptive_avg_pool", "lp_pool")
    for d in (1, 2, 3)
)  # fmt: skip
RESHAPE_FUNCTIONS = frozenset({"torch.flatten", "torch.reshape", "torch.squeeze", "torch.unsqueeze",
                               "torch.permute", "torch.transpose", "torch.movedim"})  # fmt: skip
RESHAPE_METHODS = frozenset({"view", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "permute",
                             "transpose", "movedim", "view_as", "reshape_as", "t", "mT"})  # fmt: skip
# Methods that return the same values, same shape: invisible to every rule.
IDENTITY_METHODS = frozenset({"contiguous", "clone", "float", "to", "type_as"})
# Uses of a tensor that read its metadata, not its values.
METADATA_METHODS = frozenset({"size", "dim", "numel", "shape", "dtype", "device", "ndim", "is_contiguous"})
MERGE_FUNCTIONS = frozenset({"torch.cat", "torch.stack", "torch.add", "torch.mul", "torch.concat", "torch.concatenate"})


def layer_spec(qualified_name: str | None) -> LayerSpec | None:
    return LAYERS.get(qualified_name) if qualified_name else None
