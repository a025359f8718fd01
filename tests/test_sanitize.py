"""The allow-list sanitizer and URL check: hostile HTML loses everything that could run or
load, formatting survives, and every URL left is http(s)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from scraper.sanitize import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, LINK_REL, clean_html, safe_url

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="https://ok.example/a.png" onload="alert(1)">',
    "<svg onload=alert(1)><circle r=1></circle></svg>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><img src=x onerror=alert(1)></mtext></math>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<iframe src="javascript:alert(1)"></iframe>',
    "<details open ontoggle=alert(1)><summary>s</summary></details>",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="java&#x0A;script:alert(1)">x</a>',
    '<a href="&#106;&#97;vascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    '<a href="\x01javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<a href="//evil.example/">protocol-relative</a>',
    '<p style="background:url(https://evil.example/track)">styled</p>',
    "<style>@import url(https://evil.example/x.css)</style>",
    '<link rel=stylesheet href="https://evil.example/x.css">',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<body onload="alert(1)">',
    '<div onmouseover="alert(1)" id="clobber" class="x">hover</div>',
    '<a href="https://ok.example/" target="_blank" rel="opener">ok</a>',
    "<noscript><img src=x onerror=alert(1)></noscript>",
    "<template><script>alert(1)</script></template>",
    '<img src="https://ok.example/a.png" srcset="javascript:alert(1) 1x">',
    "<marquee onstart=alert(1)>m</marquee>",
    '<button formaction="javascript:alert(1)">b</button>',
    "<!--<img src=x onerror=alert(1)>-->",
    "<img src=`x`onerror=alert(1)>",
]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))


def parsed(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_html_keeps_only_allowed_tags_attributes_and_urls(payload: str) -> None:
    out = clean_html(payload)
    for tag, attrs in parsed(out):
        assert tag in ALLOWED_TAGS, (payload, out)
        extra = {"a": {"rel"}, "img": {"loading", "decoding", "referrerpolicy"}}.get(tag, set())
        assert set(attrs) <= ALLOWED_ATTRIBUTES.get(tag, set()) | extra, (payload, out)
        for name in ("href", "src"):
            if name in attrs:
                assert safe_url(attrs[name]) == attrs[name], (payload, out)
        if tag == "a":
            assert attrs["rel"] == LINK_REL
        if tag == "img":
            assert attrs.get("src"), (payload, out)  # an image with no safe source is dropped
    lowered = out.lower()
    for word in ("alert", "javascript", "vbscript", "data:", "evil.example", "onerror=", "style="):
        assert word not in lowered, (payload, out)


def test_formatting_survives() -> None:
    html = (
        "<h2>Use</h2><p>Prompt: <strong>1girl</strong>, <em>soft</em> <code>x</code></p>"
        "<ul><li>one</li></ul><ol start=3><li>three</li></ol><pre><code>a &lt; b</code></pre>"
        "<blockquote>q</blockquote><table><thead><tr><th colspan=2>h</th></tr></thead>"
        "<tbody><tr><td>1</td><td>2</td></tr></tbody></table><hr><br>"
        '<a href="https://civitai.com/models/1" title="t">link</a>'
        '<img src="https://image.civitai.com/a/b/width=450/1.jpeg" alt="sample" width="450">'
    )
    out = clean_html(html)
    tags = [t for t, _ in parsed(out)]
    for tag in ("h2", "p", "strong", "em", "code", "ul", "ol", "li", "pre", "blockquote"):
        assert tag in tags
    for tag in ("table", "thead", "tbody", "tr", "th", "td", "hr", "br", "a", "img"):
        assert tag in tags
    assert '<ol start="3">' in out and '<th colspan="2">' in out and "a &lt; b" in out
    assert (
        '<a href="https://civitai.com/models/1" title="t" rel="nofollow noopener noreferrer ugc">'
        in out
    )
    assert '<img loading="lazy" decoding="async" referrerpolicy="no-referrer" src=' in out


def test_text_that_looks_like_html_stays_text() -> None:
    assert clean_html("a &lt;img src=x onerror=alert(1)&gt; b") == (
        "a &lt;img src=x onerror=alert(1)&gt; b"
    )
    assert clean_html("") == ""


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://civitai.com/api/download/models/1?type=Model",
            "https://civitai.com/api/download/models/1?type=Model",
        ),
        ("http://example.com/a", "http://example.com/a"),
        ("  https://example.com/a\n", "https://example.com/a"),
        ("https://exa\tmple.com/a", "https://example.com/a"),
        ("HTTPS://EXAMPLE.COM/", "HTTPS://EXAMPLE.COM/"),
        ("javascript:alert(1)", None),
        ("java\tscript:alert(1)", None),
        (" \x01javascript:alert(1)", None),
        ("JAVASCRIPT:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("vbscript:msgbox(1)", None),
        ("//evil.example/x", None),
        ("/relative/path", None),
        ("https:evil.example", None),
        ("ftp://example.com/", None),
        # What could end an attribute is percent-encoded: the URL stays a harmless URL.
        (
            'https://x.example/a.jpg" onerror="alert(1)',
            "https://x.example/a.jpg%22%20onerror=%22alert(1)",
        ),
        ("https://x.example/<script>", "https://x.example/%3Cscript%3E"),
        ("http://[::1", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_safe_url(url: object, expected: str | None) -> None:
    assert safe_url(url) == expected
