"""The work-summary generator: sections registered by apps, Markdown out, the same text as .docx."""

import datetime as dt
import io
from io import BytesIO
from pathlib import Path

import docx
import pytest
from django.core.management import CommandError, call_command

from reports import sections
from reports.docx import markdown_docx
from reports.sections import Block, Section, blocks, build_summary

TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture
def test_sections(settings, monkeypatch):
    """Only two test sections (the apps' own are imported first, then set aside)."""
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], TEMPLATES]}]
    sections.load_sections()
    registered: dict[str, Section] = {}
    monkeypatch.setattr(sections, "_SECTIONS", registered)

    @sections.summary_section("health", order=20, title="卫生方面", template="reports_test/section.md")
    def health(unit, year):
        return {"what": "开展爱国卫生活动", "items": ["健康科普", "环境整治"]}

    @sections.summary_section("outbreak", order=5, title="疫情防控方面", template="reports_test/section.md")
    def outbreak(unit, year):
        return {"what": f"{unit.name}完成全员核酸检测"}

    @sections.summary_section("empty", order=30, title="空白方面", template="reports_test/section.md")
    def empty(unit, year):
        return None  # nothing to say for this unit and year: the section is left out

    return registered


def test_sections_come_in_their_order_as_one_markdown_document(world, test_sections):
    summary = build_summary(world.east, 2022)
    assert summary.title == "2022年东城街道工作总结"
    assert [title for title, _text in summary.sections] == ["疫情防控方面", "卫生方面"]
    assert summary.markdown() == (
        "# 2022年东城街道工作总结\n\n"
        "## 疫情防控方面\n\n东城街道2022年：东城街道完成全员核酸检测。\n\n"
        "## 卫生方面\n\n东城街道2022年：开展爱国卫生活动。\n\n1、健康科普\n\n2、环境整治\n"
    )


def test_apps_register_their_sections_from_their_summary_module():
    loaded = sections.load_sections()
    familyplanning = next(s for s in loaded if s.name == "familyplanning")
    assert (str(familyplanning.title), familyplanning.template) == ("计生方面", "familyplanning/summary_section.md")
    assert [s.order for s in loaded] == sorted(s.order for s in loaded)


def test_markdown_lines_become_headings_paragraphs_and_numbered_lines():
    md = "# 标题\n\n## 计生方面\n\n第一段。\n\n### （二）款额\n1、合计\n①伤残：17人\n（三）其他\n\n末段"
    assert blocks(md) == [
        Block("heading", "标题", 1),
        Block("heading", "计生方面", 2),
        Block("paragraph", "第一段。"),
        Block("heading", "（二）款额", 3),
        Block("item", "1、合计"),
        Block("item", "①伤残：17人"),
        Block("item", "（三）其他"),
        Block("paragraph", "末段"),
    ]


def test_the_docx_has_the_same_text_with_word_headings():
    md = "# 2022年东城街道工作总结\n\n## 计生方面\n\n全年共出生3人。\n\n### 录入款额\n\n①伤残：2人\n"
    document = docx.Document(BytesIO(markdown_docx(md)))
    rows = [(p.style.name, p.text) for p in document.paragraphs]
    assert rows == [
        ("Heading 1", "2022年东城街道工作总结"),
        ("Heading 2", "计生方面"),
        ("Normal", "全年共出生3人。"),
        ("Heading 3", "录入款额"),
        ("Normal", "①伤残：2人"),
    ]
    body, item = document.paragraphs[2], document.paragraphs[4]
    assert body.paragraph_format.first_line_indent is not None and item.paragraph_format.left_indent is not None


def test_command_prints_markdown_and_writes_docx(world, test_sections, tmp_path):
    out = io.StringIO()
    call_command("summary", "--unit", world.east.code, "--year", "2022", stdout=out)
    assert out.getvalue().startswith("# 2022年东城街道工作总结\n") and "## 卫生方面" in out.getvalue()
    target = tmp_path / "summary.docx"
    call_command(
        "summary", "--unit", world.east.code, "--year", "2022", "--format", "docx", "--output", str(target),
        stderr=io.StringIO(),
    )  # fmt: skip
    texts = [p.text for p in docx.Document(str(target)).paragraphs]
    assert texts[0] == "2022年东城街道工作总结" and "东城街道2022年：开展爱国卫生活动。" in texts


def test_command_refuses_bad_input(world):
    with pytest.raises(CommandError, match="不存在"):
        call_command("summary", "--unit", "999999", "--year", "2022")
    with pytest.raises(CommandError, match="晚于今年"):
        call_command("summary", "--unit", world.east.code, "--year", str(dt.date.today().year + 1))
    with pytest.raises(CommandError, match="--output"):
        call_command("summary", "--unit", world.east.code, "--year", "2022", "--format", "docx")
    with pytest.raises(CommandError, match="四位年份"):
        call_command("summary", "--unit", world.east.code, "--year", "22")


def test_the_summary_stays_chinese_when_the_reader_uses_english(world):
    from django.utils import translation

    from reports.sections import build_summary

    with translation.override("en"):
        summary = build_summary(world.east, 2022)
    assert summary.title == "2022年东城街道工作总结"
