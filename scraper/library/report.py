"""What a scan did, for its summary lines, its `runs` row and `scraper status`."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..store import Counts


@dataclass
class Report:
    cached: int = 0  # hash from the cache: not read
    hashed: int = 0
    hashed_bytes: int = 0
    known: int = 0  # files a host knows
    described: int = 0  # unknown files with header metadata (a metadata card)
    unknown: int = 0  # unknown files without metadata
    written: int = 0
    unchanged: int = 0
    models_stored: int = 0
    kept: list[str] = field(default_factory=list)  # files beside the models not ours
    skipped: list[str] = field(default_factory=list)  # bad input, one line each
    failed: list[str] = field(default_factory=list)  # lookups or writes that failed
    requests: int = 0
    nbytes: int = 0
    status: str = "ok"
    run_id: int = 0

    @property
    def exit_code(self) -> int:
        """Bad input (a file that cannot be read) is reported, not failed: 1 only when a lookup
        or a write failed, or the scan stopped."""
        return 0 if self.status == "ok" else 1

    def counts(self) -> Counts:
        """For the runs row: new = files hashed, unchanged = from the cache, failed = lines."""
        return Counts(
            new=self.hashed,
            unchanged=self.cached,
            failed=[*self.failed, *self.skipped],
        )

    def lines(self, seconds: float, shown: int = 20) -> list[str]:
        total = self.cached + self.hashed
        lines = [
            f"scan: {self.status}: {total} files ({self.hashed} hashed, "
            f"{self.hashed_bytes / 1e6:,.1f} MB; {self.cached} unchanged); known {self.known}, "
            f"metadata only {self.described}, unknown {self.unknown}; files written "
            f"{self.written}, unchanged {self.unchanged}, kept {len(self.kept)}; skipped "
            f"{len(self.skipped)}; {self.requests} requests in {seconds:.1f}s; run {self.run_id}"
        ]
        groups = (("skipped", self.skipped), ("kept", self.kept), ("failed", self.failed))
        for kind, items in groups:
            lines += [f"  {kind}: {item}" for item in items[:shown]]
            if len(items) > shown:
                lines.append(f"  ... and {len(items) - shown} more {kind}")
        return lines
