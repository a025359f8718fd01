"""Issue 17's "done when": `scraper run` of all three sources against servers that repeat
cursors and links, ask for waits of years, trickle bodies, echo tokens and send 120,000-deep
HTML. Target: it ends within 60 s, exit 1 with a clear line per source, peak memory under
600 MiB, and no token in any output, log, card, page or database byte.
Usage: python bench/hostile.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, scraper_cmd

sys.path.insert(0, str(ROOT))

from scraper.demo.civitai import FakeCivitai  # noqa: E402
from scraper.demo.hub import FakeHuggingFace, FakeModelScope  # noqa: E402
from scraper.demo.recorded import hf_repos, modelscope_models  # noqa: E402
from scraper.demo.server import Faults, throttled  # noqa: E402

TOKENS = {
    "CIVITAI_TOKEN": "civitai0123456789abcdef0123456789ab",
    "HF_TOKEN": "hf_0123456789abcdefghijABCDEFGHIJ",
    "MODELSCOPE_API_TOKEN": "ms-0123456789abcdef0123456789abcdef",
}


def trickled(name: str) -> Faults:
    """A byte each half second for this model's detail: 2 bytes a second, never a read timeout."""
    return Faults(trickle=0.5, trickle_only=(f"/api/v1/models/{name}",))


def main() -> None:
    deep = "<div>" * 120000 + "deep"
    models = [
        {"id": i, "name": f"m{i}", "modelVersions": [], "description": f"<p>{i}</p>"}
        for i in range(1, 6)
    ]
    models[0]["description"] = deep
    models[1]["description"] = f"<p>echo: Bearer {TOKENS['CIVITAI_TOKEN']}</p>"
    infos, readmes = hf_repos(loras=6)
    details, files = modelscope_models()
    named = list(details)[:2]
    with (
        FakeCivitai(models, page_size=2, faults=Faults(repeat_cursor=True)) as civitai,
        FakeHuggingFace(
            infos, readmes=readmes, page_size=2, faults=Faults(repeat_cursor=True)
        ) as hub,
        FakeModelScope(details, files, faults=trickled(named[0])) as ms,
        tempfile.TemporaryDirectory() as tmp,
    ):
        ms.answers[f"/api/v1/models/{named[1]}"] = throttled("100000000")
        out = Path(tmp) / "out"
        config = Path(tmp) / "scraper.toml"
        config.write_text(
            'db = "out/models.db"\nout = "out"\nlanguages = ["en"]\n[site]\nout = "out/site"\n'
            '[[sources]]\nname = "civitai"\nrps = 0\n'
            '[[sources]]\nname = "hf"\nfilter = ["lora"]\nrps = 0\n'
            f'[[sources]]\nname = "modelscope"\nmodels = {named!r}\nrps = 0\n'.replace("'", '"'),
            encoding="utf-8",
        )
        env = dict(
            os.environ,
            **TOKENS,
            CIVITAI_API_BASE=civitai.base_url,
            HF_ENDPOINT=hub.base_url,
            MODELSCOPE_DOMAIN=ms.base_url,
            SCRAPER_TIMEOUT="5",
            SCRAPER_RETRIES="2",
        )
        log = Path(tmp) / "run.log"
        command = scraper_cmd("run", "--config", str(config), "--log-file", str(log))
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        output = process.stdout.read() if process.stdout else b""
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        written = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
        everything = output + log.read_bytes() + written
        leaked = [name for name, token in TOKENS.items() if token.encode() in everything]
    peak = usage.ru_maxrss // 1024
    print(output.decode(errors="replace").strip())
    print(
        f"exit {os.waitstatus_to_exitcode(status)} in {seconds:.1f} s (target < 60 s), "
        f"peak {peak} MiB (target < 600), tokens leaked: {leaked or 'none'}; "
        f"requests: civitai {len(civitai.requests)}, hf {len(hub.requests)}, "
        f"modelscope {len(ms.requests)}"
    )


if __name__ == "__main__":
    main()
