"""The static atlas site: plain HTML + one CSS file + inline SVG, relative links only, so it opens from the
file system in any browser. Pages are rebuilt from the per-layer state files, so a resumed run writes the
same site as an uninterrupted one."""

from __future__ import annotations

import html
import re
import shlex
from pathlib import Path

from ...output.files import atomic_write
from ...output.layout import UNTRAINED_MARK
from .pictures import histogram_svg

CSS = """
:root { --ink:#1d2430; --muted:#6b7380; --line:#dde1e7; --accent:#2f5fa7; --card:#fff; --bg:#f5f6f8; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--ink); background:var(--bg); }
header { background:#fff; border-bottom:1px solid var(--line); padding:.7em 1.5em; display:flex; gap:1.2em; align-items:baseline; flex-wrap:wrap; }
header h1 { font-size:1.25em; margin:0; }
.untrained { background:#c80000; color:#fff; font-weight:bold; padding:.5em .8em; margin:0 0 1em; }
nav a { margin-right:.9em; }
main { padding:1em 1.5em 3em; max-width:1400px; }
a { color:var(--accent); text-decoration:none; } a:hover { text-decoration:underline; }
.muted { color:var(--muted); } .small { font-size:.85em; }
table { border-collapse:collapse; background:#fff; }
th, td { padding:.3em .8em; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
tr.conv td:first-child { font-weight:600; }
img.px { image-rendering:pixelated; image-rendering:crisp-edges; }
.grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(330px, 1fr)); gap:14px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:10px; display:flex; gap:10px; }
.card .vis img { width:112px; height:112px; border:1px solid var(--line); display:block; }
.card h3 { margin:0 0 .2em; font-size:1em; }
.examples { display:flex; flex-wrap:wrap; gap:4px; }
figure { margin:0; text-align:center; }
figure img { display:block; border:1px solid var(--line); }
.card figure img { width:44px; height:44px; object-fit:contain; background:#fff; }
figcaption { font-size:.72em; color:var(--muted); font-variant-numeric:tabular-nums; }
.big img { width:256px; height:256px; border:1px solid var(--line); }
.row { display:flex; gap:28px; flex-wrap:wrap; align-items:flex-start; margin-bottom:1.2em; }
.panel + .panel { margin-top:1.2em; } .row .panel + .panel { margin-top:0; }
.panel { background:#fff; border:1px solid var(--line); border-radius:6px; padding:12px 14px; }
.panel h2 { font-size:1em; margin:0 0 .5em; }
.panel .examples figure img { width:96px; height:96px; object-fit:contain; }
.panel.diverse .examples { gap:10px; } .panel.diverse .examples figure img { width:160px; height:160px; }
.hist rect:hover { fill:#c0392b; }
code { background:#eef0f3; padding:.1em .35em; border-radius:3px; font-size:.88em; word-break:break-all; }
.dead { color:#b03a2e; }
.keys { float:right; }
"""

KEYS = """<script>
document.addEventListener('keydown', function (e) {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  var rel = {ArrowLeft: 'prev', ArrowRight: 'next', ArrowUp: 'up'}[e.key];
  var a = rel && document.querySelector('a[rel="' + rel + '"]');
  if (a) { window.location.href = a.getAttribute('href'); }
});
</script>"""


def slug(layer: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", layer.replace("/", "--")).strip("-") or "layer"


def _e(x) -> str:
    return html.escape(str(x))


def _page(title: str, depth: int, nav: str, body: str, untrained: bool = False) -> str:
    css = "../" * depth + "style.css"
    if untrained:  # the figures' red band, on every page of a model with random weights
        body = f'<p class="untrained">{_e(UNTRAINED_MARK)}</p>' + body
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_e(title)}</title>'
            f'<link rel="stylesheet" href="{css}"></head>\n<body><header><h1>{_e(title)}</h1><nav>{nav}</nav>'
            f'<span class="keys muted small">keys: &larr; &rarr; neighbours, &uarr; up</span></header>\n'
            f'<main>{body}</main>\n{KEYS}\n</body></html>\n')


def _nav(prev: tuple[str, str] | None, up: tuple[str, str] | None, nxt: tuple[str, str] | None) -> str:
    parts = []
    if up:
        parts.append(f'<a rel="up" href="{_e(up[0])}">&uarr; {_e(up[1])}</a>')
    if prev:
        parts.append(f'<a rel="prev" href="{_e(prev[0])}">&larr; {_e(prev[1])}</a>')
    if nxt:
        parts.append(f'<a rel="next" href="{_e(nxt[0])}">{_e(nxt[1])} &rarr;</a>')
    return "".join(parts)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text.encode("utf-8"))


def _shape(shape) -> str:
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


def write_overview(root: Path, info: dict, rows: list[dict], states: dict[str, dict]) -> Path:
    """``index.html``: every layer of the model; the atlas's finished layers link to their pages."""
    body_rows = []
    for r in rows:
        name = r["name"]
        cell = _e(name)
        if name in states:
            cell = f'<a href="{slug(name)}/index.html">{_e(name)}</a>'
        status = ""
        if name in info["layers"]:
            status = "in the atlas" if name in states else '<span class="muted">not computed yet (run the command again)</span>'
        body_rows.append(f'<tr class="{"conv" if r["conv"] else ""}"><td>{cell}</td><td>{_e(r["kind"])}</td>'
                         f'<td>{_e(_shape(r["shape"]))}</td><td class="num">{r["params"]:,}</td><td>{status}</td></tr>')
    first = [n for n in info["layers"] if n in states][:1]
    nav = _nav(None, None, (f"{slug(first[0])}/index.html", first[0]) if first else None)
    settings = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in info["settings"].items())
    body = (f'<p>Every layer of <b>{_e(info["model"])}</b>; conv layers in the atlas link to a page with each filter\'s '
            f'visualisation and the images of the data set that excite it most. Built by '
            f'<code>{_e(info["command"])}</code>.</p>'
            f'<table><thead><tr><th>layer</th><th>type</th><th>output shape</th><th>parameters</th><th>atlas</th></tr></thead>'
            f'<tbody>{"".join(body_rows)}</tbody></table>'
            f'<h2>Settings</h2><table>{settings}</table>'
            f'<p class="muted small">Data: {_e(info["data"])} ({info["count"]} images). Top examples rank images by the '
            f"filter's strongest unit in the image; an example shows the crop under that unit's receptive field, "
            f"or, where the field is narrower than a third of the image, a third of the image around it with the field "
            f"outlined in red.</p>")
    path = root / "index.html"
    _write(path, _page(f"cnnviz atlas: {info['model']}", 0, nav, body, info.get("untrained", False)))
    return path


def _examples(state: dict, rec: dict, f: int, n: int | None = None) -> str:
    if rec["active_share"] == 0 and rec["max"] <= 0:  # a tie of zeros: any image would do, none is an example
        return f'<p class="muted small">does not fire (max &le; 0) on any of the {state["count"]} images</p>'
    out = []
    fired = round(rec["active_share"] * state["count"])
    if n is None and fired <= len(rec["examples"]) and fired < state["count"]:
        out.append(f'<p class="muted small">fires (max &gt; 0) on {fired} of the {state["count"]} images; only those are shown</p>')
    for r, ex in enumerate(rec["examples"][:n]):
        label = state["labels"].get(str(ex["image"]), f"#{ex['image']}")
        out.append(f'<figure><img src="img/ex{f}_{r}.png" alt="example {r + 1} of filter {f}: {_e(label)}" '
                   f'title="{_e(label)} unit {tuple(ex["unit"])}"><figcaption>{ex["value"]:.3g}</figcaption></figure>')
    return f'<div class="examples">{"".join(out)}</div>'


def write_layer(root: Path, state: dict, prev: str | None, nxt: str | None) -> Path:
    """``<layer>/index.html``: a card per shown filter (visualisation + top examples with values)."""
    name = state["layer"]
    cards = []
    for rec, vis in zip(state["records"], state["vis"]):
        f = rec["index"]
        dead = '' if not vis["dead"] else ' <span class="dead">(dead)</span>'
        cards.append(f'<div class="card"><a class="vis" href="f{f}.html"><img class="px" src="img/vis{f}.png" '
                     f'alt="visualisation of filter {f}"></a><div><h3><a href="f{f}.html">filter {f}</a>{dead}</h3>'
                     f'<div class="muted small">mean {rec["mean"]:.3g} &middot; max {rec["max"]:.3g} &middot; fires on '
                     f'{rec["active_share"]:.0%}</div>{_examples(state, rec, f, 6)}</div></div>')
    nav = _nav((f"../{slug(prev)}/index.html", prev) if prev else None, ("../index.html", "overview"),
               (f"../{slug(nxt)}/index.html", nxt) if nxt else None)
    shown = len(state["records"])
    body = (f'<p>{_e(state["kind"])}, output {_e(_shape(state["shape"]))}, {state["params"]:,} parameters; '
            f'{shown} of {state["filters"]} filters shown. Receptive field {state["field"]["size"][0]:g} px, '
            f'stride {state["field"]["jump"][0]:g} px. Under each filter: its top examples from the data with the '
            f'activation of the strongest unit.</p><div class="grid">{"".join(cards)}</div>')
    path = root / slug(name) / "index.html"
    _write(path, _page(f"{state['model']} / {name}", 1, nav, body, state.get("untrained", False)))
    return path


def write_filter(root: Path, state: dict, k: int) -> Path:
    """``<layer>/f<i>.html``: large visualisation, top examples, histogram, weights, diversity pictures (when
    the atlas has them), reproducing commands."""
    rec, vis = state["records"][k], state["vis"][k]
    f, name, cmd = rec["index"], state["layer"], state["commands"]
    commands = [("visualisation", f"{cmd['filters']} --filters {f}")]
    k_div = state.get("diversity") or 0
    if k_div:
        commands.append(("diversity", f"{cmd['filters']} --filters {f} --diversity {k_div}"))
    recs = state["records"]
    nav = _nav((f"f{recs[k - 1]['index']}.html", f"filter {recs[k - 1]['index']}") if k > 0 else None,
               ("index.html", name),
               (f"f{recs[k + 1]['index']}.html", f"filter {recs[k + 1]['index']}") if k + 1 < len(recs) else None)
    rows = [("mean activation", f"{rec['mean']:.4g}"), ("highest activation", f"{rec['max']:.4g}"),
            ("fires on (max &gt; 0)", f"{rec['active_share']:.1%} of {state['count']} images"),
            ("visualisation reaches", f"{vis['activation']:.4g}" + (" (dead)" if vis["dead"] else ""))]
    table = "".join(f"<tr><th>{a}</th><td>{b}</td></tr>" for a, b in rows)
    ex_list = []
    for r, ex in enumerate(rec["examples"] if rec["active_share"] > 0 or rec["max"] > 0 else []):
        label = state["labels"].get(str(ex["image"]), f"image #{ex['image']} of {state['data']}")
        ex_list.append(f"<li>{ex['value']:.4g}: {_e(label)}, unit {tuple(ex['unit'])}, pixels [{ex['box'][0]}:{ex['box'][2]}, "
                       f"{ex['box'][1]}:{ex['box'][3]}]</li>")
        if str(ex["image"]) in state["labels"] and len(commands) < 4 + bool(k_div):
            commands.append(("activation maps of example " + str(r + 1), cmd["activations"].replace("{IMAGE}", shlex.quote(label))))
    weights = ""
    if state.get("weights"):
        weights = (f'<div class="panel"><h2>Incoming weights</h2><img class="px" src="img/w{f}.png" alt="weights of filter {f}">'
                   f'<p class="muted small">{_e(state["weights"])}</p></div>')
    diverse = ""
    if k_div:
        figs = "".join(f'<figure><img class="px" src="img/div{f}_{j}.png" alt="diversity picture {j + 1} of {k_div} for filter {f}">'
                       f'<figcaption>{j + 1}</figcaption></figure>' for j in range(k_div))
        diverse = (f'<div class="panel diverse"><h2>Diversity: {k_div} different inputs that also drive this filter</h2>'
                   f'<div class="examples">{figs}</div><p class="muted small">Rendered together with a penalty on their '
                   f'similarity (lucid\'s diversity term), so each shows another way to excite filter {f}.</p></div>')
    body = (f'<div class="row"><div class="panel big"><h2>Visualisation</h2><img class="px" src="img/vis{f}.png" '
            f'alt="visualisation of filter {f}"></div>'
            f'<div class="panel"><h2>Activation over the data</h2><table>{table}</table>'
            f'{histogram_svg(rec["hist_edges"], rec["hist_counts"], f"histogram of the per-image maximum of filter {f}")}'
            f'<p class="muted small">Histogram: the maximum over positions of filter {f} for each of the '
            f'{state["count"]} images.</p></div>{weights}</div>{diverse}'
            f'<div class="panel"><h2>Top {len(rec["examples"])} examples (of the images where it fires)</h2>{_examples(state, rec, f)}'
            f'<ol class="small">{"".join(ex_list)}</ol></div>'
            f'<div class="panel"><h2>Reproduce</h2><table class="small">'
            + "".join(f"<tr><th>{_e(what)}</th><td><code>{_e(c)}</code></td></tr>" for what, c in commands)
            + "</table></div>")
    path = root / slug(name) / f"f{f}.html"
    _write(path, _page(f"{state['model']} / {name} / filter {f}", 1, nav, body, state.get("untrained", False)))
    return path


def write_css(root: Path) -> None:
    _write(root / "style.css", CSS.lstrip())
