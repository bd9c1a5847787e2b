"""Benchmark: do attribution maps find the object on photographs? EfficientNet-Lite0 on composites.

A composite is an object photo (the bundled cat, cropped to the cat; scikit-image's coffee cup and
others when its data folder is found) pasted into one quarter of a 224-px textured background
(scikit-image's brick / grass / gravel, or a procedural texture). The model is explained for the class
it gives the object alone. Per method it prints:
  * pointing game: share of composites whose map peak lies inside the object's quarter;
  * mass in box: share of the map's positive heat inside the quarter (chance level 0.25 for both);
  * Grad-CAM's deletion / insertion against the panel's reference (random smooth maps), on the
    composites and on the bundled cat itself;
  * Score-CAM and Layer-CAM beside an independent numpy re-implementation of pytorch-grad-cam's
    formulas (score_cam.py, layer_cam.py: edge-to-edge bilinear upsampling, masks multiply the input
    tensor, softmax of logits over channels), and Score-CAM with N channels against all of them.

    python benchmarks/attribution.py                                   # default: ~4 min on 2 cores
    python benchmarks/attribution.py --objects cat coffee rocket --quarters 0 1 2 3 --methods all
    python benchmarks/attribution.py --skimage-data /path/to/skimage/data --full-score-cam
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: object crops (x0, y0, x1, y1) in the source image, tight around the object
OBJECTS = {"cat": ("chelsea.png", (20, 0, 320, 300)), "coffee": ("coffee.png", (100, 10, 440, 350)),
           "rocket": ("rocket.jpg", (250, 30, 450, 427)), "astronaut": ("astronaut.png", (100, 0, 400, 300))}
BACKGROUNDS = ("brick.png", "grass.png", "gravel.png")
CAM_FAMILY = ("gradcam", "gradcam++", "layercam", "scorecam", "guided-gradcam")
DEFAULT_METHODS = ("gradcam", "gradcam++", "layercam", "scorecam", "occlusion", "saliency")
SIZE = 224


def skimage_data(arg: str | None) -> Path | None:
    """scikit-image's data folder (it ships the photos inside the wheel), if there is one."""
    if arg:
        return Path(arg)
    try:
        import skimage.data

        return Path(skimage.data.__file__).parent
    except ImportError:
        return None


def read_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"), "float32")


def texture(i: int, data: Path | None) -> np.ndarray:
    """A 224-px grey texture: scikit-image's if present, else blurred noise at two scales."""
    import cv2

    if data is not None and (data / BACKGROUNDS[i % len(BACKGROUNDS)]).is_file():
        img = read_rgb(data / BACKGROUNDS[i % len(BACKGROUNDS)])
        return cv2.resize(img, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(i)
    fine = cv2.GaussianBlur(rng.normal(size=(SIZE, SIZE)).astype("float32"), (0, 0), 1.5)
    coarse = cv2.GaussianBlur(rng.normal(size=(SIZE, SIZE)).astype("float32"), (0, 0), 8)
    g = 128 + 40 * fine / fine.std() + 30 * coarse / coarse.std()
    return np.repeat(np.clip(g, 0, 255)[..., None], 3, axis=-1)


def object_image(name: str, data: Path | None) -> np.ndarray | None:
    file, (x0, y0, x1, y1) = OBJECTS[name]
    path = ROOT / "cnnviz" / "data" / file if name == "cat" else (data / file if data else None)
    if path is None or not path.is_file():
        return None
    return read_rgb(path)[y0:y1, x0:x1]


def composite(obj: np.ndarray, background: np.ndarray, quarter: int) -> tuple[np.ndarray, np.ndarray]:
    """``obj`` resized to a quarter of the canvas and pasted at quarter 0-3 (TL, TR, BL, BR); (image, box mask)."""
    import cv2

    half = SIZE // 2
    y0, x0 = (quarter // 2) * half, (quarter % 2) * half
    img = background.copy()
    img[y0 : y0 + half, x0 : x0 + half] = cv2.resize(obj, (half, half), interpolation=cv2.INTER_AREA)
    box = np.zeros((SIZE, SIZE), bool)
    box[y0 : y0 + half, x0 : x0 + half] = True
    return img, box


def pointing(raw: np.ndarray, box: np.ndarray) -> tuple[bool, float]:
    """(peak inside the box, share of the positive heat inside it)."""
    pos = np.maximum(raw, 0.0)
    return bool(box.ravel()[int(np.argmax(raw))]), float(pos[box].sum() / (pos.sum() + 1e-12))


def reference_layer_cam(maps: np.ndarray, grads: np.ndarray) -> np.ndarray:
    """pytorch-grad-cam LayerCAM: relu(sum_k relu(g) * A), resized edge to edge (bilinear)."""
    import cv2

    cam = np.maximum((np.maximum(grads, 0) * maps).sum(-1), 0).astype("float32")
    return cv2.resize(cam, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)


def reference_score_cam(subject, x: np.ndarray, maps: np.ndarray, target: int, channels: np.ndarray) -> np.ndarray:
    """pytorch-grad-cam ScoreCAM on ``channels``: each channel resized edge to edge, min-max scaled, multiplies
    the input tensor; weights = softmax over channels of the target logit; relu(sum w A), resized."""
    import cv2

    up = np.stack([cv2.resize(maps[..., k].astype("float32"), (SIZE, SIZE), interpolation=cv2.INTER_LINEAR) for k in channels])
    lo, hi = up.min(axis=(1, 2), keepdims=True), up.max(axis=(1, 2), keepdims=True)
    up = (up - lo) / np.where(hi - lo > 0, hi - lo, 1.0)
    logits = subject.forward((x[None] * up[..., None]).astype("float32"))[:, target]
    w = np.exp(logits - logits.max())
    w /= w.sum()
    cam = np.maximum((maps[..., channels] * w).sum(-1), 0).astype("float32")
    return cv2.resize(cam, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(np.ravel(a), np.ravel(b)).statistic)


def compare_with_references(explainer, image: np.ndarray, target: int, box: np.ndarray | None) -> dict:
    """Our Layer-CAM and Score-CAM maps beside the reference formulas on one image."""
    from cnnviz.inputs.preprocessing import to_model_input
    from cnnviz.methods.attribution.layer_methods import top_variance_channels
    from cnnviz.methods.attribution.subject import class_score
    from cnnviz.optvis import layer_gradients

    by_name = {m.name: m for m in explainer.methods}
    subject = by_name["layercam"].subject
    x = to_model_input(image[None], explainer.loaded.preprocess).astype("float32")
    maps, grads, _ = layer_gradients(subject.layer_model, x, class_score(target, 1, subject.num_classes))
    ours_lc = by_name["layercam"].attribute(x, target)[0]
    ref_lc = reference_layer_cam(np.asarray(maps[0], "float64"), np.asarray(grads[0], "float64"))
    sc = by_name["scorecam"]
    ours_sc = sc.attribute(x, target)[0]
    ref_sc = reference_score_cam(subject, x[0], np.asarray(maps[0], "float64"), target, top_variance_channels(maps[0], sc.channels))
    out = {"layercam_rho": spearman(ours_lc, ref_lc), "scorecam_rho": spearman(ours_sc, ref_sc)}
    if box is not None:
        for k, m in (("layercam", ours_lc), ("layercam_ref", ref_lc), ("scorecam", ours_sc), ("scorecam_ref", ref_sc)):
            out[k] = pointing(m, box)
    return out


def build(args):
    from cnnviz.methods.attribution.explain import Explainer, Options
    from cnnviz.models import load_model

    model = load_model("efficientnet-lite0", include_top=True)
    opts = Options(layer=args.layer, faithfulness_steps=0, score_cam_channels=args.score_cam_channels or None,
                   rise_masks=args.rise_masks)
    methods = list(DEFAULT_METHODS) if args.methods == ["default"] else (
        ["gradcam", "gradcam++", "layercam", "scorecam", "guided-gradcam", "occlusion", "rise", "saliency",
         "guided-backprop", "integrated-gradients"] if args.methods == ["all"] else args.methods)
    run = Explainer(model, methods, (SIZE, SIZE), opts)
    scored = Explainer(model, ["gradcam"], (SIZE, SIZE), Options(layer=args.layer, faithfulness_steps=args.faithfulness_steps))
    refs = Explainer(model, ["layercam", "scorecam"], (SIZE, SIZE), opts)
    return model, methods, run, scored, refs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", nargs="+", default=["cat", "coffee"], choices=list(OBJECTS))
    ap.add_argument("--quarters", nargs="+", type=int, default=None,
                    help="quarters (0 TL, 1 TR, 2 BL, 3 BR) for every object; default two opposite ones per object, alternating")
    ap.add_argument("--methods", nargs="+", default=["default"], help="method names, 'default' or 'all'")
    ap.add_argument("--layer", default="top_activation", help="the CAM layer (top_conv is before BatchNorm and ReLU6: signed maps)")
    ap.add_argument("--score-cam-channels", type=int, default=128, help="0: every channel")
    ap.add_argument("--rise-masks", type=int, default=500)
    ap.add_argument("--faithfulness-steps", type=int, default=16)
    ap.add_argument("--references", type=int, default=1, help="images on which Layer-/Score-CAM meet the reference formulas")
    ap.add_argument("--full-score-cam", action="store_true", help="also Score-CAM on every channel vs the top N (cat only; slow)")
    ap.add_argument("--skimage-data", default=None, help="scikit-image's data folder (default: the installed package's)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    data = skimage_data(args.skimage_data)
    _, methods, run, scored, refs = build(args)
    clf = run.classifier
    rows = {m: {"peak": [], "mass": [], "sec": []} for m in methods}
    faith, refs_out, n = [], [], 0
    for oi, name in enumerate(args.objects):
        obj = object_image(name, data)
        if obj is None:
            print(f"({name}: scikit-image data not found; skipped)")
            continue
        import cv2

        alone = cv2.resize(obj, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
        target = int(np.argmax(run.probabilities(alone[None])[0]))
        for q in args.quarters or ([0, 3] if oi % 2 == 0 else [1, 2]):
            img, box = composite(obj, texture(oi + q, data), q)
            p = run.probabilities(img[None])[0]
            print(f"{name} in quarter {q}: class {clf.name(target)!r} p {p[target]:.2f} (top: {clf.name(int(np.argmax(p)))!r})", flush=True)
            n += 1
            for r in _explain_each(run, img, target, rows):
                peak, mass = pointing(r.raw, box)
                rows[r.method]["peak"].append(peak)
                rows[r.method]["mass"].append(mass)
            f = scored.explain(img, target)
            faith.append((f.results[0].faithfulness, f.random))
            if len(refs_out) < args.references:
                refs_out.append(compare_with_references(refs, img, target, box))
    report(rows, methods, n, faith, refs_out, args, data)
    cat_check(scored, refs, args)
    print(f"total {time.perf_counter() - t0:.0f} s")


def _explain_each(run, img, target, rows):
    """One result per method, timing each method on its own."""
    out = []
    methods = run.methods
    for m in methods:
        run.methods = [m]
        t = time.perf_counter()
        out += run.explain(img, target).results
        rows[m.name]["sec"].append(time.perf_counter() - t)
    run.methods = methods
    return out


def report(rows, methods, n, faith, refs_out, args, data) -> None:
    print(f"\nEfficientNet-Lite0, {n} composites ({', '.join(args.objects)}; quarters {args.quarters or 'two per object'}; "
          f"backgrounds {'scikit-image' if data else 'procedural'}), layer {args.layer}, Score-CAM {args.score_cam_channels or 'all'} channels")
    print(f"{'method':22s} {'pointing':>9s} {'mass in box':>12s} {'s/image':>8s}   (chance 0.25 / 0.25)")
    for m in methods:
        r = rows[m]
        flag = "" if (m not in CAM_FAMILY and m != "occlusion") or (np.mean(r["peak"]) >= 0.8 and np.mean(r["mass"]) >= 0.5) else "  <- below 0.80 / 0.50"
        print(f"{m:22s} {np.mean(r['peak']):9.2f} {np.mean(r['mass']):12.2f} {np.mean(r['sec']):8.1f}{flag}")
    d = np.array([[a["deletion_auc"], b["deletion_auc"], a["insertion_auc"], b["insertion_auc"]] for a, b in faith])
    print(f"Grad-CAM faithfulness on the composites ({args.faithfulness_steps} steps): deletion {d[:, 0].mean():.3f} vs reference "
          f"{d[:, 1].mean():.3f} (better on {int((d[:, 0] < d[:, 1]).sum())}/{len(d)}), insertion {d[:, 2].mean():.3f} vs {d[:, 3].mean():.3f}")
    for i, r in enumerate(refs_out):
        print(f"reference formulas, composite {i}: rank correlation with pytorch-grad-cam's formula: Layer-CAM {r['layercam_rho']:.3f}, "
              f"Score-CAM {r['scorecam_rho']:.3f}; (peak in box, mass): Layer-CAM ours {_pm(r['layercam'])} ref {_pm(r['layercam_ref'])}, "
              f"Score-CAM ours {_pm(r['scorecam'])} ref {_pm(r['scorecam_ref'])}")


def _pm(pm: tuple[bool, float]) -> str:
    return f"({'in' if pm[0] else 'out'}, {pm[1]:.2f})"


def cat_check(scored, refs, args) -> None:
    """The bundled cat itself: Grad-CAM's deletion against the reference, and Score-CAM's channel selection."""
    import cv2

    cat = cv2.resize(read_rgb(ROOT / "cnnviz" / "data" / "chelsea.png"), (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    ex = scored.explain(cat)
    f, r = ex.results[0].faithfulness, ex.random
    print(f"bundled cat ({ex.class_name}): Grad-CAM deletion {f['deletion_auc']:.3f} vs reference {r['deletion_auc']:.3f}, "
          f"insertion {f['insertion_auc']:.3f} vs {r['insertion_auc']:.3f}")
    if args.full_score_cam:
        from cnnviz.inputs.preprocessing import to_model_input

        sc = next(m for m in refs.methods if m.name == "scorecam")
        x = to_model_input(cat[None], refs.loaded.preprocess).astype("float32")
        t = time.perf_counter()
        top = sc.attribute(x, ex.class_index)[0]
        t_top = time.perf_counter() - t
        keep, sc.channels = sc.channels, None
        t = time.perf_counter()
        full = sc.attribute(x, ex.class_index)[0]
        t_full = time.perf_counter() - t
        sc.channels = keep
        print(f"Score-CAM on the cat: {keep} channels vs all: rank correlation {spearman(top, full):.3f}, {t_top:.1f} s vs {t_full:.1f} s")


if __name__ == "__main__":
    main()
