"""PyTorch side of `clipad bench promptad`: the OFFICIAL PromptAD code (CLIPAD V2V vision tower, PromptLearner,
PromptAD scoring; the train_cls.py / train_seg.py step restated as in tools/fixtures/make_promptad_fixtures.py) on a
random-weight ViT-B-16-plus-240 in float32 on the CPU, same thread count, class "bottle" (11 anomaly states).

Measures: fitting on k shots (both prompt learners, SGD + cosine, one step per epoch), once with the image features
encoded once (as ClipAD does) and once re-encoding the shots every epoch (as the official loop does); and
predict s/image (the official forward for 'seg' and 'cls' on one image, maps at --map-size).

Export the official code first (see tools/fixtures/make_promptad_fixtures.py), then:
    python benchmarks/pytorch/bench_promptad.py --official /tmp/promptad-official --threads 2 --epochs 100
"""
import argparse
import pathlib
import statistics
import sys
import time
import warnings

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--official", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--shots", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--reencode-epochs", type=int, default=5, help="epochs timed with per-epoch re-encoding (official loop)")
    ap.add_argument("--map-size", type=int, default=240)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    sys.path.insert(0, str(pathlib.Path(args.official).resolve()))
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tools/fixtures"))
    import make_promptad_fixtures as fx
    from PromptAD import CLIPAD, PromptLearner
    from PromptAD.model import PromptAD as PromptADClass

    cfg = CLIPAD.get_model_config("ViT-B-16-plus-240")
    clip = CLIPAD.model.CLIP(cfg["embed_dim"], CLIPAD.model.CLIPVisionCfg(**cfg["vision_cfg"]),
                             CLIPAD.model.CLIPTextCfg(**cfg["text_cfg"]), quick_gelu=False).eval()
    with torch.no_grad():
        clip.logit_scale.fill_(4.6052)
    gen = torch.Generator().manual_seed(3)
    images = torch.randn(args.shots, 3, 240, 240, generator=gen)
    fx.MAP_SIZE = args.map_size
    cls = fx.make_prompt_ad(PromptADClass, PromptLearner, clip, 3, args.shots, gen, 0.02)
    seg = fx.make_prompt_ad(PromptADClass, PromptLearner, clip, 1, args.shots, gen, 0.02)

    def fit(epochs, reencode):
        start = time.perf_counter()
        with torch.no_grad():
            g, t, m1, m2 = cls.encode_image(images)
            for obj in (cls, seg):
                obj.build_image_feature_gallery(m1, m2)
        for tag, obj in (("cls", cls), ("seg", seg)):
            opt = torch.optim.SGD(obj.prompt_learner.parameters(), lr=fx.LR, momentum=fx.MOMENTUM, weight_decay=fx.WEIGHT_DECAY)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=fx.ETA_MIN)
            for _ in range(epochs):
                if reencode:
                    with torch.no_grad():
                        g, t, _, _ = obj.encode_image(images)
                opt.zero_grad()
                total, _ = fx.restated_loss(obj, g if tag == "cls" else t, tag)
                total.backward()
                opt.step()
                sched.step()
            with torch.no_grad():
                obj.build_text_feature_gallery()
        return time.perf_counter() - start

    cached = fit(args.epochs, reencode=False)
    print(f"pytorch promptad fit ViT-B-16-plus-240 ({args.shots} shots, {args.epochs} epochs x 2 tasks, features encoded once): "
          f"{cached:.2f} s  (threads {torch.get_num_threads()})")
    official = fit(args.reencode_epochs, reencode=True)
    print(f"pytorch promptad fit as the official loop runs it (shots re-encoded every epoch): {official / (2 * args.reencode_epochs):.3f} s/epoch "
          f"-> {official / (2 * args.reencode_epochs) * 2 * args.epochs:.1f} s for {args.epochs} epochs x 2 tasks (extrapolated from {args.reencode_epochs})")

    one = images[:1]

    def predict():
        with torch.no_grad():
            cls(one, "cls")
            seg(one, "seg")
    predict()
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        predict()
        times.append(time.perf_counter() - start)
    print(f"pytorch promptad predict @240, map {args.map_size}: median {statistics.median(times):.3f} s/image "
          f"(official forward 'cls' + 'seg', {args.runs} runs)")


if __name__ == "__main__":
    main()
