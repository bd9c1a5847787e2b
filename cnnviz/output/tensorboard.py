"""Snapshots to TensorBoard (the optional ``tensorboard`` package, no deep-learning framework needed):
each figure as an image and its numbers as scalars, stepped by epoch."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..errors import CnnvizError
from .files import check_folder, encode_png

INSTALL = "pip install 'cnnviz[tensorboard]'"


class TensorBoardLog:
    """An event file in ``folder`` that TensorBoard's Images and Scalars tabs read."""

    def __init__(self, folder: str | Path):
        try:
            from tensorboard.compat.proto.event_pb2 import Event
            from tensorboard.compat.proto.summary_pb2 import Summary
            from tensorboard.summary.writer.event_file_writer import EventFileWriter
        except ImportError:
            raise CnnvizError(f"tensorboard_dir= needs the tensorboard package, which is not installed; {INSTALL} "
                              f"(or drop tensorboard_dir)") from None
        self._event, self._summary = Event, Summary
        self.folder = check_folder(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._writer = EventFileWriter(str(self.folder))

    def add(self, step: int, images: dict[str, np.ndarray], scalars: dict[str, float]) -> None:
        """One event: every image (PNG-encoded) and scalar under its tag, at ``step``."""
        values = []
        for tag, image in images.items():
            png = encode_png(image)
            h, w = image.shape[:2]
            channels = 1 if image.ndim == 2 else int(image.shape[-1])
            values.append(self._summary.Value(tag=tag, image=self._summary.Image(
                height=int(h), width=int(w), colorspace=channels, encoded_image_string=png)))
        values += [self._summary.Value(tag=tag, simple_value=float(v)) for tag, v in scalars.items()]
        self._writer.add_event(self._event(wall_time=time.time(), step=int(step), summary=self._summary(value=values)))
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
