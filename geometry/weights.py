"""The published weight files geometry reads, their sha256 digests, and the check every load makes.

``geometry`` imports nothing from ``landscape``, so it keeps its own small table rather than
going through the zoo; the rule is the zoo's: a file is hashed every time it is loaded, and
one that does not match its published digest is refused with an error naming the file, both
digests and where to download it again.

=================================  ==================================================================
file                               sha256 (published by)
=================================  ==================================================================
alexnet-owt-7be5be79.pth           7be5be79... (torchvision: the prefix in the file name)
vgg16-397923af.pth                 397923af... (torchvision)
squeezenet1_1-b8a52dc0.pth         b8a52dc0... (torchvision)
lpips-v0.1/alex.pth                df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0
lpips-v0.1/vgg.pth                 a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868
lpips-v0.1/squeeze.pth             4a5350f23600cb79923ce65bb07cbf57dca461329894153e05a1346bd531cf76
=================================  ==================================================================

torchvision publishes only the first 8 hex digits (its own ``check_hash`` compares those).
The LPIPS v0.1 digests are of the files in the ``lpips`` wheel (``lpips/weights/v0.1/``),
which are those of ``richzhang/PerceptualSimilarity``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

#: key -> published sha256 (full digest or published prefix)
PUBLISHED_SHA256 = {
    "alexnet-owt-7be5be79.pth": "7be5be79",
    "vgg16-397923af.pth": "397923af",
    "squeezenet1_1-b8a52dc0.pth": "b8a52dc0",
    "lpips-v0.1/alex.pth": "df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0",
    "lpips-v0.1/vgg.pth": "a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868",
    "lpips-v0.1/squeeze.pth": "4a5350f23600cb79923ce65bb07cbf57dca461329894153e05a1346bd531cf76",
}


class WeightFileError(ValueError):
    """A weight file is not the published one (damaged, truncated, or another file)."""


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB pieces."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_weight_file(path: str | os.PathLike, key: str, url: str) -> Path:
    """Return ``path`` if its sha256 is the published digest of ``key``; raise otherwise.

    Parameters
    ----------
    path : the file to check
    key : a key of :data:`PUBLISHED_SHA256`
    url : where the file is published (named in the error)

    Raises
    ------
    WeightFileError
        naming the file, its digest, the expected one and ``url``.
    """
    expected = PUBLISHED_SHA256[key]
    digest = sha256_of(path)
    if not digest.startswith(expected):
        raise WeightFileError(
            f"{path} has sha256 {digest}, but the published {key} has sha256 {expected}"
            f"{'...' if len(expected) < 64 else ''}: the file is damaged or not the published one. Download it "
            f"again from {url}; for weights of your own, load the state dict and pass it instead of the path")
    return Path(path)
