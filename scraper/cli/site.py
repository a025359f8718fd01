"""`scraper site build` and `scraper site serve`, attached to the main command group."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..site import DEFAULT_OUT
from ..site.nsfw import MODES
from .options import RPS, db_option, db_path, verbose_option

IMAGES = ("link", "mirror")  # scraper/site/pictures.py
DELETED = ("hide", "archive")

if TYPE_CHECKING:
    from ..site.build import Report


@click.group()
def site() -> None:
    """The catalog as a static bilingual site (Chinese and English, searchable)."""


@site.command("build")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="Folder of the site; DIR/index.html is the home page.",
)
@click.option(
    "--nsfw",
    "nsfw_mode",
    type=click.Choice(MODES),
    default="blur",
    show_default=True,
    help="blur: NSFW models listed, their images blurred until clicked; hide: left out of "
    "pages, indexes and search; show: shown as they are.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for model pages [default: one per core].",
)
@click.option(
    "--images",
    type=click.Choice(IMAGES),
    default="link",
    show_default=True,
    help="link: pages show images from the sources' hosts; mirror: each image fetched once, "
    "resized and kept under DIR/assets/img (public hosts only), pages show only those.",
)
@click.option(
    "--deleted",
    type=click.Choice(DELETED),
    default="hide",
    show_default=True,
    help="hide: a model deleted upstream leaves the site; archive: its page stays with its "
    "last data and a 'removed' badge, listed on archive.html.",
)
@click.option(
    "--mirror-rps",
    type=RPS,
    default=None,
    help="With --images mirror: image requests per second, 0.001 to 1000, or 0 for no limit "
    "[default: 2].",
)
@click.option("--force", is_flag=True, help="Ignore the last build's manifest; compare every page.")
@click.option(
    "--base-url",
    default="",
    metavar="URL",
    help="Where the site is served (https://example.org/models): canonical links, OpenGraph, "
    "feeds, sitemap.xml and robots.txt name absolute addresses.",
)
@db_option
@verbose_option
def build_cmd(
    out: Path,
    nsfw_mode: str,
    jobs: int | None,
    images: str,
    deleted: str,
    mirror_rps: float | None,
    force: bool,
    base_url: str,
) -> None:
    """Build the site from the database; a rebuild writes only pages whose bytes changed.

    \b
    Example:
      scraper site build --out output/site --nsfw blur
      scraper site build --base-url https://example.org/models
      scraper site build --images mirror --deleted archive
    """
    from ..site import build as building

    path = db_path()
    if not path.is_file():
        raise click.ClickException(f"no database at {path}; run 'scraper sync ...' or give --db")
    from ..site.paths import check_base_url

    try:
        base_url = check_base_url(base_url) if base_url else ""
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--base-url") from None
    settings = building.Settings(
        db=path,
        out=out,
        nsfw=nsfw_mode,
        force=force,
        images=images,
        deleted=deleted,
        base_url=base_url,
    )
    if jobs:
        settings.jobs = jobs
    if mirror_rps is not None:
        settings.mirror_rps = mirror_rps
    try:
        report = building.build(settings)
    except (RuntimeError, sqlite3.Error, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    summarize(report, out)
    sys.exit(1 if report.failed else 0)


def summarize(report: Report, out: Path) -> None:
    click.echo(
        f"site: {report.models} models ({report.hidden} hidden), {report.rendered} rendered; "
        f"{report.pages} files: {report.written} written, {report.unchanged} unchanged, "
        f"{report.removed} removed; {len(report.failed)} failed; {report.seconds:.1f}s",
        err=True,
    )
    fetched, stored, missing = report.images
    if fetched or stored or missing:
        click.echo(f"images: {stored} stored, {missing} missing, {fetched} requests", err=True)
    if report.archived:
        click.echo(f"archive: {report.archived} models deleted upstream kept", err=True)
    for failure in report.failed[:20]:
        click.echo(f"  failed: {failure}", err=True)
    if len(report.failed) > 20:
        click.echo(f"  ... and {len(report.failed) - 20} more", err=True)
    click.echo(str(out / "index.html"))


@site.command("serve")
@click.option(
    "--out",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="Folder of a built site.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
def serve_cmd(out: Path, port: int) -> None:
    """Preview the built site on http://127.0.0.1:PORT/ (Ctrl-C stops it).

    \b
    Example:
      scraper site serve --out output/site --port 8000
    """
    from ..site import serve as serving

    if not (out / "index.html").is_file():
        raise click.ClickException(f"no site in {out}; run 'scraper site build --out {out}'")
    try:
        httpd = serving.server(out, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc}") from None
    click.echo(f"serving {out} at http://127.0.0.1:{httpd.server_address[1]}/ (Ctrl-C stops)")
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
