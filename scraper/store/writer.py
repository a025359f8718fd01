"""The writer: what changed in a page of models, written in one transaction with its cursor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from .. import jsonio
from ..net import redaction
from ..records import Model
from . import codec, rows
from .layout import Layouts, of
from .reader import _chunks, load_raw
from .runs import Checkpoint, Counts, now

TABLES = ("models", "versions", "files", "images", "tags", "creators", "stats_history")
# Indexes for readers' lookups over keys in no order (a file's hash, a tag). Kept up to date
# row by row, each page of a long crawl dirtied a leaf of them per row: at 40,000 models 617 of
# the 1,000 pages a commit wrote. A long crawl drops them and builds them, sorted, at its end.
LOOKUP_INDEXES = {"idx_files_sha256": "files (sha256)", "idx_tags_tag": "tags (tag)"}


@dataclass
class _Batch:
    """A page's writes, queued so that each table gets one executemany."""

    rows: dict[str, list[tuple]] = field(default_factory=lambda: {t: [] for t in TABLES})
    replaced: list[tuple[str, str, list[str], str]] = field(default_factory=list)
    child_keys: list[tuple[str, str, str]] = field(default_factory=list)  # replaced versions
    model_keys: list[tuple[str, str]] = field(default_factory=list)
    counters: list[tuple[Model, str, str]] = field(default_factory=list)

    @classmethod
    def merged(cls, batches: list[_Batch]) -> _Batch:
        """One batch of many (each model is planned alone, the page written at once)."""
        whole = cls()
        for batch in batches:
            for table, queued in batch.rows.items():
                whole.rows[table] += queued
            whole.replaced += batch.replaced
            whole.child_keys += batch.child_keys
            whole.model_keys += batch.model_keys
            whole.counters += batch.counters
        return whole

    def add_model(self, m: Model, row: tuple, texts: rows.Texts, stamp: str, replaces: bool):
        src = m.source
        self.rows["models"].append(row)
        if replaces:  # its old children go first; a new model has none
            self.replaced.append((src, m.id, [v.id for v in m.versions], stamp))
            self.child_keys += [(src, m.id, v.id) for v in m.versions]
            self.model_keys.append((src, m.id))
        self.rows["versions"] += rows.version_rows(m, texts)
        self.rows["files"] += rows.file_rows(m, texts)
        self.rows["images"] += rows.image_rows(m)
        self.rows["tags"] += [(src, m.id, i, t) for i, t in enumerate(m.tags)]
        if m.creator:
            self.rows["creators"].append((src, m.creator, m.creator_image))


@dataclass(slots=True)
class _Known:
    body: str | None
    stats: str | None
    deleted_at: str | None
    first_seen_at: str


class ModelWriter:
    """The data tables of a Store: models, versions, files, images, tags, creators, history."""

    db: sqlite_utils.Database
    layouts: Layouts  # how each source's payloads are stored, given at open
    _set_checkpoint: Callable[[Checkpoint], None]  # RunLog's: the cursor moves with the page
    quarantine: Callable[[str, str, str, Any, int | None], None]  # RunLog's

    def save_models(
        self,
        models: list[Model],
        counts: Counts,
        checkpoint: Checkpoint | None = None,
        run_id: int | None = None,
    ) -> Counts:
        """Write what changed and move the crawl's checkpoint, all in one transaction.

        A model whose content is the same but whose counters moved gets only its stats (and
        raw) refreshed; one identical to the stored copy is not written at all. A model that
        cannot be stored (a count past SQLite's integers, text that is not Unicode, nesting
        too deep), whatever the error, goes to quarantine with its raw payload, and the rest
        of the page and the cursor are written all the same. Returns what this call did
        (also added to `counts`).
        """
        page = Counts()
        stamp = now()
        scrub = redaction.scrubber()  # no configured token in any stored text
        plans: list[tuple[Model, _Batch, Counts]] = []
        failed: list[tuple[Model, str]] = []
        if models:
            known = self._known(models[0].source, [m.id for m in models if _bindable(m.id)])
            for model in models:
                batch, done = _Batch(), Counts()
                try:
                    self._plan(model, known.get(model.id), stamp, run_id, done, batch, scrub)
                except Exception as exc:  # this model only; the page goes on
                    failed.append((model, _why(exc)))
                    continue
                plans.append((model, batch, done))
        with self.db.atomic():
            saved = self._write_plans(plans, failed, scrub)
            for model, why in failed:
                message = f"model {model.id}: cannot be stored: {why}"
                self.quarantine(model.source, model.id, message, model.raw, run_id)
                page.failed.append(message)
            if saved:
                self._mark_checked(saved[0][0].source, [m.id for m, _, _ in saved], stamp)
            if checkpoint:
                self._set_checkpoint(checkpoint)
        for _, _, done in saved:
            page.add(done)
        counts.add(page)
        return page

    def _write_plans(
        self,
        plans: list[tuple[Model, _Batch, Counts]],
        failed: list[tuple[Model, str]],
        scrub: Callable[[str], str] | None,
    ) -> list[tuple[Model, _Batch, Counts]]:
        """The page's rows in one statement per table; if that fails, model by model, each
        in its own savepoint, so only the models that cannot be written are left out."""
        if not plans:
            return []
        try:
            with self.db.atomic():
                self._write(_Batch.merged([batch for _, batch, _ in plans]), scrub)
            return plans
        except Exception:  # find the culprits one by one below
            pass
        saved = []
        for plan in plans:
            try:
                with self.db.atomic():
                    self._write(plan[1], scrub)
            except Exception as exc:
                failed.append((plan[0], _why(exc)))
                continue
            saved.append(plan)
        return saved

    def _plan(
        self,
        m: Model,
        previous: _Known | None,
        stamp: str,
        run_id: int | None,
        page: Counts,
        batch: _Batch,
        scrub: Callable[[str], str] | None = None,
    ) -> None:
        """Decide what one model needs written and queue its rows; an unchanged model costs
        one hash of its payload and no row text."""
        layout = of(self.layouts, m.source)
        body = codec.content_digest(m.raw, layout.nesting, layout.volatile)
        stats = codec.digest(jsonio.dumps([m.stats, [v.stats for v in m.versions]]))
        if previous and previous.body == body and previous.deleted_at is None:
            if previous.stats == stats:
                page.unchanged += 1
                return
            batch.counters.append((m, stats, stamp))
            page.refreshed += 1
        else:
            texts = rows.Texts(m, layout.nesting, scrub)
            first_seen = previous.first_seen_at if previous else stamp
            row = rows.model_row(m, texts.model(), stats, stamp, body, first_seen)
            batch.add_model(m, row, texts, stamp, replaces=previous is not None)
            if previous:
                page.updated += 1
            else:
                page.new += 1
        batch.rows["stats_history"] += rows.stats_rows(m, stamp, run_id)

    def _known(self, source: str, ids: list[str]) -> dict[str, _Known]:
        marks = ",".join("?" * len(ids))
        found = self.db.execute(
            f"SELECT id, content_hash, stats_hash, deleted_at, first_seen_at FROM models "
            f"WHERE source = ? AND id IN ({marks})",
            [source, *ids],
        ).fetchall()
        return {r[0]: _Known(*r[1:]) for r in found}

    def _write(self, batch: _Batch, scrub: Callable[[str], str] | None = None) -> None:
        """Apply a page's queued rows with one statement per table (executemany)."""
        conn = self.db.conn
        for source, model_id, version_ids, stamp in batch.replaced:
            # A version that vanished (unpublished, taken down) is marked, never deleted.
            marks = ",".join("?" * len(version_ids))
            conn.execute(
                f"UPDATE versions SET removed_at = ? WHERE source = ? AND model_id = ? "
                f"AND removed_at IS NULL AND id NOT IN ({marks})",
                [stamp, source, model_id, *version_ids],
            )
        for table, columns, keys in (
            ("files", ("model_id", "version_id"), batch.child_keys),
            ("images", ("model_id", "version_id"), batch.child_keys),
            ("tags", ("model_id",), batch.model_keys),
        ):
            if keys:
                where = " AND ".join(f"{c} = ?" for c in ("source", *columns))
                conn.executemany(f"DELETE FROM {table} WHERE {where}", keys)
        for table, queued in batch.rows.items():
            if queued:
                if scrub:  # the packed payloads were scrubbed before packing
                    queued = [tuple(_scrubbed(v, scrub) for v in row) for row in queued]
                conn.executemany(rows.upsert_sql(table), queued)
        for m, stats, stamp in batch.counters:
            self._write_counters(m, stats, stamp, scrub)

    def _write_counters(
        self, m: Model, stats: str, stamp: str, scrub: Callable[[str], str] | None = None
    ) -> None:
        """Only the counters moved: refresh them (and raw, so cards show them) in place."""
        texts = rows.Texts(m, of(self.layouts, m.source).nesting, scrub)
        raw, size = codec.pack(texts.model())
        self.db.conn.execute(
            "UPDATE models SET downloads = ?, likes = ?, stats = ?, stats_hash = ?, "
            "stats_at = ?, raw = ?, raw_size = ? WHERE source = ? AND id = ?",
            [
                m.stats.get("downloads"),
                m.stats.get("likes"),
                jsonio.dumps(m.stats),
                stats,
                stamp,
                raw,
                size,
                m.source,
                m.id,
            ],
        )
        self.db.conn.executemany(
            "UPDATE versions SET downloads = ?, likes = ?, stats = ?, raw = ? "
            "WHERE source = ? AND id = ?",
            [
                (
                    v.stats.get("downloads"),
                    v.stats.get("likes"),
                    jsonio.dumps(v.stats),
                    texts.version(v),
                    m.source,
                    v.id,
                )
                for v in m.versions
            ],
        )

    def defer_lookups(self) -> None:
        """Drop LOOKUP_INDEXES for a long crawl; restore_lookups() builds them again (a run
        killed before that leaves them to the next writing run's recover())."""
        with self.db.atomic():
            for name in LOOKUP_INDEXES:
                self.db.execute(f"DROP INDEX IF EXISTS [{name}]")

    def restore_lookups(self) -> None:
        with self.db.atomic():
            for name, on in LOOKUP_INDEXES.items():
                self.db.execute(f"CREATE INDEX IF NOT EXISTS [{name}] ON {on}")

    def _mark_checked(self, source: str, ids: list[str], stamp: str) -> None:
        """Bookkeeping kept apart from the data: when each model's counters were last fetched."""
        self.db.conn.executemany(
            "INSERT INTO checks (source, model_id, checked_at) VALUES (?, ?, ?) "
            "ON CONFLICT (source, model_id) DO UPDATE SET checked_at = excluded.checked_at",
            [(source, i, stamp) for i in ids],
        )

    def stale_ids(self, source: str, older_than: str) -> list[str]:
        """Live models whose counters were last fetched before `older_than`, oldest first."""
        sql = (
            "SELECT m.id FROM models m LEFT JOIN checks c "
            "ON c.source = m.source AND c.model_id = m.id "
            "WHERE m.source = ? AND m.deleted_at IS NULL "
            "AND (c.checked_at IS NULL OR c.checked_at < ?) ORDER BY c.checked_at"
        )
        return [r[0] for r in self.db.execute(sql, [source, older_than])]

    def mark_deleted(self, source: str, model_id: str) -> int:
        """A 404 marks the row gone (with when); the last good payload stays. Its counters are
        no longer due (`checks` holds live models only)."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE models SET deleted_at = ? "
                "WHERE source = ? AND id = ? AND deleted_at IS NULL",
                [now(), source, model_id],
            )
            self.db.execute(
                "DELETE FROM checks WHERE source = ? AND model_id = ?", [source, model_id]
            )
            return cursor.rowcount

    def payloads(self, source: str, ids: list[str], column: str = "id") -> dict[str, Any]:
        """Stored payloads by id (or by name), for a source that keeps its payload in the model
        row."""
        if column not in ("id", "name"):
            raise ValueError(f"payloads are looked up by id or name, not {column!r}")
        found: dict[str, Any] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for model_id, raw, size in self.db.execute(
                f"SELECT {column}, CAST(raw AS BLOB), raw_size FROM models WHERE source = ? "
                f"AND {column} IN ({marks}) AND deleted_at IS NULL",
                [source, *chunk],
            ):
                found[model_id] = load_raw(codec.unpack_bytes(raw, size))
        return found


def _scrubbed(value: Any, scrub: Callable[[str], str]) -> Any:
    return scrub(value) if isinstance(value, str) else value


def _bindable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _why(exc: BaseException) -> str:
    """An exception as one short line for quarantine and the summary."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:300]
