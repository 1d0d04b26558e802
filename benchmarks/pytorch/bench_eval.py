"""PyTorch + scipy + scikit-learn side of `clipad bench eval`: the same evaluation pipeline on the same images —
PIL decode, PIL bicubic square resize + OpenAI normalisation, the same model-free patch-grid map (mean normalised
intensity per patch minus the image mean, squared), torch bilinear upsampling (align_corners False), scipy
gaussian_filter(sigma 4), PIL NEAREST masks, then sklearn roc_auc_score / average_precision_score /
precision_recall_curve and the official MVTec AD AUPRO definition (per connected region, 8-connectivity via
skimage.measure.label, all thresholds, integrated to FPR 0.3 and normalised), computed the usual sort-based way.

    python benchmarks/pytorch/bench_eval.py --threads 2 --runs 3 [--images 200]
"""
import argparse
import pathlib
import resource
import statistics
import time

import numpy as np
import scipy.ndimage
import skimage.measure
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def test_split(root, train_normals=16):
    """ClipAD's magnetic-tile reader: MT_Free minus its first 16 (sorted) + every defect image, masks beside."""
    root = pathlib.Path(root)
    samples = []
    for kind in sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("MT_")):
        images = sorted((kind / "Imgs").glob("*.jpg"))
        if kind.name == "MT_Free":
            samples += [(str(p), None, 0) for p in images[train_normals:]]
        else:
            samples += [(str(p), str(p.with_suffix(".png")), 1) for p in images]
    return sorted(samples)


def aupro(maps, masks, fpr_limit=0.3):
    """Official MVTec AD AUPRO: PRO = mean over defect regions of the detected fraction, FPR over anomaly-free pixels."""
    scores, neg_weight, pro_weight = [], [], []
    regions_total = 0
    labelled = [skimage.measure.label(m, connectivity=2) for m in masks]
    regions_total = sum(int(l.max()) for l in labelled)
    negatives = sum(int((m == 0).sum()) for m in masks)
    for amap, lab in zip(maps, labelled):
        scores.append(amap.ravel())
        neg = (lab.ravel() == 0).astype(np.float64) / negatives
        pro = np.zeros(lab.size)
        for r in range(1, int(lab.max()) + 1):
            region = lab.ravel() == r
            pro[region] = 1.0 / (region.sum() * regions_total)
        neg_weight.append(neg)
        pro_weight.append(pro)
    s = np.concatenate(scores)
    order = np.argsort(-s, kind="stable")
    s = s[order]
    fpr = np.cumsum(np.concatenate(neg_weight)[order])
    pro = np.cumsum(np.concatenate(pro_weight)[order])
    last = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]   # one point per distinct threshold
    fpr, pro = np.r_[0.0, fpr[last]], np.r_[0.0, pro[last]]
    k = np.searchsorted(fpr, fpr_limit, side="right")
    if k < fpr.size:   # interpolate the curve at the limit
        t = (fpr_limit - fpr[k - 1]) / (fpr[k] - fpr[k - 1])
        fpr, pro = np.r_[fpr[:k], fpr_limit], np.r_[pro[:k], pro[k - 1] + t * (pro[k] - pro[k - 1])]
    return float(np.trapezoid(pro, fpr) / fpr_limit)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(pathlib.Path(__file__).resolve().parents[3] / "shared/data/magnetic-tile"))
    ap.add_argument("--side", type=int, default=240)
    ap.add_argument("--grid", type=int, default=15)
    ap.add_argument("--images", type=int)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    samples = test_split(args.data)
    if args.images and args.images < len(samples):
        samples = [samples[i * len(samples) // args.images] for i in range(args.images)]
    s, g = args.side, args.grid

    def run():
        maps, masks, labels = [], [], []
        t0 = time.perf_counter()
        for path, mask_path, label in samples:
            img = Image.open(path).convert("RGB").resize((s, s), Image.BICUBIC)
            x = torch.from_numpy(((np.asarray(img, dtype=np.float32) / 255 - MEAN) / STD).transpose(2, 0, 1).copy())
            cells = F.adaptive_avg_pool2d(x.mean(0, keepdim=True)[None], g)[0]   # s divisible by g: exact cell means
            grid_map = (cells - x.mean()) ** 2
            up = F.interpolate(grid_map[None], size=(s, s), mode="bilinear", align_corners=False)[0, 0].numpy()
            maps.append(scipy.ndimage.gaussian_filter(up, sigma=4))
            if mask_path:
                m = np.asarray(Image.open(mask_path).convert("L").resize((s, s), Image.NEAREST)) > 0
            else:
                m = np.zeros((s, s), dtype=bool)
            masks.append(m.astype(np.uint8))
            labels.append(label)
        t1 = time.perf_counter()
        flat_scores = np.concatenate([m.ravel() for m in maps])
        flat_gt = np.concatenate([m.ravel() for m in masks])
        image_auroc = roc_auc_score(labels, [m.max() for m in maps])
        pixel_auroc = roc_auc_score(flat_gt, flat_scores)
        pixel_ap = average_precision_score(flat_gt, flat_scores)
        p, r, _ = precision_recall_curve(flat_gt, flat_scores)
        f1 = np.max(np.divide(2 * p * r, p + r, out=np.zeros_like(p), where=(p + r) != 0))
        pro = aupro(maps, masks)
        t2 = time.perf_counter()
        return t2 - t0, t1 - t0, t2 - t1, (image_auroc, pixel_auroc, pixel_ap, f1, pro)

    run()   # warm-up, as the Swift harness does
    results = [run() for _ in range(args.runs)]
    total = statistics.median(r[0] for r in results)
    last = results[-1]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"pytorch eval pipeline ({len(samples)} test images, {s}x{s} maps): median {total:.2f} s  "
          f"{len(samples) / total:.1f} images/s  peak memory {peak:.0f} MiB  (threads {torch.get_num_threads()}, {args.runs} runs)")
    print(f"  per-image (decode, resize, map, Gaussian, mask) {last[1]:.2f} s; metrics (sklearn + AUPRO) {last[2]:.2f} s (last run)")
    print("  image AUROC %.4f | pixel AUROC %.4f  AP %.4f  F1-max %.4f  AUPRO %.4f" % last[3])


if __name__ == "__main__":
    main()
