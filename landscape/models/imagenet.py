"""ImageNet classifiers in torchvision's state-dict layout, so its published weights load without torchvision.

AlexNet and VGG16 come from :mod:`geometry.trunks` (LPIPS uses the same trunks); ResNet-50
(He et al. 2016, torchvision's v1.5 variant with the stride in the 3x3 convolution) is here.
"""

from __future__ import annotations

import torch
from torch import nn

#: published parameter counts, checked by the tests
PARAMETERS = {"alexnet": 61_100_840, "vgg16": 138_357_544, "resnet50": 25_557_032}


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + idt)


class ResNet50(nn.Module):
    """torchvision's ResNet-50: (B, 3, 224, 224) ImageNet-normalised -> (B, 1000) logits."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self._in = 64
        self.layer1 = self._stage(64, 3, 1)
        self.layer2 = self._stage(128, 4, 2)
        self.layer3 = self._stage(256, 6, 2)
        self.layer4 = self._stage(512, 3, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, num_classes)

    def _stage(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        down = None
        if stride != 1 or self._in != planes * 4:
            down = nn.Sequential(nn.Conv2d(self._in, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))
        layers = [Bottleneck(self._in, planes, stride, down)]
        self._in = planes * 4
        layers += [Bottleneck(self._in, planes) for _ in range(blocks - 1)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def build_imagenet_classifier(arch: str) -> nn.Module:
    """An untrained classifier of ``arch`` ("alexnet", "vgg16", "resnet50") in torchvision's key layout."""
    from geometry.trunks import VGG16, AlexNet

    builders = {"alexnet": AlexNet, "vgg16": VGG16, "resnet50": ResNet50}
    if arch not in builders:
        raise ValueError(f"unknown ImageNet architecture {arch!r}; valid: {', '.join(builders)}")
    return builders[arch]()
