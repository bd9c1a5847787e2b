"""A griffe extension (loaded by mkdocstrings, see mkdocs.yml) for cnnviz's docstrings, which use
Sphinx roles: ``:class:`~cnnviz.results.FilterResult``` becomes the Markdown cross-reference
``[`FilterResult`][cnnviz.results.FilterResult]`` (a link where that object is documented on the
site, plain code otherwise), and ``:meth:`save``` becomes ```save```."""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(class|func|meth|mod|attr|obj|data|exc):`(~?)([^`]+)`")
#: Modules whose public members have a section on the API page: a role naming one of them is a link;
#: any other (internal) target is shown as code, since the site has no page for it.
DOCUMENTED = ("cnnviz", "cnnviz.results", "cnnviz.callbacks")
#: Documented under another path than the docstring names.
MOVED = {"cnnviz.results.LayersResult": "cnnviz.results.layers.LayersResult"}


def _replace(match: re.Match) -> str:
    role, short, target = match.group(1), match.group(2), match.group(3)
    shown = target.rsplit(".", 1)[-1] if short else target
    target = MOVED.get(target, target)
    documented = target in DOCUMENTED if role == "mod" else target.rsplit(".", 1)[0] in DOCUMENTED
    if not documented and target not in MOVED.values():
        return f"`{shown}`"  # a relative or internal name: no section to link to
    return f"[`{shown}`][{target}]"


class RestRoles(griffe.Extension):
    def on_object(self, *, obj, loader, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(_replace, obj.docstring.value)
