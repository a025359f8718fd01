"""The writer: what changed in a page of models, written in one transaction with its cursor."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import sqlite_utils

from .. import jsonio, redaction, sources
from ..records import Model
from . import rows as tables
from .reader import _chunks, load_raw
from .runs import Checkpoint, Counts, now

_dumps = jsonio.dumps
BATCHED_TABLES = ("models", "versions", "files", "images", "tags", "creators", "stats_history")


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@cache
def _volatile(source: str) -> re.Pattern[str]:
    """Cut from each row's JSON text before hashing: the source's counters, as flat objects
    ("stats":{...}) or bare numbers. A quote inside a JSON string is escaped (\\"), so these
    can only match real keys."""
    keys = "|".join(re.escape(k) for k in sources.get(source).volatile) or "(?!)"
    return re.compile(rf'"(?:{keys})":(?:\{{[^{{}}]*\}}|-?[0-9.eE+]+),?')


@dataclass
class _Texts:
    """The JSON text of each row of one model."""

    model: str
    versions: list[str]
    files: list[list[str]]
    images: list[list[str]]

    @classmethod
    def of(cls, m: Model) -> _Texts:
        nest = sources.get(m.source).nesting
        if nest is None:
            model = _dumps(m.raw)
            versions = [_dumps(v.raw) for v in m.versions]
        else:
            key, files_key, images_key = nest
            model = _dumps({k: v for k, v in m.raw.items() if k != key})
            versions = [
                _dumps({k: x for k, x in v.raw.items() if k not in (files_key, images_key)})
                for v in m.versions
            ]
        return cls(
            model,
            versions,
            [[_dumps(f.raw) for f in v.files] for v in m.versions],
            [[_dumps(i.raw) for i in v.images] for v in m.versions],
        )

    def digest(self, volatile: re.Pattern[str]) -> str:
        """Of everything but the counters."""
        h = hashlib.blake2b(digest_size=16)
        for text in (self.model, *self.versions):
            h.update(volatile.sub("", text).encode())
            h.update(b"\x00")
        for group in (*self.files, *self.images):
            h.update("\x01".join(group).encode())
            h.update(b"\x00")
        return h.hexdigest()


@dataclass
class _Batch:
    """A page's writes, queued so that each table gets one executemany."""

    rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {t: [] for t in BATCHED_TABLES}
    )
    replaced: list[tuple[str, str, list[str], str]] = field(default_factory=list)
    version_keys: list[tuple[str, str]] = field(default_factory=list)
    model_keys: list[tuple[str, str]] = field(default_factory=list)
    stats: list[tuple[Model, _Texts, str, str]] = field(default_factory=list)

    @classmethod
    def merged(cls, batches: list[_Batch]) -> _Batch:
        """One batch of many (each model is planned alone, the page written at once)."""
        whole = cls()
        for batch in batches:
            for table, rows in batch.rows.items():
                whole.rows[table] += rows
            whole.replaced += batch.replaced
            whole.version_keys += batch.version_keys
            whole.model_keys += batch.model_keys
            whole.stats += batch.stats
        return whole

    def add_model(
        self, m: Model, texts: _Texts, row: dict[str, Any], stamp: str, replaces: bool
    ) -> None:
        src = m.source
        self.rows["models"].append(row)
        if replaces:
            self.replaced.append((src, m.id, [v.id for v in m.versions], stamp))
        self.version_keys += [(src, v.id) for v in m.versions]
        self.model_keys.append((src, m.id))
        for i, v in enumerate(m.versions):
            self.rows["versions"].append(tables.version_row(m, i, v, texts.versions[i]))
            self.rows["files"] += [
                tables.file_row(src, v.id, j, f, text)
                for j, (f, text) in enumerate(zip(v.files, texts.files[i], strict=True))
            ]
            self.rows["images"] += [
                tables.image_row(src, v.id, j, img, text)
                for j, (img, text) in enumerate(zip(v.images, texts.images[i], strict=True))
            ]
        self.rows["tags"] += [
            {"source": src, "model_id": m.id, "position": i, "tag": t} for i, t in enumerate(m.tags)
        ]
        if m.creator:
            self.rows["creators"].append(
                {"source": src, "username": m.creator, "image": m.creator_image}
            )


@dataclass(slots=True)
class _Known:
    body: str | None
    stats: str | None
    deleted_at: str | None
    first_seen_at: str


class Writer:
    """The data tables of a Store: models, versions, files, images, tags, creators, history."""

    db: sqlite_utils.Database
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
        plans: list[tuple[Model, _Batch, Counts]] = []
        failed: list[tuple[Model, str]] = []
        if models:
            known = self._known(models[0].source, [m.id for m in models if _bindable(m.id)])
            for model in models:
                batch, done = _Batch(), Counts()
                try:
                    self._plan(model, known.get(model.id), stamp, run_id, done, batch)
                except Exception as exc:  # this model only; the page goes on
                    failed.append((model, _why(exc)))
                    continue
                plans.append((model, batch, done))
        with self.db.atomic():
            saved = self._write_plans(plans, failed)
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
        self, plans: list[tuple[Model, _Batch, Counts]], failed: list[tuple[Model, str]]
    ) -> list[tuple[Model, _Batch, Counts]]:
        """The page's rows in one statement per table; if that fails, model by model, each
        in its own savepoint, so only the models that cannot be written are left out."""
        if not plans:
            return []
        try:
            with self.db.atomic():
                self._write(_Batch.merged([batch for _, batch, _ in plans]))
            return plans
        except Exception:  # find the culprits one by one below
            pass
        saved = []
        for plan in plans:
            try:
                with self.db.atomic():
                    self._write(plan[1])
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
    ) -> None:
        """Decide what one model needs written and queue its rows."""
        texts = _Texts.of(m)
        body = texts.digest(_volatile(m.source))
        stats = _digest(_dumps([m.stats, [v.stats for v in m.versions]]))
        if previous and previous.body == body and previous.deleted_at is None:
            if previous.stats == stats:
                page.unchanged += 1
                return
            batch.stats.append((m, texts, stats, stamp))
            page.refreshed += 1
        else:
            row = tables.model_row(m, texts.model, stats, stamp)
            first_seen = previous.first_seen_at if previous else stamp
            row.update(
                content_hash=body, first_seen_at=first_seen, changed_at=stamp, deleted_at=None
            )
            batch.add_model(m, texts, row, stamp, replaces=previous is not None)
            if previous:
                page.updated += 1
            else:
                page.new += 1
        history = batch.rows["stats_history"]
        history.append(tables.stats_row(m.source, m.id, "", m.stats, stamp, run_id))
        history += [
            tables.stats_row(m.source, m.id, v.id, v.stats, stamp, run_id) for v in m.versions
        ]

    def _known(self, source: str, ids: list[str]) -> dict[str, _Known]:
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT id, content_hash, stats_hash, deleted_at, first_seen_at FROM models "
            f"WHERE source = ? AND id IN ({marks})",
            [source, *ids],
        ).fetchall()
        return {r[0]: _Known(*r[1:]) for r in rows}

    def _write(self, batch: _Batch) -> None:
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
        for table, column, keys in (
            ("files", "version_id", batch.version_keys),
            ("images", "version_id", batch.version_keys),
            ("tags", "model_id", batch.model_keys),
        ):
            conn.executemany(f"DELETE FROM {table} WHERE source = ? AND {column} = ?", keys)
        scrub = redaction.scrubber()  # no configured token in any stored text
        for table, rows in batch.rows.items():
            if rows:
                sql = tables.upsert_sql(table, tuple(rows[0]))
                values = [tuple(r.values()) for r in rows]
                if scrub:
                    values = [tuple(_scrubbed(v, scrub) for v in row) for row in values]
                conn.executemany(sql, values)
        for m, texts, stats, stamp in batch.stats:
            self._write_stats(m, texts, stats, stamp)

    def _write_stats(self, m: Model, texts: _Texts, stats: str, stamp: str) -> None:
        """Only the counters moved: refresh them (and raw, so cards show them) in place."""
        if scrub := redaction.scrubber():
            texts = _Texts(
                scrub(texts.model), [scrub(t) for t in texts.versions], texts.files, texts.images
            )
        row = tables.model_row(m, texts.model, stats, stamp)
        self.db.execute(
            "UPDATE models SET downloads = ?, likes = ?, stats = ?, stats_hash = ?, "
            "stats_at = ?, raw = ? WHERE source = ? AND id = ?",
            [
                row["downloads"],
                row["likes"],
                row["stats"],
                stats,
                stamp,
                texts.model,
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
                    _dumps(v.stats),
                    text,
                    m.source,
                    v.id,
                )
                for v, text in zip(m.versions, texts.versions, strict=True)
            ],
        )

    def _mark_checked(self, source: str, ids: list[str], stamp: str) -> None:
        """Bookkeeping kept apart from the data: when each model's counters were last fetched."""
        self.db.conn.executemany(
            "INSERT INTO checks (source, model_id, checked_at) VALUES (?, ?, ?) "
            "ON CONFLICT (source, model_id) DO UPDATE SET checked_at = excluded.checked_at",
            [(source, i, stamp) for i in ids],
        )

    def stale_ids(self, source: str, older_than: str, limit: int | None = None) -> list[str]:
        """Live models whose counters were last fetched before `older_than`, oldest first."""
        sql = (
            "SELECT m.id FROM models m LEFT JOIN checks c "
            "ON c.source = m.source AND c.model_id = m.id "
            "WHERE m.source = ? AND m.deleted_at IS NULL "
            "AND (c.checked_at IS NULL OR c.checked_at < ?) ORDER BY c.checked_at"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [r[0] for r in self.db.execute(sql, [source, older_than])]

    def mark_deleted(self, source: str, model_id: str) -> int:
        """A 404 marks the row gone (with when); the last good payload stays."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE models SET deleted_at = ? "
                "WHERE source = ? AND id = ? AND deleted_at IS NULL",
                [now(), source, model_id],
            )
            return cursor.rowcount

    def payloads(self, source: str, ids: list[str]) -> dict[str, Any]:
        """Stored payloads by id, for a source that keeps its payload in the model row."""
        found: dict[str, Any] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for model_id, raw in self.db.execute(
                f"SELECT id, raw FROM models WHERE source = ? AND id IN ({marks}) "
                "AND deleted_at IS NULL",
                [source, *chunk],
            ):
                found[model_id] = load_raw(raw)
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
