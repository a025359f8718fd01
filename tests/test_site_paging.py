"""Index pages break where they broke last time (site/paging.py): a moved counter rewrites the
pages a model leaves and enters, not every page after them, and the order stays exact."""

from __future__ import annotations

import random

import orjson

from scraper.site.paging import Paging, repage
from scraper.site.search import rank
from scraper.site.summary import Summary


def catalog(n: int, seed: int = 1) -> list[Summary]:
    rng = random.Random(seed)
    return [Summary("civitai", str(i), f"m{i}", downloads=rng.randint(0, 10**6)) for i in range(n)]


def cut(models: list[Summary], previous: dict, size: int = 100) -> tuple[list[list[str]], dict]:
    """The ids on each page of the index of every model, and the boundaries to keep (through
    JSON, as the manifest keeps them)."""
    ranked = rank(models)
    paging = Paging(ranked, orjson.loads(orjson.dumps(previous)), size)
    pages = paging.pages("all", "all", list(range(len(ranked))))
    return [[ranked[r].id for r in page] for page in pages], paging.kept


def test_a_moved_counter_changes_the_pages_left_and_entered_only() -> None:
    models = catalog(5000)
    before, kept = cut(models, {})
    assert [len(p) for p in before] == [100] * 50  # a first build cuts even pages
    climber = next(m for m in models if m.id == before[40][50])
    climber.downloads = models_at(models, before[10][20]) + 1  # from page 41 up to page 11
    after, _ = cut(models, kept)
    changed = [n for n, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed == [10, 40]
    assert [i for page in after for i in page] == [s.id for s in rank(models)]  # exact order


def models_at(models: list[Summary], model_id: str) -> int:
    return next(m.downloads or 0 for m in models if m.id == model_id)


def test_every_order_is_exact_and_pages_stay_fair_over_many_builds() -> None:
    rng = random.Random(7)
    models = catalog(3000)
    kept: dict = {}
    for build in range(30):
        for m in rng.sample(models, 60):  # 2% of counters move each build
            m.downloads = int((m.downloads or 0) * rng.uniform(0.5, 3))
        models += [
            Summary("civitai", f"new{build}-{i}", "n", downloads=rng.randint(0, 50))
            for i in range(rng.randint(0, 40))
        ]
        pages, kept = cut(models, kept)
        assert [i for page in pages for i in page] == [s.id for s in rank(models)]
        assert all(50 <= len(p) <= 200 for p in pages[:-1]), [len(p) for p in pages]
        assert 1 <= len(pages[-1]) <= 200


def test_boundaries_not_ours_are_cut_afresh() -> None:
    models = catalog(430)
    for junk in ({"all/all": "x"}, {"all/all": [[1]]}, {"all/all": [["a", 3]]}, []):
        pages, _ = cut(models, junk)  # type: ignore[arg-type]
        assert [len(p) for p in pages] == [100, 100, 100, 130]


def test_repage_is_a_fixed_point_within_bounds() -> None:
    rng = random.Random(3)
    for _ in range(2000):
        total = rng.randint(1, 2000)
        starts = sorted({0, *rng.sample(range(total), min(total, rng.randint(0, 30)))})
        fair = repage(starts, total, 100)
        sizes = [b - a for a, b in zip(fair, [*fair[1:], total], strict=True)]
        assert fair[0] == 0 and sum(sizes) == total
        assert all(50 <= n <= 200 for n in sizes[:-1]) and 1 <= sizes[-1] <= 200
        assert repage(fair, total, 100) == fair
