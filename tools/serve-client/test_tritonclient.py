#!/usr/bin/env python3
"""Calls a running `clipad serve` with tritonclient.http, unchanged (binary tensors, as tritonclient sends by default).

usage: test_tritonclient.py PORT MODEL IMAGE.png EXPECTED_SCORE MAP_SIDE
Exits 0 when the server is live, the metadata names the inputs/outputs, and the score equals EXPECTED_SCORE
(float32-exact; the value is given as printed from a float32 with full precision).
"""
import sys

import numpy as np
import tritonclient.http as httpclient


def main() -> int:
    port, model, image, expected, side = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
    client = httpclient.InferenceServerClient(f"127.0.0.1:{port}")
    assert client.is_server_live(), "server not live"
    assert client.is_model_ready(model), f"model {model} not ready"
    meta = client.get_model_metadata(model)
    assert meta["inputs"][0]["name"] == "image" and meta["inputs"][0]["datatype"] == "BYTES", meta
    assert [o["name"] for o in meta["outputs"]][0] == "score", meta

    with open(image, "rb") as f:
        png = f.read()
    inp = httpclient.InferInput("image", [1], "BYTES")
    inp.set_data_from_numpy(np.array([png], dtype=np.object_))  # binary_data=True by default
    result = client.infer(model, [inp], request_id="py-1")
    score = result.as_numpy("score")
    amap = result.as_numpy("anomaly_map")
    assert score.dtype == np.float32 and score.shape == (1,), (score.dtype, score.shape)
    assert amap.shape == (1, side, side), amap.shape
    assert np.float32(score[0]) == np.float32(expected), f"score {score[0]!r} != expected {expected!r}"

    # JSON outputs too (binary_data=False for the output).
    out = httpclient.InferRequestedOutput("score", binary_data=False)
    result = client.infer(model, [inp], outputs=[out])
    assert np.float32(result.as_numpy("score")[0]) == np.float32(expected)
    print(f"tritonclient ok: score {float(score[0])!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
