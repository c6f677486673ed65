"""Cross-site scripting vectors, and what must never come out of a page."""

import re
from html.parser import HTMLParser

VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    "<svg><script>alert(1)</script></svg>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">click</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "![x](javascript:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    '<iframe src="https://evil.example/"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="https://evil.example/x.swf"></object>',
    '<embed src="https://evil.example/x.swf">',
    '<form action="https://evil.example/"><input name="q"><button>go</button></form>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<div onclick="alert(1)">click</div>',
    '<body onload="alert(1)">',
    '<details open ontoggle="alert(1)">x</details>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<base href="https://evil.example/">',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "<!--<img src=x onerror=alert(1)>-->",
    '<video><source onerror="alert(1)"></video>',
    "<audio src=x onerror=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<textarea><script>alert(1)</script></textarea>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<a href="https://ok.example/" onmouseover="alert(1)">hover</a>',
    "<marquee onstart=alert(1)>x</marquee>",
]

BAD_ELEMENTS = {
    "script", "iframe", "frame", "object", "embed", "applet", "form", "input", "button",
    "textarea", "select", "style", "link", "meta", "base", "svg", "math", "video", "audio",
    "source", "marquee", "details", "body", "html", "head", "template", "noscript",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "srcdoc", "poster", "xlink:href"}
BAD_SCHEME = re.compile(r"^\s*(javascript|vbscript|data):", re.IGNORECASE)


class _Finder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in BAD_ELEMENTS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}>")
            elif name == "style":
                self.found.append(f"<{tag} style>")
            elif name in URL_ATTRIBUTES and value and BAD_SCHEME.match(value.replace("\t", "")):
                self.found.append(f"<{tag} {name}={value[:20]}>")

    handle_startendtag = handle_starttag


def dangerous(html: str) -> list[str]:
    """What in this HTML would run in a browser: elements that run or embed code,
    event handlers, inline styles, and URLs with a scheme that executes."""
    finder = _Finder()
    finder.feed(html)
    finder.close()
    return finder.found
