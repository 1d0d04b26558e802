"""PyTorch side of `clipad bench anomalyclip`: the published AnomalyCLIP inference (DPAM on the last 19 of 24 vision
blocks, V-V path without MLP, layer-24 map, bilinear upsampling, scipy Gaussian sigma 4) on a random-weight
open_clip ViT-L-14-336 at 518 px, same thread count. Written from the algorithm's description (see
Sources/AnomalyCLIP and tools/fixtures/make_anomalyclip_fixtures.py, whose references come from the official code).

    python benchmarks/pytorch/bench_anomalyclip.py --threads 2 --runs 3

With `--official DIR` it times the OFFICIAL AnomalyCLIP code instead (`AnomalyCLIP_lib`: `DAPM_replace(DPAM_layer=20)`,
`encode_image(image, [24], DPAM_layer=20)`, `compute_similarity`, `get_similarity_map`, then the same Gaussian), as
test.py runs it per image; export the official tree first (see tools/fixtures/make_anomalyclip_fixtures.py).
"""
import argparse
import pathlib
import statistics
import sys
import time

import open_clip
import scipy.ndimage
import torch
import torch.nn.functional as F


def heads_split(t, heads):
    n, d = t.shape[1], t.shape[2]
    return t.reshape(t.shape[0], n, heads, d // heads).transpose(1, 2)


def dpam_forward(visual, images, dpam_blocks, layer):
    x = visual.conv1(images).flatten(2).transpose(1, 2)
    cls = visual.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
    x = visual.ln_pre(torch.cat([cls, x], 1) + visual.positional_embedding)
    blocks = visual.transformer.resblocks
    first = len(blocks) - dpam_blocks
    vv = None
    for i, blk in enumerate(blocks):
        if i < first:
            x = blk(x)
            continue
        attn = blk.attn
        y = blk.ln_1(x)
        q, k, v = F.linear(y, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
        h = attn.num_heads
        q, k, v = heads_split(q, h), heads_split(k, h), heads_split(v, h)
        ori = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)
        vvo = F.scaled_dot_product_attention(v, v, v).transpose(1, 2).flatten(2)
        ori = attn.out_proj(ori)
        vvo = attn.out_proj(vvo)
        vv = (x if vv is None else vv) + vvo
        x = x + ori
        x = x + blk.mlp(blk.ln_2(x))
        if i + 1 == layer:
            tokens = vv
    global_feature = x[:, 0] @ visual.proj
    patches = visual.ln_post(tokens) @ visual.proj
    return global_feature, patches


def official_pipeline(official, image_size):
    """test.py's per-image body (one feature layer, 24) on a random-weight official ViT-L-14-336 at `image_size`."""
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tools/fixtures"))
    import make_anomalyclip_fixtures as fx
    fx.install_shims(pathlib.Path(official).resolve())
    import AnomalyCLIP_lib as lib
    from AnomalyCLIP_lib.AnomalyCLIP import AnomalyCLIP

    design = {"Prompt_length": 12, "learnabel_text_embedding_depth": 9, "learnabel_text_embedding_length": 4}
    model = AnomalyCLIP(768, 336, 24, 1024, 14, 77, 49408, 768, 12, 12, design_details=design).float().eval()
    with torch.no_grad():  # every parameter finite and small (some official modules are left uninitialised)
        for name, p in model.named_parameters():
            p.copy_(torch.ones_like(p) if name.endswith(("ln_1.weight", "ln_2.weight", "ln_pre.weight",
                                                         "ln_post.weight")) else 0.02 * torch.randn_like(p))
    model.visual.DAPM_replace(DPAM_layer=20)
    text_features = F.normalize(torch.randn(1, 2, 768), dim=-1)
    image = torch.randn(1, 3, image_size, image_size)

    def once():
        with torch.no_grad():
            image_features, patch_features = model.encode_image(image, [24], DPAM_layer=20)
            image_features = image_features / image_features.norm(dim=-1, keepdim=True)
            score = (image_features @ text_features.permute(0, 2, 1) / 0.07).softmax(-1)[:, 0, 1]
            pf = patch_features[0] / patch_features[0].norm(dim=-1, keepdim=True)
            similarity, _ = lib.compute_similarity(pf, text_features[0])
            sm = lib.get_similarity_map(similarity[:, 1:, :], image_size)
            amap = (sm[..., 1] + 1 - sm[..., 0]) / 2.0
            return score, scipy.ndimage.gaussian_filter(amap[0].numpy(), sigma=4)

    return once


def median_seconds(once, runs):
    """One warm-up call, then the median wall time of `runs` calls."""
    once()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        once()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image-size", type=int, default=518)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--official", help="exported official AnomalyCLIP tree: time its code instead")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.official:
        median = median_seconds(official_pipeline(args.official, args.image_size), args.runs)
        print(f"pytorch OFFICIAL anomalyclip inference ViT-L-14-336 @{args.image_size} (DPAM_layer 20, layer 24): "
              f"median {median:.3f} s/image ({args.runs} runs, torch threads {torch.get_num_threads()})")
        return
    model = open_clip.create_model("ViT-L-14-336", pretrained=None, force_image_size=args.image_size).eval()
    text = F.normalize(torch.randn(2, model.visual.output_dim), dim=-1)
    image = torch.randn(1, 3, args.image_size, args.image_size)
    s = args.image_size

    def once():
        with torch.inference_mode():
            g, p = dpam_forward(model.visual, image, 19, 24)
            g = F.normalize(g, dim=-1)
            score = ((g @ text.t()) / 0.07).softmax(-1)[:, 1]
            p = F.normalize(p[:, 1:], dim=-1)
            probs = ((p @ text.t()) / 0.07).softmax(-1)
            side = int(probs.shape[1] ** 0.5)
            probs = probs.reshape(1, side, side, 2).permute(0, 3, 1, 2)
            up = F.interpolate(probs, (s, s), mode="bilinear", align_corners=False)
            amap = (up[:, 1] + 1 - up[:, 0]) / 2
            return score, scipy.ndimage.gaussian_filter(amap[0].numpy(), sigma=4)

    print(f"pytorch anomalyclip inference ViT-L-14-336 @{s} (DPAM 19 blocks, layer 24): median "
          f"{median_seconds(once, args.runs):.3f} s/image ({args.runs} runs, torch threads {torch.get_num_threads()})")


if __name__ == "__main__":
    main()
