"""A Go-style prefix becomes the configured Python package; descriptors keep the import path."""

from __future__ import annotations

import pickle

from app_gen.containerd.types import descriptor_pb2
from app_gen.myapp.v1 import image_pb2


def main() -> None:
    image = image_pb2.Image(name="i", target=descriptor_pb2.Descriptor(digest="sha256:00", size=1))
    assert pickle.loads(pickle.dumps(image)) == image
    assert type(image.target).__module__ == "app_gen.containerd.types.descriptor_pb2"
    expected = "github.com/containerd/containerd/api/types/descriptor.proto"
    assert descriptor_pb2.DESCRIPTOR.name == expected
    assert next(iter(image_pb2.DESCRIPTOR.dependencies)).name == expected
    print("prefixed: ok")


if __name__ == "__main__":
    main()
