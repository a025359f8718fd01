"""The scheduling files in cron/ and the install commands cron/README.md gives, run for real."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from scraper.cli import main

ROOT = Path(__file__).parent.parent
CRON = ROOT / "cron"
GUIDE = (CRON / "README.md").read_text(encoding="utf-8")
MARK = "# scraper-catalog"


def tool(name: str) -> str:
    """A system tool the test needs: CI installs it (.ci/run), so there it must be present."""
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is missing; .ci/run installs it with apt-get")
    pytest.skip(f"{name} is not installed (Debian: apt-get install cron systemd); CI runs this")


def block(containing: str) -> str:
    """The fenced sh block of cron/README.md that holds `containing`."""
    blocks = re.findall(r"```sh\n(.*?)```", GUIDE, re.S)
    found = [b for b in blocks if containing in b]
    assert len(found) == 1, containing
    return found[0]


def checkout(tmp_path: Path) -> Path:
    """A stand-in for the checkout the commands run in: cron/ and .venv/bin/scraper."""
    folder = tmp_path / "checkout"
    shutil.copytree(CRON, folder / "cron")
    (folder / ".venv" / "bin").mkdir(parents=True)
    (folder / ".venv" / "bin" / "scraper").symlink_to(Path(sys.executable).with_name("scraper"))
    return folder


@pytest.fixture
def own_crontab():
    """The crontab of the user running the tests, put back as it was afterwards."""
    crontab = tool("crontab")
    saved = subprocess.run([crontab, "-l"], capture_output=True, text=True)
    yield crontab
    if saved.returncode == 0:
        subprocess.run([crontab, "-"], input=saved.stdout, text=True, check=True)
    else:
        subprocess.run([crontab, "-r"], capture_output=True)


def test_cron_install_adds_its_line_once_and_keeps_the_others(own_crontab, tmp_path) -> None:
    folder = checkout(tmp_path)
    mine = "5 4 * * * echo a line of my own\n"
    subprocess.run([own_crontab, "-"], input=mine, text=True, check=True)
    install = block("| crontab -").strip()
    for _ in range(2):  # installing again replaces its own line, never adds a second
        subprocess.run(["sh", "-c", install], cwd=folder, check=True)
    table = subprocess.run([own_crontab, "-l"], capture_output=True, text=True, check=True)
    lines = table.stdout.splitlines()
    assert lines[0] == mine.strip()
    jobs = [line for line in lines if not line.startswith("#") and MARK in line]
    assert len(jobs) == 1 and len(lines) == 3
    assert jobs[0].startswith(f"17 */3 * * * cd {folder} && ")
    assert "scraper run --config scraper.toml --log-file output/scraper.log" in jobs[0]


def test_the_cron_line_runs_scraper_run_with_the_tokens_of_scraper_env(tmp_path) -> None:
    folder = tmp_path / "checkout"
    (folder / ".venv" / "bin").mkdir(parents=True)
    fake = folder / ".venv" / "bin" / "scraper"  # records how it was started
    fake.write_text('#!/bin/sh\necho "$* | $HF_TOKEN | $CIVITAI_TOKEN" > started\n')
    fake.chmod(0o755)
    (folder / "scraper.env").write_text("HF_TOKEN=hf_secret\nCIVITAI_TOKEN=0123abcd\n")
    line = next(x for x in (CRON / "scraper.cron").read_text().splitlines() if x[:1].isdigit())
    command = line.split(None, 5)[5].replace("/opt/scraper", str(folder))
    subprocess.run(["/bin/sh", "-c", command], check=True, env={"PATH": "/usr/bin:/bin"})
    assert (folder / "started").read_text() == (
        "run --config scraper.toml --log-file output/scraper.log --wait 600"
        " | hf_secret | 0123abcd\n"
    )
    (folder / "scraper.env").unlink()  # no env file: the run starts all the same
    subprocess.run(["/bin/sh", "-c", command], check=True, env={"PATH": "/usr/bin:/bin"})


def test_systemd_units_as_installed_pass_systemd_analyze_verify(tmp_path) -> None:
    analyze = tool("systemd-analyze")
    folder = checkout(tmp_path)
    units = tmp_path / "system"
    units.mkdir()
    commands = [
        line.replace("/etc/systemd/system", str(units))
        for line in block("cron/scraper.service").splitlines()
        if line.startswith(("sed ", "cp ", "systemd-analyze "))
    ]
    assert len(commands) == 3
    for command in commands:
        done = subprocess.run(["sh", "-c", command], cwd=folder, capture_output=True, text=True)
        assert done.returncode == 0 and done.stderr == "", (command, done.stderr)
    service = (units / "scraper.service").read_text()
    for setting in ("Type=oneshot", "TimeoutStartSec=", "User=scraper", "EnvironmentFile="):
        assert f"\n{setting}" in service
    assert f"ExecStart={folder}/.venv/bin/scraper run --config {folder}/scraper.toml" in service
    timer = (units / "scraper.timer").read_text()
    for setting in ("OnCalendar=", "Persistent=true", "RandomizedDelaySec="):
        assert f"\n{setting}" in timer
    spec = re.search(r"\nOnCalendar=(.*)\n", timer)[1]
    shown = subprocess.run([analyze, "calendar", "--iterations=3", spec], capture_output=True)
    assert shown.returncode == 0 and b":17:00" in shown.stdout


def test_a_broken_unit_does_fail_verify(tmp_path) -> None:
    """The check above can fail: a unit whose command does not exist is refused."""
    analyze = tool("systemd-analyze")
    unit = tmp_path / "broken.service"
    unit.write_text("[Service]\nType=oneshot\nExecStart=/nonexistent/scraper run\n")
    assert subprocess.run([analyze, "verify", str(unit)], capture_output=True).returncode != 0


def test_github_workflow_runs_on_schedule_and_commits_only_changes(
    serve, reference_models, tmp_path, monkeypatch
) -> None:
    git = tool("git")
    folder = checkout(tmp_path)
    remote = tmp_path / "remote.git"

    def git_in(where: Path, *args: str) -> str:
        done = subprocess.run([git, *args], cwd=where, check=True, capture_output=True)
        return done.stdout.decode()

    git_in(tmp_path, "init", "-q", "--bare", str(remote))
    git_in(folder, "init", "-q", "-b", "main")
    git_in(folder, "remote", "add", "origin", str(remote))
    subprocess.run(["sh", "-c", block("github-actions.yml")], cwd=folder, check=True)
    workflow = yaml.safe_load((folder / ".github" / "workflows" / "catalog.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    minute, *_ = triggers["schedule"][0]["cron"].split()
    assert minute not in ("0", "*") and "workflow_dispatch" in triggers
    steps = workflow["jobs"]["run"]["steps"]
    run_step = next(s for s in steps if s.get("run", "").startswith("scraper run"))
    assert run_step["env"]["HF_TOKEN"] == "${{ secrets.HF_TOKEN }}"
    commit = next(s for s in steps if "git commit" in s.get("run", ""))["run"]
    # The job, here: the checkout with its config, `scraper run`, the commit step; twice.
    (folder / "scraper.toml").write_text('[[sources]]\nname = "civitai"\nrps = 0\n')
    git_in(folder, "add", "scraper.toml")
    git_in(folder, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "config")
    git_in(folder, "push", "-q", "-u", "origin", "main")  # as actions/checkout leaves it
    serve(reference_models[:30], page_size=10)
    monkeypatch.chdir(folder)
    monkeypatch.delenv("SCRAPER_DB")  # as on the runner: the config decides
    bash = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", commit]
    for _ in range(2):
        assert CliRunner().invoke(main, ["run", "--config", "scraper.toml"]).exit_code == 0
        done = subprocess.run(bash, cwd=folder, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    subjects = git_in(remote, "log", "--format=%s", "main").splitlines()
    assert len(subjects) == 2 and subjects[0].startswith("catalog: refreshed ")
    names = git_in(remote, "ls-tree", "-r", "--name-only", "main").splitlines()
    assert sum(n.startswith("output/civitai/") and n.endswith(".md") for n in names) == 30
    assert not any("models.db" in n for n in names)
