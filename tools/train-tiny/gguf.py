"""Minimal GGUF v3 writer and reader (little-endian).

Layout: magic "GGUF", uint32 version, uint64 tensor_count, uint64 kv_count, the KVs (string key, uint32
value type, value), the tensor infos (string name, uint32 n_dims, uint64 dims[n_dims] with ne0 first,
uint32 ggml type, uint64 offset relative to the data section), zero padding up to general.alignment,
then the tensor data, each tensor starting at a multiple of the alignment.
Strings are uint64 length + UTF-8 bytes; arrays are uint32 element type + uint64 count + elements.

numpy arrays are row-major, so a numpy shape (a, b) is stored with GGUF dims [b, a] and the same bytes:
a PyTorch Linear weight [out, in] becomes a GGUF tensor with ne0 = in, ne1 = out.
"""
import struct

import numpy as np

MAGIC = b"GGUF"
VERSION = 3
DEFAULT_ALIGNMENT = 32

UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)
SCALAR_FORMATS = {UINT8: "<B", INT8: "<b", UINT16: "<H", INT16: "<h", UINT32: "<I", INT32: "<i",
                  FLOAT32: "<f", BOOL: "<?", UINT64: "<Q", INT64: "<q", FLOAT64: "<d"}

GGML_F32, GGML_F16 = 0, 1
GGML_DTYPES = {GGML_F32: np.dtype("<f4"), GGML_F16: np.dtype("<f2")}


def _string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(vtype, value):
    if vtype == STRING:
        return _string(value)
    return struct.pack(SCALAR_FORMATS[vtype], value)


class Writer:
    def __init__(self, alignment=DEFAULT_ALIGNMENT):
        self.alignment = alignment
        self.kvs = []  # (key, encoded type+value)
        self.tensors = []  # (name, numpy array, ggml type)

    def add(self, key, vtype, value):
        if vtype == ARRAY:
            raise ValueError("use add_array for arrays")
        self.kvs.append((key, struct.pack("<I", vtype) + _value(vtype, value)))

    def add_array(self, key, elem_type, values):
        body = b"".join(_value(elem_type, v) for v in values)
        self.kvs.append((key, struct.pack("<IIQ", ARRAY, elem_type, len(values)) + body))

    def add_tensor(self, name, array, ggml_type):
        self.tensors.append((name, np.ascontiguousarray(array, dtype=GGML_DTYPES[ggml_type]), ggml_type))

    def _pad(self, n):
        return (-n) % self.alignment

    def write(self, path):
        keys = [k for k, _ in self.kvs]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate GGUF keys")
        infos, offset = [], 0
        for name, arr, ggml_type in self.tensors:
            dims = arr.shape[::-1]
            infos.append(_string(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims)
                         + struct.pack("<IQ", ggml_type, offset))
            offset += arr.nbytes + self._pad(arr.nbytes)
        head = MAGIC + struct.pack("<IQQ", VERSION, len(self.tensors), len(self.kvs))
        head += b"".join(_string(k) + v for k, v in self.kvs) + b"".join(infos)
        with open(path, "wb") as f:
            f.write(head + b"\0" * self._pad(len(head)))
            for _, arr, _ in self.tensors:
                f.write(arr.tobytes())
                f.write(b"\0" * self._pad(arr.nbytes))


class Reader:
    """Reads a whole GGUF file: .kv maps key -> value (arrays as lists), .tensors maps name -> numpy array
    (shape = GGUF dims reversed, dtype as stored), .types maps name -> ggml type."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        self.pos = 0
        if self.data[:4] != MAGIC:
            raise ValueError(f"{path}: not a GGUF file")
        self.pos = 4
        version, n_tensors, n_kv = self._unpack("<IQQ")
        if version != VERSION:
            raise ValueError(f"{path}: GGUF version {version}, expected {VERSION}")
        self.kv = {}
        for _ in range(n_kv):
            key = self._string()
            (vtype,) = self._unpack("<I")
            self.kv[key] = self._read_value(vtype)
        infos = []
        for _ in range(n_tensors):
            name = self._string()
            (n_dims,) = self._unpack("<I")
            dims = self._unpack(f"<{n_dims}Q")
            ggml_type, offset = self._unpack("<IQ")
            infos.append((name, dims, ggml_type, offset))
        alignment = self.kv.get("general.alignment", DEFAULT_ALIGNMENT)
        data_start = self.pos + (-self.pos) % alignment
        self.tensors, self.types = {}, {}
        for name, dims, ggml_type, offset in infos:
            if offset % alignment:
                raise ValueError(f"tensor {name} offset {offset} not aligned to {alignment}")
            dtype = GGML_DTYPES[ggml_type]
            count = int(np.prod(dims))
            arr = np.frombuffer(self.data, dtype=dtype, count=count, offset=data_start + offset)
            self.tensors[name] = arr.reshape(tuple(reversed(dims)))
            self.types[name] = ggml_type

    def _unpack(self, fmt):
        vals = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return vals

    def _string(self):
        (n,) = self._unpack("<Q")
        s = self.data[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def _read_value(self, vtype):
        if vtype == STRING:
            return self._string()
        if vtype == ARRAY:
            elem_type, count = self._unpack("<IQ")
            return [self._read_value(elem_type) for _ in range(count)]
        (v,) = self._unpack(SCALAR_FORMATS[vtype])
        return v
