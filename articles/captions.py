"""Split the credit off the end of a figure caption.

Captions in the archive end with who made or supplied the picture: a
photographer (何君健攝), an agency (美聯社資料圖片) or a source (網上圖片,
受訪者提供, 插圖來源：goanywhere.com). The split is conservative: a caption whose
ending does not look like a credit keeps all its text.
"""

import re

# The credit is the last segment of the caption, after one of these.
BOUNDARY = re.compile(r"[。！？!?；;」』）)\]】\s｜|]")
AGENCIES = (
    r"(?:美聯社|路透社|法新社|新華社|中新社|彭博社?|歐新社|共同社"
    r"|AP|AFP|Reuters|EPA|Getty Images|Bloomberg)"
)
CREDIT = re.compile(
    rf"""^(?:
        .{{1,20}}?攝(?:影)?                              # 何君健攝, 眾新聞記者攝
      | {AGENCIES}(?:資料)?(?:圖片|照片|相片|圖)?        # 美聯社, 美聯社資料圖片
      | .{{0,20}}?(?:資料圖片?|圖片|照片|相片|截圖|製圖|圖像)
                                                        # 網上圖片, 《蘋果日報》照片, 眾新聞製圖
      | .{{0,15}}?提供(?:圖片|照片|相片)?                 # 受訪者提供
      | (?:插圖|圖片|相片|照片|圖像|圖)?(?:來源|出處)[：:].+ # 插圖來源：goanywhere.com
      | (?:圖|攝影|相)[：:].{{1,30}}                       # 圖：美聯社
    )$""",
    re.VERBOSE,
)
# Endings that are credits even when nothing separates them from the caption.
SUFFIXES = (
    "美聯社資料圖片",
    "美聯社圖片",
    "美聯社",
    "路透社",
    "法新社",
    "資料圖片",
    "網上圖片",
    "受訪者提供",
    "眾新聞製圖",
    "眾新聞記者攝",
)
SOURCE_SUFFIX = re.compile(r"(?:插圖|圖片|相片|照片|圖)?來源[：:]\S+$")
# A caption that is nothing but a credit is short.
LONGEST_BARE_CREDIT = 10


def split_credit(caption: str) -> tuple[str, str]:
    """Return (caption, credit); credit is "" when the caption names none."""
    caption = caption.strip()
    if not caption:
        return "", ""
    boundaries = list(BOUNDARY.finditer(caption))
    if boundaries:
        cut = boundaries[-1].end()
        segment = caption[cut:]
        if segment and CREDIT.match(segment):
            return caption[:cut].rstrip(), segment
        opened = caption.rfind("（") if caption.endswith("）") else caption.rfind("(")
        if caption.endswith(("）", ")")) and opened > 0:
            inner = caption[opened + 1 : -1].strip()
            if inner and CREDIT.match(inner):
                return caption[:opened].rstrip(), inner
    for suffix in SUFFIXES:
        if caption.endswith(suffix):
            return caption[: -len(suffix)].rstrip(), suffix
    source = SOURCE_SUFFIX.search(caption)
    if source:
        return caption[: source.start()].rstrip(), source.group(0)
    if not boundaries and len(caption) <= LONGEST_BARE_CREDIT and CREDIT.match(caption):
        return "", caption
    return caption, ""
