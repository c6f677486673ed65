"""Seed files made to order, shaped like the real archive (see ARCHIVE.md).

Tests build single files with `seed_text(...)`; the benchmarks build whole
archives with `archive(n)`, which mixes in every bad shape the real backup has,
in about the same proportions.
"""

import random
from collections.abc import Iterator
from pathlib import Path

LOST_SLUG = "%EF%BF%BD" * 6 + "-" + "%EF%BF%BD" * 9
SECTIONS = ["眾聞", "眾說", "眾觀", "tri-angles", "眾數", "眾坊", "我們"]
AUTHORS = ["眾新聞記者", "何君健", "林振東", "博客 | 專業和你傾", "陳朗昇", "Citizen News"]
TAGS = [
    "普京", "Vladimir Putin", "putin", "Putin", "烏克蘭", "拜登", "香港", "立法會", "國安法",
    "新冠肺炎", "COVID-19", "covid-19", "教育", "林鄭月娥", "Carrie Lam", "選舉", "法庭",
    "警察", "示威", "經濟", "房屋", "中國", "台灣", "美國", "世界這一天", "環境", "文化",
]  # fmt: skip
CREDITS = [
    "何君健攝", "眾新聞記者攝", "美聯社", "美聯社圖片", "美聯社資料圖片", "資料圖片", "網上圖片",
    "Facebook圖片", "受訪者提供", "政府新聞處圖片", "《蘋果日報》照片", "眾新聞製圖",
    "插圖來源：goanywhere.com",
]  # fmt: skip
VIDEO_TARGETS = [
    "https://www.youtube.com/embed/dQw4w9WgXcQ",
    "https://www.youtube.com/embed/aBcDeFgHiJk?start=133",
    "https://www.facebook.com/plugins/video.php?href=https%3A%2F%2Fwww.facebook.com%2Fhkcnews%2Fvideos%2F1234567890%2F",
    "https://roundme.com/embed/12345/67890",
    "https://www.dailymotion.com/embed/video/x7tgad0",
]
CHARACTERS = (
    "的一是不了人我在有他這中大來上個國到說們為子和你地出道也時年得就那要下以生會自著去之過"
    "家學對可她裡後小麼心多天而能好都然沒日於起還發成事只作當想看文無開手十用主行方又如前所本"
    "見經頭面公同三已老從動兩長知民樣現分將外但身些與高意進把法此實回二理美點月明其種聲全工己"
    "話兒者向情部正名定女問力機給等幾很業最間新什打便位因重被走電四第門相次東政海口使教西再平"
    "香港政府立法會議員市民警方法庭記者示威選舉經濟房屋普京拜登烏克蘭俄羅斯北約峰會危機"
)


def quote(value: str) -> str:
    """A YAML double-quoted string, as the archive writes them."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def original_url(number: int, slug: str = "", www: bool = True) -> str:
    host = "www.hkcnews.com" if www else "hkcnews.com"
    return f"https://{host}/article/{number}/{slug or LOST_SLUG}"


def wayback(url: str, stamp: str = "20220118160222", kind: str = "") -> str:
    return f"https://web.archive.org/web/{stamp}{kind}/{url}"


def figure_html(image: str, caption: str | None = "圖片說明。資料圖片", alt: str = "") -> str:
    src = wayback(image, kind="im_")
    lines = ["<figure>", f'<img src="{src}" alt="{alt}">']
    if caption is not None:
        lines.append(f"<figcaption>{caption}</figcaption>")
    lines.append("</figure>")
    return "\n".join(lines)


def video_shortcode(target: str, protocol_relative: bool = False) -> str:
    src = wayback(target, kind="if_")
    if protocol_relative:
        src = src.removeprefix("https:")
    return f'{{{{< video src="{src}" >}}}}'


def seed_text(
    number: int = 48691,
    *,
    title: str = "拜登、普京第二次峰會　謀化解烏克蘭危機",
    date: str = "2021-12-07",
    last_updated: str | None = None,
    author: str = "眾新聞記者",
    category: str | None = "眾聞",
    tags: list[str] | None = None,
    url: str | None = None,
    original: str | None = None,
    body: str | None = None,
    heading: bool = True,
    newline: str = "\n",
) -> str:
    """One seed file; every argument is a front matter value or the body."""
    original = original or original_url(number)
    lines = ["---", f"title: {quote(title)}", f"date: {quote(date)}"]
    if last_updated is not None:
        lines.append(f"last_updated: {quote(last_updated)}")
    lines.append(f"author: {quote(author)}")
    if category is not None:
        lines.append(f"category: {quote(category)}")
    if tags:
        lines.append("tags:")
        lines += [f"  - {quote(tag)}" for tag in tags]
    lines.append(f"url: {quote(url or wayback(original))}")
    lines.append(f"original_url: {quote(original)}")
    lines.append("---")
    lines.append("")
    if heading and title:
        lines += [f"# {title}", ""]
    if body is None:
        body = "美國總統拜登和俄羅斯總統普京周二晚舉行視像會議。\n\n" + figure_html(
            "https://www.hkcnews.com/news_新聞/2021/12/putin.jpg", "普京與拜登會面。美聯社"
        )
    lines.append(body)
    return newline.join(lines) + newline


def write_seed(folder: Path, name: str = "seed.txt", text: str | None = None, **values) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    content = text if text is not None else seed_text(**values)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _sentence(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(CHARACTERS) for _ in range(length)) + rng.choice("。，！？") + "。"


def archive_body(rng: random.Random, number: int, paragraphs: int) -> str:
    """A body like the archive's: paragraphs, subheadings, figures, videos, tables, links."""
    parts = []
    for n in range(paragraphs):
        roll = rng.random()
        if roll < 0.28:
            caption = None if rng.random() < 0.05 else _sentence(rng, 20) + rng.choice(CREDITS)
            image = f"https://www.hkcnews.com/news_新聞/2021/{number}/圖片 {n}%20large.jpg"
            parts.append(figure_html(image, caption))
        elif roll < 0.32:
            target = rng.choice(VIDEO_TARGETS)
            parts.append(video_shortcode(target, protocol_relative=rng.random() < 0.05))
        elif roll < 0.40:
            parts.append("### " + _sentence(rng, 10).rstrip("。"))
        elif roll < 0.42:
            parts.append("| 項目 | 數字 |\n| --- | ---: |\n| 甲 | 12 |\n| 乙 | 34 |")
        else:
            text = " ".join(_sentence(rng, rng.randint(25, 60)) for _ in range(rng.randint(2, 4)))
            if rng.random() < 0.15:
                text += " [訂閱](/web/20210412060643/https://hkcnews.com/aboutus/#subscribe)"
            if rng.random() < 0.1:
                text = "**" + text[:20] + "**" + text[20:]
            parts.append(text)
    if rng.random() < 0.3:
        parts += [
            "---",
            "**眾新聞需要你的支持，請訂閱。**",
            "![博客 | 專業和你傾](https://web.archive.org/web/20210101000000im_/https://www.hkcnews.com/avatar.jpg)",
            "**博客 | 專業和你傾**",
            "一群專業人士。",
        ]
    return "\n\n".join(parts)


def archive(count: int, *, seed: int = 20211207) -> Iterator[tuple[str, str | bytes]]:
    """`count` archive-shaped seed files as (file name, content), with the bad shapes."""
    rng = random.Random(seed)
    for i in range(count):
        number = 174 + i
        name = f"{i:06d}_{number:x}.txt"
        roll = rng.random()
        if roll < 0.018:  # failed captures: shutdown notice, offline page, no title
            title = rng.choice(["眾新聞告別　感謝讀者", "Temporarily Offline", ""])
            yield (
                name,
                seed_text(
                    number, title=title, date="", author="", category=None, body="", heading=False
                ),
            )
            continue
        title = _sentence(rng, rng.randint(8, 24)).rstrip("。")
        if roll < 0.02:
            title = '"The Bill is Dead" 的弦外之音'
        date = f"{rng.randint(2017, 2021)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        values = dict(
            title=title,
            date="" if rng.random() < 0.0032 else date,
            last_updated=f"{date} 12:34:56" if rng.random() < 0.28 else None,
            author="" if rng.random() < 0.018 else rng.choice(AUTHORS),
            category=rng.choice(SECTIONS),
            tags=rng.sample(TAGS, rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 12])),
            original=original_url(
                number,
                slug="" if rng.random() < 0.19 else f"slug-{number}",
                www=rng.random() > 0.067,
            ),
            body=archive_body(rng, number, rng.randint(8, 22)),
        )
        text = seed_text(number, **values)
        if rng.random() < 0.001:
            text = text.replace(title, title[:3] + "\x03" + title[3:] + "\x1c", 1)
        if rng.random() < 0.001:
            text = text.replace("\n", "\r\n")
        yield name, text


def write_archive(folder: Path, count: int, **options) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [write_seed(folder, name, text=text) for name, text in archive(count, **options)]
