"""The annual work summary (工作总结): a registry of sections that each app fills, one document out.

An app adds a section in its ``<app>/summary.py``::

    @summary_section("familyplanning", order=10, title=_("计生方面"), template="familyplanning/summary_section.md")
    def familyplanning(unit: OrgUnit, year: int) -> dict[str, Any] | None:
        return {...}  # the template's context; None when the section has nothing to say for the unit and year

The template is a Django template producing Markdown (paragraphs separated by blank lines,
``###`` for sub-headings). ``build_summary`` imports every installed app's ``summary`` module,
so a new module needs no change here. See docs/reports.md.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from orgunits.models import OrgUnit

SectionBuilder = Callable[[OrgUnit, int], dict[str, Any] | None]


@dataclass(frozen=True)
class Section:
    name: str
    order: int
    title: Any  # a lazy translation: shown in the language of the request that renders it
    template: str
    build: SectionBuilder


_SECTIONS: dict[str, Section] = {}


def summary_section(name: str, *, order: int, title: Any, template: str) -> Callable[[SectionBuilder], SectionBuilder]:
    """Register ``fn(unit, year) -> context`` as the section ``name`` rendered with ``template``."""

    def register(fn: SectionBuilder) -> SectionBuilder:
        _SECTIONS[name] = Section(name=name, order=order, title=title, template=template, build=fn)
        return fn

    return register


def load_sections() -> list[Section]:
    for config in apps.get_app_configs():
        module = f"{config.name}.summary"
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.name))


@dataclass
class Summary:
    unit: OrgUnit
    year: int
    title: str
    sections: list[tuple[str, str]] = field(default_factory=list)  # (title, Markdown text)

    def markdown(self) -> str:
        parts = [f"# {self.title}"]
        for title, text in self.sections:
            parts.append(f"## {title}")
            parts.append(text)
        return "\n\n".join(parts) + "\n"


def tidy(text: str) -> str:
    """Template output as clean Markdown: lines stripped, one blank line between paragraphs."""
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def build_summary(unit: OrgUnit, year: int) -> Summary:
    """The work summary of ``unit`` (and its subtree) for ``year``: each registered section, in order.

    Always in Chinese, whatever the reader's interface language: it is the office's document for
    the level above, and its sections are Chinese prose with figures spliced in.
    """
    with translation.override(SUMMARY_LANGUAGE):
        return _build_summary(unit, year)


SUMMARY_LANGUAGE = "zh-hans"


def _build_summary(unit: OrgUnit, year: int) -> Summary:
    summary = Summary(unit=unit, year=year, title=_("%(year)s年%(unit)s工作总结") % {"year": year, "unit": unit.name})
    for section in load_sections():
        context = section.build(unit, year)
        if context is None:
            continue
        text = tidy(render_to_string(section.template, {"unit": unit, "year": year, **context}))
        if text:
            summary.sections.append((str(section.title), text))
    return summary


# ---- reading the Markdown back: the page and the docx show the same blocks ----------------------------------


@dataclass(frozen=True)
class Block:
    kind: str  # "heading" | "paragraph" | "item" (a numbered line: "1、", "1.", "①")
    text: str
    level: int = 0  # heading level (1–6)


_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_NUMBERED = re.compile(r"^(\d+[.、．)]|[（(][一二三四五六七八九十\d]+[)）]|[①-⑳])")


def blocks(markdown: str) -> list[Block]:
    """The summary's Markdown as headings, paragraphs and numbered lines: one block per non-empty line.

    The documents are written one paragraph per line (as the offices type them), so a line is
    a paragraph; nothing else of Markdown is needed.
    """
    out = []
    for raw in markdown.splitlines():
        line = raw.strip()
        if not line:
            continue
        heading = _HEADING.match(line)
        if heading:
            out.append(Block("heading", heading.group(2).strip(), len(heading.group(1))))
        elif _NUMBERED.match(line):
            out.append(Block("item", line))
        else:
            out.append(Block("paragraph", line))
    return out
