"""Torch plumbing shared by every model: MLPs, conv encoders and decoders, residual conv blocks, a set
transformer, the training loop (data-parallel over processes too), checkpoints, devices."""

from likely.nn.backbone import build_decoder, build_encoder, init_output_level
from likely.nn.blocks import ConvLayer, ResidualBlock, SpatialConditioning, UpConvLayer, center_crop
from likely.nn.checkpoint import load_safely, save_atomic
from likely.nn.conv import ConvDecoder, ConvEncoder, spectral_normalized
from likely.nn.device import resolve_device, seeded, to_numpy, to_tensor
from likely.nn.distributed import data_parallel
from likely.nn.mlp import MLP
from likely.nn.progress import batch_slices, progress_bar, set_progress_bars
from likely.nn.sets import SetTransformer, apply_to_sets, set_inputs, set_scales
from likely.nn.trainer import History, Trainer

__all__ = [
    "MLP",
    "ConvDecoder",
    "ConvEncoder",
    "ConvLayer",
    "History",
    "ResidualBlock",
    "SetTransformer",
    "SpatialConditioning",
    "Trainer",
    "UpConvLayer",
    "apply_to_sets",
    "batch_slices",
    "build_decoder",
    "build_encoder",
    "center_crop",
    "data_parallel",
    "init_output_level",
    "load_safely",
    "progress_bar",
    "resolve_device",
    "save_atomic",
    "seeded",
    "set_inputs",
    "set_progress_bars",
    "set_scales",
    "spectral_normalized",
    "to_numpy",
    "to_tensor",
]
