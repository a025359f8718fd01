"""Issue 17, item 3: outputs stay inside their folder: planted symbolic links are never written
or removed through, a first build or render into someone's folder is refused, names never
collide."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import main
from scraper.files import safe_stem
from tests.support import one_line

MODELS = [{"id": i, "name": f"Model {i}", "modelVersions": []} for i in (1, 2, 3)]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def synced(serve, tmp_path) -> Path:
    serve(MODELS)
    assert run("sync", "civitai", "--rps", "0").exit_code == 0
    return tmp_path


def outside(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A folder outside every output, with files a careless tool would overwrite or remove."""
    folder = tmp_path / "private"
    folder.mkdir(exist_ok=True)
    for name in ("1.html", "2.html", "1-model-1.en.md", "notes.txt", "other.db"):
        (folder / name).write_bytes(f"the user's own {name}\n".encode())
    return folder, snapshot(folder)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_site_staging_lock_and_manifest_links_are_refused(synced) -> None:
    private, before = outside(synced)
    site = synced / "site"
    site.mkdir()
    for name in (".site-building", ".site-manifest.json", ".site-build.lock"):
        (site / name).symlink_to(private / "notes.txt")
        result = run("site", "build", "--out", str(site), "--force")
        assert result.exit_code == 1 and f"{site / name} is a symbolic link" in one_line(result)
        (site / name).unlink()
    assert snapshot(private) == before


def test_a_symlinked_site_folder_is_neither_written_nor_emptied(synced) -> None:
    private, before = outside(synced)
    site = synced / "site"
    assert run("site", "build", "--out", str(site)).exit_code == 0
    models = site / "models" / "civitai"
    for page in models.iterdir():
        page.unlink()
    models.rmdir()
    models.symlink_to(private, target_is_directory=True)
    result = run("site", "build", "--out", str(site))
    assert result.exit_code == 1 and "outside" in result.output
    assert snapshot(private) == before


def test_a_first_build_into_someone_s_folder_is_refused_unless_forced(synced) -> None:
    site = synced / "site"
    (site / "assets").mkdir(parents=True)
    (site / "index.html").write_text("my home page", encoding="utf-8")
    (site / "assets" / "site.css").write_text("body {}", encoding="utf-8")
    result = run("site", "build", "--out", str(site))
    assert result.exit_code == 1
    assert "holds files this tool did not write" in one_line(result) and "--force" in result.output
    assert (site / "index.html").read_text(encoding="utf-8") == "my home page"
    assert run("site", "build", "--out", str(site), "--force").exit_code == 0


def test_card_manifest_links_live_or_dangling_are_refused(synced) -> None:
    private, before = outside(synced)
    cards = synced / "cards"
    cards.mkdir()
    for target in (private / "other.db", private / "missing.db"):
        (cards / ".scraper-manifest.db").symlink_to(target)
        result = run("render", "--lang", "en", "--out", str(cards))
        assert result.exit_code == 1 and "is a symbolic link" in one_line(result)
        (cards / ".scraper-manifest.db").unlink()
    assert snapshot(private) == before  # no tables added, no file created


def test_a_symlinked_card_folder_is_neither_written_nor_emptied(synced) -> None:
    private, before = outside(synced)
    cards = synced / "cards"
    assert run("render", "--lang", "en", "--out", str(cards)).exit_code == 0
    for card in (cards / "civitai").iterdir():
        card.unlink()
    (cards / "civitai").rmdir()
    (cards / "civitai").symlink_to(private, target_is_directory=True)
    result = run("render", "--lang", "en", "--out", str(cards), "--force")
    assert result.exit_code == 1 and "is a symbolic link" in one_line(result)
    assert snapshot(private) == before


def test_a_first_render_into_someone_s_folder_is_refused_and_theirs_never_removed(synced):
    cards = synced / "cards"
    (cards / "civitai").mkdir(parents=True)
    mine = cards / "civitai" / "mine.en.md"
    mine.write_text("my notes", encoding="utf-8")
    result = run("render", "--lang", "en", "--out", str(cards))
    assert result.exit_code == 1 and "--force" in one_line(result)
    assert not (cards / ".scraper-manifest.db").exists()
    assert run("render", "--lang", "en", "--out", str(cards), "--force").exit_code == 0
    with sqlite3.connect(synced / "models.db") as conn:
        conn.execute("DELETE FROM models WHERE id = '2'")
    again = run("render", "--lang", "en", "--out", str(cards))
    assert again.exit_code == 0, again.output
    assert mine.read_text(encoding="utf-8") == "my notes"
    assert sorted(p.name for p in (cards / "civitai").iterdir()) == [
        "1-model-1.en.md",
        "3-model-3.en.md",
        "mine.en.md",
    ]


def test_names_never_start_with_a_dash() -> None:
    assert not safe_stem("-rf", "x:-rf").startswith("-")
    assert safe_stem("abc", "x:abc", hashed=True).startswith("abc-")
    assert safe_stem("61016-cute-girl", "civitai:61016") == "61016-cute-girl"


def test_two_models_never_share_a_card(tmp_path) -> None:
    """Two saved Hub answers whose repo ids differ only in case: two cards, neither lost on a
    disk that ignores case."""
    saved = tmp_path / "saved"
    saved.mkdir()
    from tests.support import hf_fixture

    for repo in ("Org/Model", "org/model"):
        info = dict(hf_fixture("model-ti-test-blobs-2024-02.json"), id=repo, modelId=repo)
        info["_id"] = repo.replace("/", "-")
        (saved / f"{repo.replace('/', '_')}.json").write_bytes(
            __import__("json").dumps(info).encode()
        )
    result = run("card", str(saved), "--lang", "en", "--out", str(tmp_path / "c"))
    assert result.exit_code == 0, result.output
    names = [p.name for p in (tmp_path / "c").glob("*.md")]
    assert len(names) == 2 and len({n.lower() for n in names}) == 2


def test_a_run_with_a_planted_link_syncs_and_says_what_it_refused(serve, tmp_path) -> None:
    serve(MODELS)
    private, before = outside(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "site").symlink_to(private, target_is_directory=True)
    (tmp_path / "out" / "civitai").symlink_to(private, target_is_directory=True)
    config = tmp_path / "scraper.toml"
    config.write_text(
        'db = "out/models.db"\nout = "out"\nlanguages = ["en"]\n[site]\nout = "out/site"\n'
        '[[sources]]\nname = "civitai"\nrps = 0\n',
        encoding="utf-8",
    )
    result = run("run", "--config", str(config))
    assert result.exit_code == 1
    assert "civitai ok" in result.output and "is a symbolic link" in result.output
    assert "Traceback" not in result.output
    assert snapshot(private) == before


def test_rendered_cards_of_ids_differing_in_case_never_share_a_file(monkeypatch, tmp_path):
    import copy

    from scraper.demo.hub import FakeHuggingFace
    from tests.support import hf_repos

    infos, readmes = hf_repos(loras=1)
    lora = next(i for i in infos if "lora" in (i.get("tags") or []))
    twin = copy.deepcopy(lora)
    twin["id"] = twin["modelId"] = lora["id"].upper()
    twin["_id"] = lora["_id"][::-1]
    readmes[twin["id"]] = readmes.get(lora["id"], "")
    with FakeHuggingFace([*infos, twin], readmes=readmes) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.base_url)
        assert run("sync", "hf", "--filter", "lora", "--rps", "0").exit_code == 0
    cards = tmp_path / "cards"
    assert run("render", "--lang", "en", "--out", str(cards)).exit_code == 0
    names = [p.name for p in (cards / "huggingface").iterdir()]
    assert len(names) == 2 and len({n.lower() for n in names}) == 2
    again = run("render", "--lang", "en", "--out", str(cards), "--force")
    assert again.exit_code == 0 and sorted(p.name for p in (cards / "huggingface").iterdir()) == (
        sorted(names)
    )
