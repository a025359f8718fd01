"""`scraper scan DIR...`: document local model files (a thin layer over library.scan)."""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import click

from .. import sources
from .options import DURATION, Failed, db_option, db_path, verbose_option
from .progress import ByteProgress

_INFO = next((s.info_suffix for s in sources.SOURCES if s.hash_lookup), ".info")


@click.command()
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--lang",
    type=click.Choice(["zh", "en", "bilingual"]),
    default="zh",
    show_default=True,
    help="Language of the cards written beside the files.",
)
@click.option("--no-info", is_flag=True, help=f"Do not write NAME{_INFO} (the host's answer).")
@click.option("--no-card", is_flag=True, help="Do not write NAME.md cards.")
@click.option(
    "--force", is_flag=True, help="Replace files beside the models this tool did not write."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write under this folder (same layout) instead of beside the files: read-only folders.",
)
@click.option("--recheck", is_flag=True, help="Ask again now about every hash (known ones too).")
@click.option(
    "--retry-after",
    type=DURATION,
    default="7d",
    show_default=True,
    help="Ask again about an unknown hash after this long.",
)
@click.option(
    "--preview",
    is_flag=True,
    help="Also write NAME.preview.png: the version's first allowed image, resized (Pillow).",
)
@click.option(
    "--nsfw",
    type=click.Choice(["hide", "show"]),
    default="hide",
    show_default=True,
    help="Which images a preview may use: hide takes safe-for-work ones only.",
)
@click.option("--rps", type=click.FloatRange(min=0), help="Requests per second (0: no limit).")
@click.option(
    "--jobs", type=click.IntRange(min=1), help="Files hashed at once [default: cores, up to 4]."
)
@db_option
@verbose_option
def scan(
    folders: tuple[Path, ...],
    lang: str,
    no_info: bool,
    no_card: bool,
    force: bool,
    out: Path | None,
    recheck: bool,
    retry_after,
    preview: bool,
    nsfw: str,
    rps: float | None,
    jobs: int | None,
) -> None:
    """Hash the model files under FOLDERS (.safetensors, .sft, .ckpt, .pt, .pth, .bin,
    .gguf), look each hash up, store the models, and write the host's answer (NAME.*.info)
    and a card NAME.md beside each file (a card from the file's own metadata when no host
    knows it).

    An unchanged file is never hashed again; a hash no host knew is asked again after
    --retry-after. Files this tool did not write are kept unless --force.

    \b
    Example:
      scraper scan ~/models/Lora --lang en
    """
    from ..library.scan import Options
    from ..library.scan import scan as run_scan
    from ..store import Store
    from .sources import exclusive

    options = Options(
        lang=lang,
        info=not no_info,
        card=not no_card,
        force=force,
        out=out,
        recheck=recheck,
        retry_after=retry_after,
        rps=rps,
        preview=preview,
        nsfw=nsfw,
    )
    if jobs:
        options.jobs = jobs
    missing = [str(f) for f in folders if not f.exists() and not f.is_symlink()]
    if missing:
        raise click.UsageError(f"no such folder: {', '.join(missing)}")
    started = time.monotonic()
    with (
        contextlib.closing(Store(db_path())) as store,
        exclusive(store),
        ByteProgress("scan") as meter,
    ):
        try:
            report = run_scan(store, list(folders), options, meter)
        except OSError as exc:
            raise Failed(f"scan stopped: {exc}") from None
    for line in report.lines(time.monotonic() - started):
        click.echo(line, err=True)
    sys.exit(report.exit_code)
