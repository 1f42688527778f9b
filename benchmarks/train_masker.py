"""Train the shipped model's person masker (``alexnet_unet``) on photos with person masks.

    TOONKIT_WEIGHTS_DIR=../shared/weights OMP_NUM_THREADS=1 nice -n 15 \\
        python benchmarks/train_masker.py --out runs/masker [--steps 900] [--data ../shared/data]

The masker shipped with ``handpainted`` came from runs of this script in one folder on one shared CPU
core (84 minutes of wall time for the steps, of which 6.7 CPU-minutes were this process's): ``--steps
700`` stopped after its step-75 checkpoint, then ``--resume --steps 360``, ``--resume --steps 460`` and
``--resume --steps 900``. Each resume restarts AdamW's moments and picks the cosine up at its new
length (at 89 %, 11 % and 48 % of the peak rate). That is 900 steps of 8 crops, about 16 passes over the
data, and not converged (see ``mask_teacher_iou.md``). On a GPU, ``--device cuda --steps 5000`` costs
minutes.

Data (``benchmarks/masker_data.py`` fixes the splits by file name): the training pairs of
``people`` and ``portraits`` with their reference masks, and the ``selfies`` with masks written once by
the MediaPipe teacher (``toonkit data masks``; needs ``pip install -e plugins/toonkit-mediapipe``, only
for training), half as likely to be drawn as a photo with a reference mask. Test, validation and
``masker_excluded_photos.txt`` photos are never trained on.

Every photo is decoded once and cached at short side ``--cache-side`` (uint8, ``OUT/cache.pt``); each
step draws a batch, crops each photo at a random scale and aspect (kornia), flips and colour-jitters
the batch, and takes one AdamW step on BCE + Dice (segmentation_models_pytorch's) under bf16
autocast. The encoder starts from ImageNet AlexNet (``TOONKIT_WEIGHTS_DIR``); conv1–conv2 stay
frozen, conv3–conv5 train at a tenth of the decoder's learning rate; cosine decay after a warm-up.

At the end, the guided-filter refinement (radius, eps) with the best mean IoU on the validation
photos (at the translate working size, short side 256) is chosen, then the smallest logit sharpness
whose mean absolute error against the reference masks is within 1 % of the best (an under-confident
masker fades the person into a white background: IoU at 0.5 does not see that), and the masker is written as
``OUT/masker.safetensors`` (fp16 state dict) and ``OUT/masker.json`` (its registered block: type and
params). ``OUT/log.csv`` holds the losses and validation scores, ``OUT/last.safetensors`` the latest
fp32 weights (written atomically every ``--save-every`` steps; ``--resume`` continues from it).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from masker_data import (
    DATASETS,
    Pair,
    boundary_f,
    excluded_photos,
    iou,
    load_truth,
    masker_probability,
    split,
)

REPO = Path(__file__).resolve().parents[1]
MASKER = "alexnet_unet"
REFINE_GRID = [(0, 1e-3), (2, 1e-3), (4, 1e-3), (4, 1e-2), (8, 1e-2)]
SHARPNESS_GRID = [1.0, 2.0, 3.0, 4.0]


def teacher_selfie_masks(selfies: Path, out: Path) -> list[Pair]:
    """Selfies (minus the excluded ones) with masks the MediaPipe teacher writes once into ``out``."""
    from toonkit.data.teacher import write_masks

    report = write_masks(selfies, out, teacher="mediapipe_selfie", requires=("toonkit-mediapipe",))
    print(report.summary(), file=sys.stderr)
    skip = excluded_photos()
    return [Pair("selfies", p, out / (p.stem + ".png")) for p in sorted(selfies.glob("*.jpg"))
            if p.resolve() not in skip and (out / (p.stem + ".png")).is_file()]


def load_cache(items: list[Pair], path: Path, side: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(photo uint8 (3, H, W), mask uint8 (1, H, W)) at short side ``side``, decoded once and cached."""
    from toonkit.core.geometry import resize, short_side_size
    from toonkit.data.decode import load_rgb_tensor

    key = [str(p.photo) for p in items]
    if path.is_file():
        cached = torch.load(path, weights_only=True)
        if cached["key"] == key and cached["side"] == side:
            return list(zip(cached["photos"], cached["masks"]))
    photos, masks = [], []
    for p in items:
        photo = load_rgb_tensor(p.photo)
        size = short_side_size(*photo.shape[-2:], side)
        truth = load_truth(p, tuple(photo.shape[-2:])).float()[None, None]
        photos.append(resize(photo[None].float(), size).round().clamp(0, 255).to(torch.uint8)[0])
        masks.append((resize(truth, size) * 255).round().to(torch.uint8)[0])
    torch.save({"key": key, "side": side, "photos": photos, "masks": masks}, path)
    return list(zip(photos, masks))


class Augment:
    """Random scale/aspect crop per photo, then flip, small rotation and colour jitter on the batch (kornia)."""

    def __init__(self, crop: int) -> None:
        import kornia.augmentation as K

        self.crop = K.AugmentationSequential(
            K.RandomResizedCrop((crop, crop), scale=(0.3, 1.0), ratio=(0.75, 1.333)), data_keys=["input", "mask"])
        self.batch = K.AugmentationSequential(
            K.RandomHorizontalFlip(), K.RandomAffine(degrees=10, p=0.3),
            data_keys=["input", "mask"])
        self.colour = K.AugmentationSequential(K.ColorJitter(0.3, 0.3, 0.3, 0.03, p=0.8),
                                               K.RandomGrayscale(p=0.05))

    def __call__(self, samples: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
        xs, ms = [], []
        for photo, mask in samples:
            x, m = self.crop(photo[None].float() / 255, mask[None].float() / 255)
            xs.append(x)
            ms.append(m)
        x, m = self.batch(torch.cat(xs), torch.cat(ms))
        return self.colour(x).clamp(0, 1) * 2 - 1, m.clamp(0, 1)


@torch.no_grad()
def validate(masker: torch.nn.Module, val: list[Pair], short_side: int = 256) -> dict[str, float]:
    from toonkit.data.decode import load_rgb_tensor

    masker.eval()
    ious, fs, errors = [], [], []
    for p in val:
        photo = load_rgb_tensor(p.photo)
        prob = masker_probability(masker, photo, short_side)
        truth = load_truth(p, tuple(photo.shape[-2:]))
        ious.append(iou(prob > 0.5, truth))
        fs.append(boundary_f(prob > 0.5, truth))
        errors.append((prob - truth.float()).abs().mean().item())
    masker.train()
    return {"iou": statistics.fmean(ious), "boundary_f": statistics.fmean(fs), "mae": statistics.fmean(errors)}


def save_atomic(state: dict[str, torch.Tensor], path: Path) -> None:
    from safetensors.torch import save_file

    tmp = path.with_suffix(".tmp")
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp))
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--out", type=Path, default=REPO / "runs" / "masker")
    p.add_argument("--steps", type=int, default=900)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=192)
    p.add_argument("--cache-side", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3, help="decoder learning rate (encoder: a tenth)")
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--val-every", type=int, default=100)
    p.add_argument("--save-every", type=int, default=25)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... (autocast: bf16 on either)")
    args = p.parse_args(argv)

    import segmentation_models_pytorch as smp

    import toonkit

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    splits = {d: split(args.data, d) for d in DATASETS}
    labelled = [pr for d in DATASETS for pr in splits[d]["train"]]
    selfies = teacher_selfie_masks(args.data / "selfies", args.out / "selfie_masks")
    items = labelled + selfies
    weights = [1.0] * len(labelled) + [0.5] * len(selfies)
    print(f"training on {len(labelled)} photos with reference masks and {len(selfies)} teacher-masked selfies; "
          f"validating on {len(splits['people']['val'])}", file=sys.stderr)
    data = load_cache(items, args.out / "cache.pt", args.cache_side)

    device = torch.device(args.device)
    masker = toonkit.build("masker", MASKER, encoder_weights="imagenet")
    masker.freeze_early()
    start = 0
    last = args.out / "last.safetensors"
    if args.resume and last.is_file():
        from safetensors.torch import load_file

        state = load_file(str(last))
        start = int(state.pop("_step").item())
        masker.load_state_dict(state)
    masker.to(device)
    enc = [q for q in masker.encoder.parameters() if q.requires_grad]
    rest = [q for n, q in masker.named_parameters() if not n.startswith("encoder.")]
    opt = torch.optim.AdamW([{"params": rest, "lr": args.lr}, {"params": enc, "lr": args.lr / 10}],
                            weight_decay=1e-4)
    base = [g["lr"] for g in opt.param_groups]
    dice = smp.losses.DiceLoss("binary", from_logits=True)
    augment = Augment(args.crop)
    rng = random.Random(args.seed + start)
    log_path = args.out / "log.csv"
    log = csv.writer(log_path.open("a", newline="", buffering=1))  # line-buffered: readable while running
    if start == 0:
        log.writerow(["step", "loss", "cpu_s", "wall_s", "val_iou", "val_boundary_f"])
    masker.train()
    t0, c0 = time.perf_counter(), time.process_time()
    for step in range(start + 1, args.steps + 1):
        scale = min(1.0, step / args.warmup) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for g, lr in zip(opt.param_groups, base):
            g["lr"] = lr * scale
        x, m = (t.to(device) for t in augment(rng.choices(data, weights, k=args.batch)))
        with torch.autocast(device.type, dtype=torch.bfloat16):
            logits = masker(x)
        logits = logits.float()
        loss = F.binary_cross_entropy_with_logits(logits, m) + dice(logits, m)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        scores = validate(masker, splits["people"]["val"]) if step % args.val_every == 0 else {}
        log.writerow([step, f"{loss.item():.4f}", f"{time.process_time() - c0:.1f}",
                      f"{time.perf_counter() - t0:.1f}", f"{scores.get('iou', '')}",
                      f"{scores.get('boundary_f', '')}"])
        if step % 10 == 0 or scores:
            print(f"step {step}/{args.steps} loss {loss.item():.4f} {scores or ''} "
                  f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
        if step % args.save_every == 0 or step == args.steps:
            save_atomic({**{k: v.cpu() for k, v in masker.state_dict().items()}, "_step": torch.tensor(step)}, last)

    masker.eval()
    best = None
    for radius, eps in REFINE_GRID:
        masker.refine_radius, masker.refine_eps = radius, eps
        s = validate(masker, splits["people"]["val"])
        print(f"refine radius {radius} eps {eps}: {s}", file=sys.stderr)
        if best is None or s["iou"] > best[2]["iou"]:
            best = (radius, eps, s)
    radius, eps, scores = best
    masker.refine_radius, masker.refine_eps = radius, eps
    # the soft mask is what --background white blends with: the smallest sharpness whose mean absolute error
    # is within 1 % of the best one (more only hardens the outline)
    errors = {}
    for k in SHARPNESS_GRID:
        masker.sharpness = k
        errors[k] = validate(masker, splits["people"]["val"])
        print(f"sharpness {k}: {errors[k]}", file=sys.stderr)
    sharpness = min(k for k in SHARPNESS_GRID if errors[k]["mae"] <= 1.01 * min(e["mae"] for e in errors.values()))
    masker.sharpness, scores = sharpness, errors[sharpness]
    block = {"type": MASKER, "base_channels": masker.base_channels, "refine_radius": radius, "refine_eps": eps,
             "sharpness": sharpness}
    save_atomic({k: (v.half() if v.is_floating_point() else v).cpu() for k, v in masker.state_dict().items()},
                args.out / "masker.safetensors")
    (args.out / "masker.json").write_text(json.dumps(block, indent=2) + "\n")
    (args.out / "validation.json").write_text(json.dumps({"refine_grid": REFINE_GRID, "sharpness": errors,
                                                          "chosen": scores}, indent=2) + "\n")
    print(f"wrote {args.out / 'masker.safetensors'} ({block})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
