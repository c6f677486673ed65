import pytest

from articles.captions import split_credit


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        ("普京（左）成功逼使拜登（右）再上談判桌。圖為二人6月在日內瓦會面。美聯社",
         ("普京（左）成功逼使拜登（右）再上談判桌。圖為二人6月在日內瓦會面。", "美聯社")),
        ("俄軍陳兵烏克蘭邊境，以武逼談。資料圖片", ("俄軍陳兵烏克蘭邊境，以武逼談。", "資料圖片")),
        ("拜登：「我不會接受任何人的紅線。」資料圖片", ("拜登：「我不會接受任何人的紅線。」", "資料圖片")),
        ("示威者在旺角聚集。何君健攝", ("示威者在旺角聚集。", "何君健攝")),
        ("記者會現場。眾新聞記者攝", ("記者會現場。", "眾新聞記者攝")),
        ("白宮外。美聯社圖片", ("白宮外。", "美聯社圖片")),
        ("2019年的集會。美聯社資料圖片", ("2019年的集會。", "美聯社資料圖片")),
        ("網民流傳的相片。網上圖片", ("網民流傳的相片。", "網上圖片")),
        ("團體在網上發起聯署。Facebook圖片", ("團體在網上發起聯署。", "Facebook圖片")),
        ("事主展示傷勢。受訪者提供", ("事主展示傷勢。", "受訪者提供")),
        ("特首出席活動。政府新聞處圖片", ("特首出席活動。", "政府新聞處圖片")),
        ("報章頭版。《蘋果日報》照片", ("報章頭版。", "《蘋果日報》照片")),
        ("歷年數字比較。眾新聞製圖", ("歷年數字比較。", "眾新聞製圖")),
        ("城市插畫。插圖來源：goanywhere.com", ("城市插畫。", "插圖來源：goanywhere.com")),
        ("示威者在旺角聚集 何君健攝", ("示威者在旺角聚集", "何君健攝")),
        ("會面時握手（美聯社）", ("會面時握手", "美聯社")),
        ("會議期間的情況美聯社", ("會議期間的情況", "美聯社")),
        ("資料圖片", ("", "資料圖片")),
        ("何君健攝", ("", "何君健攝")),
        ("插圖來源：goanywhere.com", ("", "插圖來源：goanywhere.com")),
    ],
)  # fmt: skip
def test_credit_is_split_from_real_caption_shapes(caption, expected):
    assert split_credit(caption) == expected


@pytest.mark.parametrize(
    "caption",
    [
        "普京（左）與拜登（右）",
        "政府表示會向市民提供協助",
        "示威者在旺角聚集何君健攝影展覽場外的人群，當日人數眾多",
        "沒有來源的圖片說明",
        "Protesters gather in Central",
    ],
)
def test_caption_without_credit_keeps_all_its_text(caption):
    assert split_credit(caption) == (caption, "")


def test_empty_caption():
    assert split_credit("   ") == ("", "")
