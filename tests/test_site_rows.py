"""What makes a rebuild fast must never make a page wrong: an index page made from its layout
rendered once per index is the page rendered whole, and rows kept between builds are used
only when they are this code's, whole and from a build that finished."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from markupsafe import Markup

from scraper.catalog import open_store
from scraper.files import OutsideFolder
from scraper.site import indexes, output, pages, rowcache
from scraper.site.build import Settings, build
from tests.sitedata import bumped, reference_payloads, save
from tests.test_site_build import assert_same_site

HOSTILE = "<b>&amp;\"'</b> 国风 n0 p0 r0"  # markup, quotes, CJK, and look-alikes of the stand-ins


@pytest.mark.parametrize("base_url", ["", "https://example.org/模型"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_page_from_its_index_frame_is_the_page_rendered_whole(lang: str, base_url: str) -> None:
    pages.set_base_url(base_url)
    try:
        for kind, key, count in (("tag", "a-b", 12), ("author", "x" * 40, 1), ("all", "all", 3)):
            filters = Markup(f"<label>{Markup.escape(HOSTILE)}</label>")
            frame = indexes._frame(kind, key, lang, HOSTILE, 1234, filters)
            for number in range(1, count + 1):
                rows = [
                    f"<tr><td>{number}.{i} {Markup.escape(HOSTILE)}</td></tr>" for i in range(3)
                ]
                links = f'<nav class="pager"><a href="{number}.html">{number}</a></nav>'
                whole = indexes._render(
                    kind, key, lang, HOSTILE, 1234, filters, number, Markup(links), "\n".join(rows)
                )
                made = frame.page(number, links, [r.encode() for r in rows])
                assert made.decode() == whole
                assert f'data-number="{number}"' in whole and links in whole
    finally:
        pages.set_base_url("")


def test_kept_rows_are_read_back_only_whole_and_of_this_stamp(tmp_path: Path) -> None:
    folder = rowcache.Folder(tmp_path, "stamp-1")
    rows = rowcache.Rows()
    live = [bytes([n]) * 16 for n in range(5)]
    for n, digest in enumerate(live):
        rows.put(digest, f"<tr><td>模型 {n}</td></tr>".encode())
    rows.put(b"g" * 16, b"<tr>gone</tr>")  # a model no longer on the site: not kept
    folder.save("zh", rows, live)
    assert folder.load("zh").kept == {d: rows.kept[d] for d in live}
    assert rowcache.Folder(tmp_path, "stamp-2").load("zh").kept == {}  # other code: not used
    assert rowcache.Folder(tmp_path, "stamp-1", usable=False).load("zh").kept == {}
    assert folder.load("en").kept == {}
    path = folder.path("zh")
    data = path.read_bytes()
    huge = data.replace(b" 26\n", b" 999999999999\n", 1)  # a length no row has: not read
    assert huge != data
    for broken in (
        data[:-3],
        data[: len(data) // 2],
        data.replace("模型 3".encode(), "模型 9".encode()),
        huge,
    ):
        path.write_bytes(broken)  # torn, or changed: the checksum no longer holds
        assert folder.load("zh").kept == {}
    path.unlink()
    path.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutsideFolder):
        folder.load("zh")


def test_unchanged_rows_are_not_rewritten(tmp_path: Path) -> None:
    folder = rowcache.Folder(tmp_path, "s")
    rows = rowcache.Rows({b"a" * 16: b"<tr>a</tr>"})
    folder.save("zh", rows, [b"a" * 16])
    before = folder.path("zh").stat().st_mtime_ns
    folder.save("zh", folder.load("zh"), [b"a" * 16])
    assert folder.path("zh").stat().st_mtime_ns == before


def _plant(out: Path) -> None:
    """Every kept row replaced by a marker, in files that are otherwise valid."""
    for lang in ("zh", "en"):
        path = out / f".site-rows-{lang}.txt"
        stamp = path.read_bytes()[len(rowcache.MAGIC) :].split(b" ", 1)[0].decode()
        folder = rowcache.Folder(out, stamp)
        kept = folder.load(lang).kept
        assert kept, "the first build kept its rows"
        folder.save(lang, rowcache.Rows(dict.fromkeys(kept, b"<tr>PLANTED</tr>")), kept)


def _change_one_model(db: Path) -> None:
    store = open_store(db)
    changed = next(m for m in reference_payloads() if m["id"] == 4717)
    save(store, "civitai", [bumped(changed, 1.5)])  # its row changes: its index pages render
    store.close()


@pytest.mark.parametrize("finished", [True, False])
def test_kept_rows_are_used_only_after_a_build_that_finished(
    catalog: Path, tmp_path: Path, finished: bool
) -> None:
    db = tmp_path / "models.db"
    shutil.copy(catalog, db)
    out = tmp_path / "site"
    build(Settings(db=db, out=out, jobs=1))
    _plant(out)
    if not finished:
        (out / output.MARKER).write_bytes(b"")  # a build killed half-way
    _change_one_model(db)
    build(Settings(db=db, out=out, jobs=1))
    page = (out / "list/source/civitai/1.html").read_text(encoding="utf-8")
    # A finished build's rows are trusted: the unchanged models' rows come from the file
    # (which proves it is read); after a killed build every row is rendered again.
    assert ("<tr>PLANTED</tr>" in page) is finished
    assert "models/civitai/4717.html" in page  # the changed model's row is rendered anew


def test_files_made_of_every_summary_are_reused_only_while_every_summary_is_the_same(
    catalog: Path, tmp_path: Path
) -> None:
    db = tmp_path / "models.db"
    shutil.copy(catalog, db)
    out = tmp_path / "site"
    build(Settings(db=db, out=out, jobs=1))
    first = output.Manifest.read(out).inputs
    made_of_all = {
        p for p in first if p.startswith(("search/", "feeds/", "sitemap")) or "index.json" in p
    }
    assert {"search/meta.json", "search/names.json", "sitemap.xml", "feeds/new.xml"} <= made_of_all
    assert "list/source/civitai/index.json" in made_of_all
    assert len({first[p] for p in made_of_all}) == 1  # one hash: every summary, in rank order
    build(Settings(db=db, out=out, jobs=1))  # nothing changed: the files are the last build's
    assert output.Manifest.read(out).inputs == first
    _change_one_model(db)  # its downloads move it: ranks, search ids, feeds all change
    build(Settings(db=db, out=out, jobs=1))
    after = output.Manifest.read(out).inputs
    assert after["search/meta.json"] != first["search/meta.json"]
    fresh = tmp_path / "fresh"
    build(Settings(db=db, out=fresh, jobs=1))
    assert_same_site(out, fresh)  # nothing reused that should have been made again
