"""PyTorch + open_clip side of `clipad bench encoder`: the same random-weight vision towers, same thread count.

Run by hand with the reference venv (../shared/tools/reference-venv), on the same machine as the Swift run:
    python benchmarks/pytorch/bench_encoder.py --arch ViT-B-16 --image-size 224 --batch 8 --threads 2
Prints the median seconds per forward and images/s, in the same shape as `clipad bench encoder`.
"""
import argparse
import statistics
import time

import open_clip
import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="ViT-B-16")
    ap.add_argument("--image-size", type=int, default=None)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    kwargs = {"force_image_size": args.image_size} if args.image_size else {}
    model = open_clip.create_model(args.arch, pretrained=None, **kwargs).eval()
    size = model.visual.image_size[0]
    images = torch.randn(args.batch, 3, size, size)
    with torch.inference_mode():
        model.encode_image(images)  # warm-up
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            model.encode_image(images)
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"pytorch encoder {args.arch} @{size} batch {args.batch}: median {median:.3f} s  "
          f"{args.batch / median:.2f} images/s  ({args.runs} runs, torch threads {torch.get_num_threads()}, torch {torch.__version__})")


if __name__ == "__main__":
    main()
