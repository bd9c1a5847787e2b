"""Read a PyTorch checkpoint (``.pth``) into numpy arrays without PyTorch.

Two on-disk formats exist. The *zip* format (PyTorch >= 1.6) is a zip archive holding ``data.pkl``
and one raw file per storage (``data/<key>``). The *legacy* format is a stream: three small pickles
(magic number, protocol version, system info), the pickled object, a pickled list of storage keys,
then each storage as an int64 element count followed by its raw little-endian bytes. In both, the
object pickle refers to storages by persistent id and builds tensors with
``torch._utils._rebuild_tensor_v2``; only those names (and ``collections.OrderedDict``) are
allowed, so a checkpoint cannot run code.
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

from ..errors import CnnvizError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

#: torch storage class name -> numpy dtype (little-endian, as PyTorch writes them).
STORAGE_DTYPES = {
    "FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2", "LongStorage": "<i8",
    "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1", "BoolStorage": "?",
}


class _StorageType:
    def __init__(self, name: str):
        self.dtype = np.dtype(STORAGE_DTYPES[name])


class _Storage:
    """A storage named by the pickle; its data arrive later (legacy) or from the archive (zip)."""

    def __init__(self, dtype: np.dtype, key: str, numel: int):
        self.dtype, self.key, self.numel = dtype, key, numel
        self.data: np.ndarray | None = None


class _Tensor:
    def __init__(self, storage: _Storage, offset: int, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, int(offset), tuple(size), tuple(stride)

    def array(self) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise CnnvizError(f"storage {self.storage.key!r} has no data")
        if not self.size:
            return np.array(data[self.offset]).copy()
        needed = self.offset + 1 + sum((n - 1) * s for n, s in zip(self.size, self.stride))
        if needed > data.size:
            raise CnnvizError(f"a tensor reaches past the end of storage {self.storage.key!r}")
        base = data[self.offset:]
        item = base.itemsize
        view = np.lib.stride_tricks.as_strided(base, self.size, [s * item for s in self.stride])
        return np.array(view, copy=True)


def _rebuild_tensor(storage, offset, size, stride, *_):
    return _Tensor(storage, offset, size, stride)


def _rebuild_parameter(data, *_):
    return data


class _Unpickler(pickle.Unpickler):
    def __init__(self, fh, storages: dict[str, _Storage]):
        super().__init__(fh)
        self.storages = storages

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"the checkpoint refers to {module}.{name}, which a weights file does not need")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r:.60}")
        _, kind, key, _location, numel = pid[:5]
        key = str(key)
        if key not in self.storages:
            self.storages[key] = _Storage(kind.dtype, key, int(numel))
        return self.storages[key]


def _materialise(obj):
    if isinstance(obj, _Tensor):
        return obj.array()
    if isinstance(obj, dict):
        return collections.OrderedDict((k, _materialise(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialise(v) for v in obj)
    return obj


def _read_legacy(fh) -> object:
    storages: dict[str, _Storage] = {}
    if pickle.load(fh) != LEGACY_MAGIC:
        raise CnnvizError("not a PyTorch checkpoint (wrong magic number)")
    pickle.load(fh)  # protocol version
    pickle.load(fh)  # system info (endianness, type sizes)
    obj = _Unpickler(fh, storages).load()
    keys = pickle.load(fh)
    for key in keys:
        storage = storages.get(str(key))
        if storage is None:
            raise CnnvizError(f"storage {key!r} is listed but never used")
        count = int(np.frombuffer(fh.read(8), "<i8")[0])
        raw = fh.read(count * storage.dtype.itemsize)
        if len(raw) != count * storage.dtype.itemsize:
            raise CnnvizError("the checkpoint is truncated")
        storage.data = np.frombuffer(raw, storage.dtype)
    return obj


def _read_zip(path: Path) -> object:
    storages: dict[str, _Storage] = {}
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if not pkl:
            raise CnnvizError("zip archive without data.pkl")
        root = pkl[0][: -len("data.pkl")]
        obj = _Unpickler(io.BytesIO(archive.read(pkl[0])), storages).load()
        for key, storage in storages.items():
            raw = archive.read(f"{root}data/{key}")
            storage.data = np.frombuffer(raw, storage.dtype)
    return obj


def read_checkpoint(path: str | Path) -> object:
    """The object pickled in a ``.pth`` file (usually a state dict), tensors as numpy arrays."""
    p = Path(path)
    if not p.is_file():
        raise CnnvizError(f"checkpoint {str(p)!r} does not exist")
    try:
        if zipfile.is_zipfile(p):
            obj = _read_zip(p)
        else:
            with open(p, "rb") as fh:
                obj = _read_legacy(fh)
        return _materialise(obj)
    except CnnvizError as exc:
        raise CnnvizError(f"cannot read {str(p)!r} as a PyTorch checkpoint: {exc}") from None
    except (pickle.UnpicklingError, EOFError, KeyError, ValueError, TypeError, IndexError, AttributeError,
            zipfile.BadZipFile, OSError) as exc:
        raise CnnvizError(f"cannot read {str(p)!r} as a PyTorch checkpoint: {exc}") from None


def state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """A checkpoint's ``{name: array}`` state dict (also when it is wrapped as ``{"state_dict": ...}``)."""
    obj = read_checkpoint(path)
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, np.ndarray) for v in obj.values()):
        raise CnnvizError(f"{str(path)!r} holds no state dict of tensors")
    return dict(obj)
