#!/usr/bin/env python3
"""Writes FuzzTesting/Corpus/<Harness>/: small valid inputs (copies of test fixtures) plus the issue-13
reproducers that fit each harness. Standard library only; deterministic output."""
import json
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "FuzzTesting" / "Corpus"


def out(harness, name, data):
    d = CORPUS / harness
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def copy(harness, fixture):
    src = ROOT / fixture
    out(harness, src.name, src.read_bytes())


# MARK: safetensors
def safetensors(header, data=b""):
    raw = json.dumps(header, separators=(",", ":")).encode() if not isinstance(header, bytes) else header
    return struct.pack("<Q", len(raw)) + raw + data


for f in ["st_f32", "st_f16", "st_bf16", "st_f64", "st_ints"]:
    copy("FuzzSafetensors", f"Tests/CheckpointTests/Fixtures/{f}.safetensors")
out("FuzzSafetensors", "huge-length.safetensors", struct.pack("<Q", 2**64 - 1) + b"{}")
out("FuzzSafetensors", "negative-dim.safetensors",
    safetensors({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, bytes(8)))
out("FuzzSafetensors", "broadcast.safetensors",
    safetensors({"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 8]}}, bytes(8)))
# many tiny entries (the 1.35M-entry reproducer, cut to 300 so the seed stays small)
out("FuzzSafetensors", "many-entries.safetensors",
    safetensors({f"t{i}": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for i in range(300)}))
out("FuzzSafetensors", "metadata.safetensors",
    safetensors({"__metadata__": {"format": "pt", "k": "v,:{"}, "w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}, bytes(4)))


# MARK: torch zip archives
def torch_zip(pickle, entries=()):
    import io
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in [("a/data.pkl", pickle), *entries]:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data)
    return buf.getvalue()


for f in ["torch_plain", "torch_nested", "torch_shared", "torchscript", "evil", "deflated", "legacy"]:
    copy("FuzzTorchArchive", f"Tests/CheckpointTests/Fixtures/{f}.pt")
PROTO = b"\x80\x02"
# 65-byte pickle: () then DUP + TUPLE2 thirty times (a DAG with 2^30 paths)
shared = PROTO + b")" + b"2\x86" * 30 + b"."
out("FuzzTorchArchive", "shared-tuples.pt", torch_zip(shared))
out("FuzzTorchArchive", "shared-ints.pt", torch_zip(PROTO + b"K\x07" + b"2\x86" * 30 + b"."))
out("FuzzTorchArchive", "forbidden-global.pt", torch_zip(PROTO + b"cbuiltins\neval\n(X\x01\x00\x00\x001tR."))
crc = bytearray(torch_zip(PROTO + b"}."))
central = crc.rfind(b"PK\x01\x02")
crc[central + 16] ^= 0xFF  # CRC-32 field of the only central directory entry
out("FuzzTorchArchive", "bad-crc.pt", bytes(crc))


# MARK: images
def png(width, height, color_type, depth, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


for f in ["gray1.png", "gray8.png", "gray16.png", "la8.png", "palette4.png", "rgb8_trns.png", "rgba16.png",
          "gray.jpg", "rgb420.jpg", "rgb420_progressive.jpg", "cmyk.jpg"]:
    copy("FuzzImageDecode", f"Tests/ImageIOTests/Fixtures/{f}")
for f in ["huge.png", "truncated.jpg", "random.png"]:
    copy("FuzzImageDecode", f"Tests/ImageIOTests/Fixtures/corrupt/{f}")
# 1 x 29999 gray strip: decodes fine, but a shortest-side resize to 224 would be 224 x 6719776
out("FuzzImageDecode", "strip-1x29999.png", png(1, 29999, 0, 8, b"\x00\x00" * 29999))

# MARK: dataset lists
lists = {
    "basic.csv": "image,label,mask,class,split\nlist.csv,1,,bottle,test\nlist.jsonl,good,,bottle,test\n",
    "quoted.csv": 'image,label\n"a,b.png","anomaly"\r\n"say ""hi"".png",0\n',
    "unterminated.csv": 'image,label\n"never closed,1\n',
    "basic.jsonl": '{"image": "list.csv", "label": 1, "class": "x"}\n{"image": "list.jsonl", "label": "good"}\n',
    "bad.jsonl": '{"image": ["nested"], "label": 1}\n',
}
for name, text in lists.items():
    out("FuzzDatasetList", name, text.encode())
print("wrote", sum(1 for _ in CORPUS.rglob("*") if _.is_file()), "files under", CORPUS)
