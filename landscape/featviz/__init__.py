"""Gradient feature visualisation in pixel space (Olah et al. 2017; seed 002; lucid/lucent).

White-box reference for the gradient-free search in :mod:`landscape.optim`: it optimises the
image itself (through a Fourier, colour-decorrelated parameterisation and random transforms)
instead of a generator's latent code.

>>> from landscape import zoo, featviz
>>> model = zoo.load("resnet20-cifar10")
>>> obj = featviz.channel("layer3", 5) - 0.1 * featviz.diversity("layer3")
>>> images, history = featviz.render(model, obj, batch=2, steps=128)   # doctest: +SKIP
"""

from landscape.featviz.color import correlate_color, decorrelate_color
from landscape.featviz.hooks import layer_names, record_activations
from landscape.featviz.objectives import Objective, as_objective, channel, deepdream, diversity, neuron, unit
from landscape.featviz.output import write_rendering
from landscape.featviz.param import FourierImage, ImageParam, PixelImage, fft_frequencies, make_param, spectrum_scale
from landscape.featviz.render import evaluate, render
from landscape.featviz.transforms import Compose, Jitter, Pad, RandomRotate, RandomScale, default_transforms

__all__ = [
    "Compose", "FourierImage", "ImageParam", "Jitter", "Objective", "Pad", "PixelImage", "RandomRotate",
    "RandomScale", "as_objective", "channel", "correlate_color", "decorrelate_color", "deepdream",
    "default_transforms", "diversity", "evaluate", "fft_frequencies", "layer_names", "make_param", "neuron",
    "record_activations", "render", "spectrum_scale", "unit", "write_rendering",
]
