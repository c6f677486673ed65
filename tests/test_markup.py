import pytest

from articles.markup import MarkupError, excerpt, render_body, sanitize, split_body

from .xss import VECTORS, dangerous


@pytest.mark.parametrize("vector", VECTORS)
def test_body_vectors_come_out_harmless(vector):
    html = render_body(f"前文。\n\n{vector}\n\n後文 {vector} 完。")
    assert dangerous(html) == []
    assert "前文" in html


def test_there_are_at_least_thirty_vectors():
    assert len(set(VECTORS)) >= 30


def test_vectors_are_dangerous_before_sanitising():
    # The check must be able to fail: most raw vectors trip it.
    assert sum(bool(dangerous(vector)) for vector in VECTORS) >= 30


def test_figures_tables_headings_emphasis_and_links_survive():
    body = "\n\n".join(
        [
            "### 小標題",
            "**粗體** 與 *斜體* 及 [連結](https://www.hkcnews.com/article/1/x)",
            "| 甲 | 乙 |\n| :-- | --: |\n| 1 | 2 |",
            '<figure><img src="https://example.com/a.jpg" alt="圖"><figcaption>說明</figcaption></figure>',
            "> 引言",
            "1. 一\n2. 二",
        ]
    )
    html = render_body(body)
    assert "<h3>小標題</h3>" in html
    assert "<strong>粗體</strong>" in html and "<em>斜體</em>" in html
    assert 'href="https://www.hkcnews.com/article/1/x"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
    assert "<table>" in html and '<td align="right">2</td>' in html
    assert "<figure>" in html and "<figcaption>說明</figcaption>" in html
    assert 'src="https://example.com/a.jpg"' in html and 'loading="lazy"' in html
    assert "<blockquote>" in html and "<ol>" in html


def test_references_become_markers_and_split_back():
    html = render_body("一。\n\n{{< figure 1 >}}\n\n二。\n\n{{< video 2 >}}")
    assert "<!--figure:1-->" in html and "<!--video:2-->" in html
    parts = split_body(html)
    assert [(p.kind, p.position) for p in parts if p.kind] == [("figure", 1), ("video", 2)]
    assert "".join(p.html for p in parts).count("<p>") == 2


def test_comments_in_the_body_cannot_forge_markers():
    html = render_body("<!--figure:1-->\n\n文字")
    assert "<!--" not in html


def test_reference_inside_a_paragraph_stays_text():
    html = render_body("文字 {{< figure 1 >}} 文字")
    assert "<!--figure" not in html


def test_excerpt_is_plain_text_cut_with_an_ellipsis():
    html = render_body("**第一句**。\n\n{{< figure 1 >}}\n\n" + "長" * 300)
    text = excerpt(html)
    assert text.startswith("第一句。 長")
    assert len(text) == 120 and text.endswith("…")
    assert "<" not in text
    assert excerpt(render_body("短 &amp; 好")) == "短 & 好"


def test_sanitize_keeps_plain_text():
    assert sanitize("普京 & 拜登") == "普京 &amp; 拜登"


def test_body_nested_too_deeply_is_a_markup_error_and_the_next_renders():
    nested = "\n".join("    " * level + "- 項目" for level in range(400))
    with pytest.raises(MarkupError, match="nested too deeply"):
        render_body(nested)
    assert render_body("**之後**") == "<p><strong>之後</strong></p>"


def test_after_a_body_nested_too_deeply_raw_html_renders_as_before():
    body = '<div class="x"><b>粗體</b></div>\n\n段落。\n\n- 項目'
    before = render_body(body)
    with pytest.raises(MarkupError):
        render_body("- " * 3000 + "項目")
    assert render_body(body) == before
    assert "<b>粗體</b>" in before
