"""README links and images resolved as the hubs' own model pages resolve them, the same in the
card and on the site page (both read the same record), before anything sanitizes them."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import main
from scraper.demo.hub import FakeHuggingFace, FakeModelScope
from tests.support import RECORDED, hf_repos, modelscope_models

SHARED_READMES = Path("/work/shared/api/readmes")
REPO = "lora-maker/lora-00"
README = """---
license: openrail++
---
# Links

![sample](images/a.png) and <img src="./img/b c.png" width="200" height="100">
[a file](docs/x.md#usage), [the tree](tree/main/unet), [a blob](blob/main/model_index.json)
[another repo](/stabilityai/sdxl-turbo), [up and out](../../../etc/passwd), [anchor](#usage)
[abs](https://example.org/x)

`[in code](code.md)`

```
![in a fence](fence.png)
```
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def site_page(site: Path, needle: str) -> str:
    for page in (site / "models").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if needle in text:
            return text
    raise AssertionError(f"no site page holds {needle!r}")


@pytest.fixture
def hf(monkeypatch):
    infos, readmes = hf_repos(loras=3)
    readmes[REPO] = README
    with FakeHuggingFace(infos, readmes=readmes) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.base_url)
        monkeypatch.setenv("HF_PUBLIC_URL", "https://huggingface.co")
        yield server


def test_hf_readme_targets_take_the_hub_page_shapes(hf, tmp_path) -> None:
    sha = hf.infos[REPO]["sha"]
    page = f"https://huggingface.co/{REPO}"
    result = run("export", "hf", REPO, "--lang", "en", "--rps", "0")
    assert result.exit_code == 0, result.output
    card = result.output
    assert f"![sample]({page}/resolve/{sha}/images/a.png)" in card
    assert f'<img src="{page}/resolve/{sha}/img/b%20c.png" width="200" height="100">' in card
    assert f"[a file]({page}/blob/{sha}/docs/x.md#usage)" in card
    assert f"[the tree]({page}/tree/main/unet)" in card
    assert f"[a blob]({page}/blob/main/model_index.json)" in card
    assert "[another repo](https://huggingface.co/stabilityai/sdxl-turbo)" in card
    assert f"[up and out]({page}/blob/{sha}/etc/passwd)" in card  # never above the repo
    assert "[anchor](#usage)" in card and "[abs](https://example.org/x)" in card
    assert "`[in code](code.md)`" in card and "![in a fence](fence.png)" in card
    assert "127.0.0.1" not in card
    site = tmp_path / "site"
    assert run("site", "build", "--out", str(site), "--jobs", "1").exit_code == 0
    text = site_page(site, "lora-00")
    srcs = set(re.findall(r'<img[^>]* src="([^"]+)"', text))
    assert f"{page}/resolve/{sha}/images/a.png" in srcs
    assert f"{page}/resolve/{sha}/img/b%20c.png" in srcs
    assert f'href="{page}/blob/{sha}/docs/x.md#usage"' in text


@pytest.mark.parametrize("name", sorted(p.name for p in SHARED_READMES.glob("*.md")))
def test_shared_hf_readmes_keep_no_relative_image(name: str, monkeypatch) -> None:
    text = (SHARED_READMES / name).read_text(encoding="utf-8")
    infos, readmes = hf_repos(loras=1)
    readmes["lora-maker/lora-00"] = text
    with FakeHuggingFace(infos, readmes=readmes) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.base_url)
        monkeypatch.delenv("HF_PUBLIC_URL", raising=False)  # default: the configured endpoint
        result = run("export", "hf", "lora-maker/lora-00", "--lang", "en", "--rps", "0")
        sha = server.infos["lora-maker/lora-00"]["sha"]
    assert result.exit_code == 0, result.output
    details = result.output.split("3. Details", 1)[1]
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]*)", details)
    images += re.findall(r'<img[^>]* src="([^"]*)"', details)
    assert all(target.startswith(("https://", f"{server.base_url}/")) for target in images)
    relative = [t for t in re.findall(r"!\[[^\]]*\]\(([^)\s]*)", text) if "://" not in t]
    for path in relative:
        assert f"{server.base_url}/lora-maker/lora-00/resolve/{sha}/{path.lstrip('./')}" in details


def test_modelscope_seed_readme_images_load_from_the_file_endpoint(monkeypatch, tmp_path):
    details, files = modelscope_models(count=2)
    model = "damo/cv_cartoon_stable_diffusion_design"
    readme = details[model]["ReadMeContent"]
    assert readme == (RECORDED / "readmes" / "modelscope-cartoon-readme.md").read_text("utf-8")
    details[model]["ReadMeContent"] = readme + "\n[the config](configuration.json)\n"
    with FakeModelScope(details, files) as server:
        monkeypatch.setenv("MODELSCOPE_DOMAIN", server.base_url)
        monkeypatch.setenv("MODELSCOPE_PUBLIC_URL", "https://modelscope.cn")
        result = run("export", "modelscope", model, "--lang", "en", "--rps", "0")
    assert result.exit_code == 0, result.output
    card = result.output
    files_url = f"https://modelscope.cn/api/v1/models/{model}/repo?Revision=master&FilePath="
    for number in range(1, 6):  # the five images of the table, in <img src> with their width
        src = f"{files_url}description%2Fsim{number}.png"
        assert f'<img src="{html.escape(src)}" width="240px">' in card
    assert f"![生成效果]({files_url}description%2Fdemo.png)" in card
    assert (
        f"[the config](https://modelscope.cn/models/{model}/file/view/master/configuration.json)"
        in card
    )
    assert "127.0.0.1" not in card
    site = tmp_path / "site"
    assert run("site", "build", "--out", str(site), "--jobs", "1").exit_code == 0
    text = site_page(site, "cv_cartoon_stable_diffusion_design")
    srcs = {html.unescape(s) for s in re.findall(r'<img[^>]* src="([^"]+)"', text)}
    for number in range(1, 6):
        assert f"{files_url}description%2Fsim{number}.png" in srcs
    assert f"{files_url}description%2Fdemo.png" in srcs
