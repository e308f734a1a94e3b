"""Inference path: BatchNorm folded into the layers before it, batched runs.

In eval mode a BatchNorm is an affine map per channel, so it folds exactly
into the preceding convolution or linear layer (torch's
``fuse_conv_bn_eval`` / ``fuse_linear_bn_eval`` do the arithmetic). A
residual block then reduces further: its 1x1 path multiplies the same
sample as the centre tap of the dilated kernel ('same' padding, odd
kernel), so the folded 1x1 weights are added to that tap and the whole
block becomes one convolution followed by ReLU. This removes the 1x1
convolution, both normalisations and the sum; the output equals the eval
network's up to float rounding. A filterbank DRN keeps its frontend and the
BatchNorm after it: that one precedes a zero-padded convolution, so folding
it would change the padded edges (and it costs a few hundred multiplies).
"""

import copy
import logging
import warnings

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

from ._modules import DRNModule, FFNModule

__all__ = ["fold_batchnorm", "resolve_inference_dtype", "predict_batched"]

logger = logging.getLogger(__name__)


class _Squeeze(nn.Module):
    def forward(self, x):
        return x.squeeze(-1)


def _fold_standard(block):
    linear, bn, _ = block
    return [fuse_linear_bn_eval(linear, bn), nn.ReLU(inplace=True)]


def _fold_residual(block):
    conv = fuse_conv_bn_eval(block.conv, block.bn)
    skip = fuse_conv_bn_eval(block.skip, block.skip_bn)
    centre = conv.kernel_size[0] // 2
    with torch.no_grad():
        conv.weight[:, :, centre] += skip.weight[:, :, 0]
        conv.bias += skip.bias
    return [conv, nn.ReLU(inplace=True)]


def fold_batchnorm(module):
    """A copy of ``module`` for inference, with every BatchNorm folded away.

    Parameters
    ----------
    module : FFNModule or DRNModule
        A trained network; it is not modified.

    Returns
    -------
    folded : torch.nn.Sequential
        Eval-mode network with the same input and output shapes.

    Examples
    --------
    >>> import torch
    >>> from sk_reseq.models._modules import DRNModule
    >>> from sk_reseq.models._inference import fold_batchnorm
    >>> net = DRNModule(2, 32, block_sizes=(3, 3), dilations=(1, 2), pool_size=8,
    ...                 final_size=2).eval()
    >>> x = torch.randn(4, 2, 32)
    >>> torch.allclose(fold_batchnorm(net)(x), net(x), atol=1e-5)
    True
    """
    was_training = module.training
    module.eval()
    try:
        layers = []
        if isinstance(module, FFNModule):
            for block in module.blocks:
                layers += _fold_standard(block)
        elif isinstance(module, DRNModule):
            if module.frontend is not None:
                layers += [module.frontend, module.norm]  # BN before a padded conv: kept
            for block in module.blocks:
                layers += _fold_residual(block)
            layers += [module.pool, nn.Flatten(1)]
            layers += _fold_standard(module.head)
        else:
            raise TypeError(f"cannot fold {type(module).__name__}; "
                            "expected FFNModule or DRNModule.")
        layers += [module.output, _Squeeze()]
        folded = nn.Sequential(*(copy.deepcopy(layer) for layer in layers)).eval()
    finally:
        module.train(was_training)
    for p in folded.parameters():
        p.requires_grad_(False)
    return folded


def _bf16_supported(device):
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        # Without native bf16 instructions oneDNN emulates them and runs
        # slower than float32, so only use it where the CPU has them.
        return bool(torch.backends.mkldnn.is_available()
                    and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def resolve_inference_dtype(name, device):
    """The torch dtype to predict with; bfloat16 falls back with a warning.

    Examples
    --------
    >>> import torch
    >>> from sk_reseq.models._inference import resolve_inference_dtype
    >>> resolve_inference_dtype("float32", torch.device("cpu"))
    torch.float32
    """
    if name == "float32":
        return torch.float32
    if _bf16_supported(device):
        return torch.bfloat16
    warnings.warn(
        f"inference_dtype='bfloat16' is not supported natively on {device}; "
        "predicting in float32 instead.", RuntimeWarning, stacklevel=3,
    )
    return torch.float32


def predict_batched(module, X, *, batch_size, device, dtype):
    """Run ``module`` on ``X`` in batches of ``batch_size``; float64 ``(n,)``.

    Memory stays bounded by one batch of activations whatever ``len(X)``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sk_reseq.models._inference import predict_batched
    >>> predict_batched(torch.nn.Flatten(0), np.ones((3, 1), np.float32),
    ...                 batch_size=2, device=torch.device("cpu"), dtype=torch.float32)
    array([1., 1., 1.])
    """
    out = np.empty(len(X), dtype=np.float64)
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            xb = X[start:start + batch_size]
            if not xb.flags.writeable:  # torch warns on read-only arrays
                xb = xb.copy()
            xb = torch.from_numpy(xb).to(device=device, dtype=dtype)
            out[start:start + len(xb)] = module(xb).float().cpu().numpy()
    return out
