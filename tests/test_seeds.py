import datetime as dt
import unicodedata

import pytest

from articles.seeds import SeedError, parse_seed, read_seed

from .seedfiles import LOST_SLUG, figure_html, original_url, quote, seed_text, video_shortcode


def parse(text: str | bytes, **options):
    return parse_seed(text.encode("utf-8") if isinstance(text, str) else text, **options)


def error_of(text: str | bytes, **options) -> SeedError:
    with pytest.raises(SeedError) as caught:
        parse(text, **options)
    return caught.value


def test_sample_seed(sample):
    seed = read_seed(sample)
    assert seed.number == 48691
    assert seed.title == "拜登、普京第二次峰會　謀化解烏克蘭危機"
    assert seed.date == dt.date(2021, 12, 7)
    assert seed.author == "眾新聞記者"
    assert seed.category == "眾聞"
    assert seed.tags == ["普京", "Vladimir Putin", "putin", "烏克蘭", "拜登"]
    assert [figure.credit for figure in seed.figures] == [
        "美聯社",
        "資料圖片",
        "資料圖片",
        "美聯社",
    ]
    assert seed.figures[0].original_image_url.startswith("https://www.hkcnews.com/news_新聞/")
    assert seed.figures[0].line == 20
    assert seed.lines["title"] == 2 and seed.lines["original_url"] == 13
    assert seed.warnings == []
    assert not seed.is_failed_capture


def test_body_refers_to_figures_in_place_and_drops_repeated_title(sample):
    seed = read_seed(sample)
    assert "<figure" not in seed.body
    assert seed.body.count("{{< figure") == 4
    assert seed.body.index("{{< figure 1 >}}") < seed.body.index("{{< figure 2 >}}")
    assert not seed.body.startswith("#")
    assert seed.title not in seed.body


def test_heading_that_differs_from_title_is_kept():
    seed = parse(seed_text(heading=False, body="# 另一個標題\n\n內文。"))
    assert seed.body.startswith("# 另一個標題")


def test_escaped_quotes_in_title():
    seed = parse(seed_text(title='"The Bill is Dead" 的弦外之音'))
    assert seed.title == '"The Bill is Dead" 的弦外之音'
    assert "Bill" not in seed.body


def test_byte_order_mark_is_fine():
    assert parse(b"\xef\xbb\xbf" + seed_text().encode()).number == 48691


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_endings(newline):
    seed = parse(seed_text(newline=newline))
    assert seed.number == 48691
    assert "\r" not in seed.body
    assert seed.figures[0].credit == "美聯社"


@pytest.mark.parametrize("character", ["\x03", "\x08", "\x1c", "\x7f", "\x85"])
def test_control_characters_are_removed_with_a_warning(character):
    seed = parse(seed_text(title=f"標題{character}中間"))
    assert seed.title == "標題中間"
    assert (seed.warnings[0].level, seed.warnings[0].line) == ("warning", 2)
    assert f"U+{ord(character):04X}" in seed.warnings[0].text


def test_mojibake_line_is_repaired_with_a_warning():
    text = seed_text(category="眾說").replace(
        '"眾說"', '"' + "眾說".encode().decode("ptcp154") + '"'
    )
    assert "зңҫиӘӘ" in text
    seed = parse(text)
    assert seed.category == "眾說"
    assert seed.warnings[0].line == 5 and "Cyrillic" in seed.warnings[0].text


def test_real_cyrillic_text_is_left_alone():
    seed = parse(seed_text(body="普京說：«Россия» 不會退讓。"))
    assert "Россия" in seed.body
    assert seed.warnings == []


def test_big5_bytes_are_refused_with_the_line():
    data = seed_text().encode("utf-8").replace("美國總統".encode(), "美國總統".encode("big5"))
    error = error_of(data)
    assert error.line == 12
    assert "not UTF-8" in error.text


def test_binary_file_is_refused():
    error = error_of(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert "NUL" in error.text or "UTF-8" in error.text


def test_oversized_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_bytes(seed_text().encode() + b"x" * 3_000_000)
    with pytest.raises(SeedError) as caught:
        read_seed(path)
    assert caught.value.line == 1 and "limit" in caught.value.text
    assert "limit" in error_of(seed_text(), max_bytes=500).text


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("# 只有內文\n\n沒有前言。\n", 1, "no front matter"),
        ("", 1, "no front matter"),
        ('---\ntitle: "標題"\noriginal_url: "https://hkcnews.com/article/1/x"\n\n內文', 1,
         "never closed"),
        ("---\n- 一\n- 二\n---\n", 2, "not a mapping"),
        ('---\n"只是字串"\n---\n', 2, "not a mapping"),
        ("---\n---\n", 2, "not a mapping"),
        ('---\ndate: "2021-12-07"\noriginal_url: "https://hkcnews.com/article/1/x"\n---\n', 2,
         "no 'title'"),
        ('---\ntitle: "標題"\ndate: "2021-12-07"\n---\n', 2, "no 'original_url'"),
        ('---\ntitle: "標題\noriginal_url: x\n---\n', 3, "quoted scalar that starts on line 2"),
        ('---\ntitle: [unclosed\n---\n', 3, "not valid YAML"),
    ],
)  # fmt: skip
def test_refused_shapes_name_the_line(text, line, fragment):
    error = error_of(text)
    assert fragment in error.text
    assert error.line == line


def test_python_object_tag_is_refused():
    text = seed_text().replace(
        'author: "眾新聞記者"', 'author: !!python/object/apply:os.system ["id"]'
    )
    error = error_of(text)
    assert "tag" in error.text and error.line == 4


def test_custom_tag_is_refused():
    error = error_of(seed_text().replace('author: "眾新聞記者"', 'author: !shout "眾新聞記者"'))
    assert "tag !shout" in error.text


def test_alias_bomb_is_refused_without_expanding():
    bomb = "\n".join(
        ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        + [f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    )
    text = seed_text().replace("---\n", f"---\n{bomb}\n", 1)
    error = error_of(text)
    assert "anchors and aliases" in error.text and error.line == 2


def test_plain_anchor_is_refused():
    error = error_of(seed_text().replace('author: "眾新聞記者"', 'author: &who "眾新聞記者"'))
    assert "anchors and aliases" in error.text


def test_duplicate_key_is_refused_with_both_lines():
    text = seed_text().replace('author: "眾新聞記者"', 'author: "眾新聞記者"\ntitle: "另一個"')
    error = error_of(text)
    assert error.line == 5
    assert "duplicate key 'title' (first on line 2)" in error.text


def test_deep_nesting_is_refused():
    text = seed_text().replace('author: "眾新聞記者"', "author: " + "[" * 5000 + "]" * 5000)
    assert error_of(text).line == 4


@pytest.mark.parametrize(
    ("date", "fragment"),
    [
        ("2021-02-30", "not a real date"),
        ("2021/12/07", "not a real date"),
        ("昨天", "not a real date"),
    ],
)
def test_dates_must_be_real(date, fragment):
    error = error_of(seed_text(date=date))
    assert error.line == 3
    assert f'date "{date}" is {fragment}' in error.text


def test_empty_date_is_no_date():
    assert parse(seed_text(date="")).date is None


def test_last_updated_is_hong_kong_time():
    seed = parse(seed_text(last_updated="2021-12-08 09:30:00"))
    assert seed.last_updated == dt.datetime(2021, 12, 8, 1, 30, tzinfo=dt.UTC)
    assert error_of(seed_text(last_updated="2021-12-08")).line == 4


def test_tags_are_stripped_normalised_and_deduplicated():
    decomposed = unicodedata.normalize("NFD", "Café")
    seed = parse(seed_text(tags=["  普京 ", "", "Putin", "putin", "PUTIN", decomposed, "   "]))
    assert seed.tags == ["普京", "Putin", "Café"]
    assert unicodedata.is_normalized("NFC", seed.tags[2])
    assert sum("same tag" in w.text for w in seed.warnings) == 2


def test_tags_must_be_a_list_of_strings():
    text = seed_text(tags=["a"]).replace('tags:\n  - "a"', 'tags: "普京"')
    assert "list of strings" in error_of(text).text
    nested = seed_text(tags=["a"]).replace('  - "a"', '  - ["x", "y"]')
    error = error_of(nested)
    assert "'tags' items must be strings" in error.text and error.line == 7
    mapping = seed_text(tags=["a"]).replace('  - "a"', "  - {x: y}")
    assert error_of(mapping).line == 7


def test_title_must_be_a_string_not_a_list():
    text = seed_text().replace(
        'title: "拜登、普京第二次峰會　謀化解烏克蘭危機"', "title:\n  - 一\n  - 二"
    )
    assert "'title' must be a string" in error_of(text).text


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("javascript:alert(1)//article/1/", "http(s) URL"),
        ("ftp://hkcnews.com/article/1/x", "http(s) URL"),
        ("https://www.hkcnews.com/aboutus/", "no article number"),
        ("", "original_url is empty"),
    ],
)
def test_original_url_must_be_http_with_a_number(url, fragment):
    error = error_of(
        seed_text(original=url or None).replace(quote(original_url(48691)), quote(url))
    )
    assert fragment in error.text
    assert error.line == 7


def test_article_number_pattern_comes_from_options():
    text = seed_text(original="https://example.org/news/2024/777-title")
    assert parse(text, number_pattern=r"/news/\d+/(?P<number>\d+)-").number == 777


def test_lost_slug_still_identifies_the_article():
    assert parse(seed_text(17, original=original_url(17, LOST_SLUG, www=False))).number == 17


def test_empty_title_with_a_body_is_an_error():
    error = error_of(seed_text(title="", body="有內文。"))
    assert error.line == 2 and "title is empty" in error.text


@pytest.mark.parametrize("title", ["眾新聞告別　感謝讀者", "Temporarily Offline", ""])
def test_failed_captures_are_recognised(title):
    seed = parse(seed_text(title=title, date="", author="", category=None, body="", heading=False))
    assert seed.is_failed_capture


def test_unknown_key_is_a_warning():
    seed = parse(seed_text().replace("---\n", '---\nweather: "晴"\n', 1))
    assert [(w.line, w.text) for w in seed.warnings] == [(2, "unknown key 'weather' ignored")]


def test_figures_keep_order_alt_caption_and_unwrapped_url():
    body = "\n\n".join(
        [
            "第一段。",
            figure_html("https://www.hkcnews.com/圖 1.jpg", "第一張。何君健攝", alt="示威"),
            figure_html("https://www.hkcnews.com/2.jpg", None),
            figure_html("https://www.hkcnews.com/3.jpg", "沒有來源的說明"),
            figure_html("https://www.hkcnews.com/4.jpg", "有 <b>粗體</b> &amp; 實體。資料圖片"),
        ]
    )
    seed = parse(seed_text(body=body))
    assert [f.position for f in seed.figures] == [1, 2, 3, 4]
    first, second, third, fourth = seed.figures
    assert (first.alt, first.caption, first.credit) == ("示威", "第一張。", "何君健攝")
    assert first.original_image_url == "https://www.hkcnews.com/圖 1.jpg"
    assert first.image_url.startswith("https://web.archive.org/web/20220118160222im_/")
    assert (second.caption, second.credit) == ("", "")
    assert (third.caption, third.credit) == ("沒有來源的說明", "")
    assert (fourth.caption, fourth.credit) == ("有 粗體 & 實體。", "資料圖片")
    assert any("markup in the caption" in w.text for w in seed.warnings)
    assert seed.body.split("\n\n")[1:] == [
        "{{< figure 1 >}}", "{{< figure 2 >}}", "{{< figure 3 >}}", "{{< figure 4 >}}"
    ]  # fmt: skip


def test_figure_without_image_keeps_its_caption_and_warns():
    seed = parse(seed_text(body="<figure>\n<figcaption>只有說明。美聯社</figcaption>\n</figure>"))
    assert seed.figures[0].caption == "只有說明。"
    assert seed.figures[0].image_url == ""
    assert seed.warnings[0].line == 12 and "no image" in seed.warnings[0].text


def test_every_video_shortcode_becomes_a_video_in_place():
    body = "\n\n".join(
        [
            "開場。",
            video_shortcode("https://www.youtube.com/embed/aBcDeFgHiJk?start=133"),
            "中段。" + video_shortcode("https://roundme.com/embed/1/2") + "同一段。",
            video_shortcode(
                "https://www.dailymotion.com/embed/video/x7tgad0", protocol_relative=True
            ),
        ]
    )
    seed = parse(seed_text(body=body))
    assert [v.url for v in seed.videos] == [
        "https://www.youtube.com/embed/aBcDeFgHiJk?start=133",
        "https://roundme.com/embed/1/2",
        "https://www.dailymotion.com/embed/video/x7tgad0",
    ]
    assert seed.videos[2].archived_url.startswith("//web.archive.org/web/")
    assert [v.line for v in seed.videos] == [14, 16, 18]
    assert "{{< video src" not in seed.body
    assert [line for line in seed.body.split("\n") if "video" in line] == [
        "{{< video 1 >}}", "{{< video 2 >}}", "{{< video 3 >}}"
    ]  # fmt: skip


def test_unknown_shortcode_is_kept_and_reported():
    seed = parse(seed_text(body='{{< tweet id="1" >}}'))
    assert '{{< tweet id="1" >}}' in seed.body
    assert "unknown shortcode 'tweet'" in seed.warnings[0].text


def test_wayback_relative_links_become_absolute():
    body = (
        "[訂閱](/web/20210412060643/https://hkcnews.com/aboutus/#subscribe) "
        '<a href="/web/20210412060643/https://hkcnews.com/x">x</a> '
        "[外部](https://example.com/web/1/)"
    )
    seed = parse(seed_text(body=body))
    assert (
        "[訂閱](https://web.archive.org/web/20210412060643/https://hkcnews.com/aboutus/#subscribe)"
        in seed.body
    )
    assert 'href="https://web.archive.org/web/20210412060643/https://hkcnews.com/x"' in seed.body
    assert "[外部](https://example.com/web/1/)" in seed.body


def test_figure_and_video_addresses_must_be_web_addresses():
    body = (
        '<figure><img src="javascript:alert(1)" alt=""><figcaption>說明。美聯社</figcaption></figure>'
        '\n\n{{< video src="javascript:alert(1)" >}}\n\n{{< video >}}'
    )
    seed = parse(seed_text(body=body))
    assert seed.figures[0].image_url == "" and seed.figures[0].caption == "說明。"
    assert seed.videos == []
    assert "javascript" not in seed.body
    assert [w.text.split(":")[0] for w in seed.warnings] == [
        "figure 1", "video without a web address removed", "video without a web address removed"
    ]  # fmt: skip


def test_quoted_angle_bracket_in_an_attribute_does_not_end_the_image():
    body = '<figure><img alt="a > b" src="https://example.com/a.jpg" src="javascript:x"></figure>'
    assert parse(seed_text(body=body)).figures[0].image_url == "https://example.com/a.jpg"


@pytest.mark.parametrize(
    ("key", "url", "fragment"),
    [
        ("original_url", "https://[hkcnews.com/article/1/x", "not a valid URL"),
        ("original_url", "https://www.hkcnews.com＃/article/1/x", "not a valid URL"),
        ("url", "https://[web.archive.org/web/1/x", "not a valid URL"),
        ("original_url", "https://hkcnews.com/article/" + "9" * 5000, "out of range"),
        ("original_url", "https://hkcnews.com/article/99999999999", "out of range"),
    ],
)
def test_malformed_urls_are_seed_errors_not_crashes(key, url, fragment):
    text = seed_text(**{"original" if key == "original_url" else "url": url})
    error = error_of(text)
    assert fragment in error.text
    assert error.line == (7 if key == "original_url" else 6)


def test_number_pattern_capturing_text_is_a_seed_error():
    error = error_of(seed_text(), number_pattern=r"/article/\d+/(?P<number>[^/]+)")
    assert "is not a number" in error.text and error.line == 7


@pytest.mark.parametrize(
    ("body", "figures"),
    [
        ("<figure>" * 200_000, 0),
        ("{{< video" * 200_000, 0),
        ("<figure>" + "<img a" * 200_000 + "</figure>", 1),
        ("<figure>" + '<img "' * 200_000 + "</figure>", 1),
        ("<figure>" + "<figcaption><" * 100_000 + "</figure>", 1),
    ],
)
def test_unclosed_openings_near_the_size_limit_are_read_in_one_pass(body, figures):
    # Each of these once cost a scan to the end of the file per opening: hours.
    seed = parse(seed_text(body=body))
    assert len(seed.figures) == figures
    assert seed.videos == []


def test_many_figures_keep_their_lines():
    seed = parse(
        seed_text(body="<figure>\n<figcaption>說明。美聯社</figcaption>\n</figure>\n" * 30_000)
    )
    assert len(seed.figures) == 30_000
    assert seed.figures[-1].line == 12 + 3 * 29_999
    assert seed.figures[-1].credit == "美聯社"


def test_blank_lines_before_the_body_are_skipped_in_one_pass():
    # Skipping them by slicing the list of lines once took time quadratic in their number.
    seed = parse(seed_text(heading=False, body="\n" * 1_500_000 + "內文。"))
    assert seed.body == "內文。"


def test_body_line_is_where_the_body_starts(sample):
    assert read_seed(sample).body_line == 18
    assert parse(seed_text(heading=False, body="\n\n內文。")).body_line == 12


def test_references_in_attributes_are_read_as_a_browser_reads_them():
    # html.unescape would read "&region" as "®ion" and "&times" as "×".
    body = (
        '<figure><img src="https://example.com/a.jpg?s=2&region=hk&amp;x=1&copy=2" '
        'alt="&lt;b&gt; &amp; &copy 2021"></figure>\n\n'
        '{{< video src="https://example.com/v?a=1&para=2&times=3" >}}'
    )
    seed = parse(seed_text(body=body))
    assert seed.figures[0].image_url == "https://example.com/a.jpg?s=2&region=hk&x=1&copy=2"
    assert seed.figures[0].alt == "<b> & © 2021"
    assert seed.videos[0].archived_url == "https://example.com/v?a=1&para=2&times=3"
