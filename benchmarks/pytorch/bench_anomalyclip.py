"""PyTorch side of `clipad bench anomalyclip`: the published AnomalyCLIP inference (DPAM on the last 19 of 24 vision
blocks, V-V path without MLP, layer-24 map, bilinear upsampling, scipy Gaussian sigma 4) on a random-weight
open_clip ViT-L-14-336 at 518 px, same thread count. Written from the algorithm's description (see
Sources/AnomalyCLIP and tools/fixtures/make_anomalyclip_fixtures.py, whose references come from the official code).

    python benchmarks/pytorch/bench_anomalyclip.py --threads 2 --runs 3
"""
import argparse
import statistics
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image-size", type=int, default=518)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
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

    once()
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        once()
        times.append(time.perf_counter() - start)
    print(f"pytorch anomalyclip inference ViT-L-14-336 @{s} (DPAM 19 blocks, layer 24): median "
          f"{statistics.median(times):.3f} s/image ({args.runs} runs, torch threads {torch.get_num_threads()})")


if __name__ == "__main__":
    main()
