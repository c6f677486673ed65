"""Text as the search index sees it: folded, and cut into pieces.

Chinese has no spaces between words and the project no word dictionary, so
each run of CJK characters is cut into overlapping two-character pieces:
普京與拜登 becomes 普京 京與 與拜 拜登. See articles/search.py for how pieces are
indexed and queried.

This module knows nothing of Django: the import's worker processes cut each
article's pieces while they parse and render it.
"""

import functools
import re
import unicodedata
from collections.abc import Iterable
from importlib.resources import files

from opencc import OpenCC

from . import markup

# Scripts written without spaces between words: cut into two-character pieces.
CJK = (
    "\u3005\u3007"  # 々 〇
    "\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff"  # kana (not the ・ between names)
    "\u3100-\u312f"  # bopomofo
    "\u3400-\u4dbf\u4e00-\u9fff"  # ideographs, extension A
    "\uac00-\ud7af"  # hangul syllables
    "\uf900-\ufaff"  # compatibility ideographs
    "\U00020000-\U0003134f"  # extensions B to G
)
# A run of CJK characters, a word of other letters, or a number.
TOKEN = re.compile(rf"(?P<cjk>[{CJK}]+)|(?P<word>[^\W\d_{CJK}]+)|(?P<number>\d+)")
CJK_CHARACTER = re.compile(f"[{CJK}]")
# Stands between two runs of text whose pieces would otherwise look adjacent
# (…香港。港人… must not match 香港人). Not a word character, so no query has it.
BOUNDARY = "¶"
# Long enough for any real word; keeps PostgreSQL's 2 KB lexeme limit far away.
MAX_WORD = 64


# -- Folding ------------------------------------------------------------------


# Latin, punctuation, CJK symbols, kana, ideographs, full-width forms.
_COMMON_RANGES = (
    (0, 0x250),
    (0x2000, 0x2070),
    (0x3000, 0x3100),
    (0x3400, 0xA000),
    (0xFF00, 0xFFF0),
)


@functools.cache
def _fold_table() -> dict[int, int | str]:
    """One character for one character: HK and Traditional forms to Simplified,
    full-width Latin to ASCII, compatibility ideographs to unified ones.

    Folding goes Traditional→Simplified because that direction is many-to-one
    (後 and 后 → 后; 發 and 髮 → 发): any two spellings of a word that a reader
    could mean fold to the same text, so a Simplified query finds Traditional
    text and the reverse. Simplified→Traditional has to guess (发 → 發 or 髮?)
    and would miss. The price is a little precision (後 also finds 皇后).

    The table comes from OpenCC's `hk2s` conversion, asked once for each
    character its dictionaries know. Its phrase rules are left out on purpose:
    a per-character fold gives a substring of the text the same fold as the
    text itself, which a query needs. Converting text with OpenCC directly
    costs ~10 ms per 1,000 characters (pure Python); this table with
    `str.translate`, ~0.07 ms. Building it takes ~0.25 s, once per process.
    """
    converter = OpenCC("hk2s")
    characters: list[str] = []
    for name in ("HKVariantsRev.txt", "TSCharacters.txt"):
        text = (files("opencc") / "dictionary" / name).read_text(encoding="utf-8")
        characters += [line.split("\t")[0] for line in text.splitlines() if line[1:2] == "\t"]
    converted = converter.convert("\n".join(characters)).split("\n")
    table: dict[str, str] = {}
    for character, result in zip(characters, converted, strict=True):
        # This port writes every candidate ("干 乾" for 乾); the first is OpenCC's choice.
        first = result.split(" ")[0]
        if len(first) == 1 and first != character:
            table[character] = first
    for character in list(table):
        # Follow chains (薴 → 苧 → 苎) so that folding twice changes nothing.
        seen, target = {character}, table[character]
        while target in table and target not in seen:
            seen.add(target)
            target = table[target]
        table[character] = target
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII
        table[chr(code)] = chr(code - 0xFEE0)
    table["\u3000"] = " "
    for code in range(0xF900, 0xFB00):
        unified = unicodedata.normalize("NFKC", chr(code))
        if len(unified) == 1 and unified != chr(code):
            table[chr(code)] = table.get(unified, unified)
    # str.translate raises and catches a KeyError for every character it does
    # not find: mapping the common ranges to themselves makes folding ~3× faster.
    identity = {code: code for start, end in _COMMON_RANGES for code in range(start, end)}
    return identity | {ord(character): target for character, target in table.items()}


def fold(text: str) -> str:
    """Text as the index sees it: Simplified, half-width, lower case."""
    return text.translate(_fold_table()).lower()


@functools.cache
def _spellings() -> dict[str, str]:
    """For each folded character, every character that folds to it, itself
    included (后 → 后後, k → kKＫＫ), where there is more than one. Asked of
    the fold table and of every letter of the Basic Multilingual Plane that
    lower-cases to another (~20 ms, once per process)."""
    table = _fold_table()
    changing = {chr(code) for code, target in table.items() if target not in (code, chr(code))}
    changing.update(c for c in map(chr, range(0xD800)) if c.lower() != c)
    changing.update(c for c in map(chr, range(0xE000, 0x10000)) if c.lower() != c)
    found: dict[str, str] = {}
    for character in sorted(changing):
        folded = fold(character)
        if len(folded) == 1 and folded != character:
            found[folded] = found.get(folded, folded) + character
    return found


def any_spelling(word: str) -> str:
    """A regular expression that finds a folded word in text as it was written
    (any text whose `fold` is `word`), so the text need not be folded first:
    乌克兰 finds 烏克蘭, putin finds Putin and ＰＵＴＩＮ."""
    spellings = _spellings()
    return "".join(
        f"[{re.escape(spellings[character])}]" if character in spellings else re.escape(character)
        for character in word
    )


# -- Pieces -------------------------------------------------------------------


def pieces(text: str) -> str:
    """The search pieces of one field, separated and surrounded by spaces.

    Each run of CJK characters gives its overlapping two-character pieces in
    order; each character of it is also listed once, after all the pieces, so
    that a one-character query is a single index lookup. (A prefix query on the
    pieces would miss the last character of a run, and for a common character
    make the index merge thousands of piece lists.) Other words and numbers are
    pieces as they are, lower-cased. `BOUNDARY` separates two runs where the
    first ends with the character the second begins with.
    """
    out: list[str] = []
    characters: set[str] = set()
    last = ""  # the last character of the previous run's pieces, if they came last
    for match in TOKEN.finditer(fold(text)):
        token = match.group()
        if match.lastgroup == "cjk":
            characters.update(token)
            if len(token) > 1:
                if token[0] == last:
                    out.append(BOUNDARY)
                out += [token[i : i + 2] for i in range(len(token) - 1)]
                last = token[-1]
        else:
            out.append(token[:MAX_WORD])
            last = ""
    out += sorted(characters)
    return f" {' '.join(out)} " if out else ""


def document(*, title: str, tags: Iterable[str], captions: Iterable[str], body_html: str) -> dict:
    """The fields of an article's `SearchDocument`."""
    return {
        "title": pieces(title),
        # One line each, so that two tags never read as one run.
        "tags": pieces("\n".join(tags)),
        "captions": pieces("\n".join(captions)),
        "body": pieces(markup.plain_text(body_html)),
    }
