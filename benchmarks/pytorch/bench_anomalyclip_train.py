"""PyTorch side of `clipad bench anomalyclip`'s training step: the OFFICIAL AnomalyCLIP code (prompt learner,
`encode_text_learn` with deep prompts, `compute_similarity` / `get_similarity_map`, `FocalLoss`, `BinaryDiceLoss`,
Adam(0.5, 0.999)) on cached image features, as `clipad bench anomalyclip` measures it: batch 8, one feature layer,
518 px masks, ViT-L-14-336's text tower (width 768, 12 blocks), n_ctx 12, deep prompts depth 9 x 4 tokens,
random weights, same thread count. The step body is `training_loss` of tools/fixtures/make_anomalyclip_fixtures.py
(train.py restated) with the image encoder replaced by the cached features.

Export the official code first (see tools/fixtures/make_anomalyclip_fixtures.py), then:
    python benchmarks/pytorch/bench_anomalyclip_train.py --official /tmp/anomalyclip-official --threads 2 --runs 3
"""
import argparse
import pathlib
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--official", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--image-size", type=int, default=518)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tools/fixtures"))
    import make_anomalyclip_fixtures as fx
    fx.install_shims(pathlib.Path(args.official).resolve())
    import AnomalyCLIP_lib as lib
    from AnomalyCLIP_lib.AnomalyCLIP import AnomalyCLIP
    from prompt_ensemble import AnomalyCLIP_PromptLearner
    from loss import FocalLoss, BinaryDiceLoss

    design = {"Prompt_length": 12, "learnabel_text_embedding_depth": 9, "learnabel_text_embedding_length": 4}
    model = AnomalyCLIP(768, 336, 24, 1024, 14, 77, 49408, 768, 12, 12, design_details=design).float().eval()
    prompt_learner = AnomalyCLIP_PromptLearner(model, design)
    optimizer = torch.optim.Adam(list(prompt_learner.parameters()), lr=1e-3, betas=(0.5, 0.999))
    focal, dice = FocalLoss(), BinaryDiceLoss()

    g = torch.Generator().manual_seed(3)
    b, s, grid = args.batch, args.image_size, args.image_size // 14
    image_features = F.normalize(torch.randn(b, 768, generator=g), dim=-1)
    patch_features = F.normalize(torch.randn(b, grid * grid + 1, 768, generator=g), dim=-1)
    masks = (torch.arange(s * s).reshape(s, s) % 7 == 0).float().expand(b, s, s).contiguous()
    labels = torch.tensor([i % 2 for i in range(b)])

    def step():
        optimizer.zero_grad()
        text_features = fx.text_features_official(model, prompt_learner)
        probs = (image_features.unsqueeze(1) @ text_features.permute(0, 2, 1))[:, 0, ...] / 0.07
        image_loss = F.cross_entropy(probs.squeeze(), labels.long())
        similarity, _ = lib.compute_similarity(patch_features, text_features[0])
        m = lib.get_similarity_map(similarity[:, 1:, :], s).permute(0, 3, 1, 2)
        loss = fx.LAMBDA * (focal(m, masks) + dice(m[:, 1, :, :], masks) + dice(m[:, 0, :, :], 1 - masks))
        (loss + image_loss).backward()
        optimizer.step()

    step()
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    print(f"pytorch anomalyclip training step (official code, batch {b}, cached features, {s} px masks): "
          f"median {statistics.median(times):.3f} s/step (threads {torch.get_num_threads()}, {args.runs} runs)")


if __name__ == "__main__":
    main()
