"""What a source supplies, so that the CLI, crawl, store and cards never name one."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..records import Image, Model, Page

if TYPE_CHECKING:
    import httpx

    from ..net.client import ApiClient, HostPolicy


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a source's sync or export: a CLI flag and, under its name, a config key.

    kind int means a positive integer; a bool is a flag (with a --no- twin when negative).
    """

    name: str  # the Python name and the config key: base_models
    help: str = ""
    kind: type = str  # str, int, float or bool
    choices: tuple[str, ...] = ()
    multiple: bool = False
    default: Any = None
    argument: bool = False  # positional (any number of them when multiple)
    negative: bool = False  # a bool flag with a --no- twin

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


class Filters:
    """A listing's query, as the source's sync options give it; also the crawl's resume key."""

    def params(self) -> list[tuple[str, str]]:
        raise NotImplementedError


Reader = Callable[[Any, Any], Model]  # (listing item, its stored payload or None) -> record


class Source:
    """One API: its host, its options, how it pages and reads, and how its payload is stored.

    Subclasses set the class attributes and override what their API needs; adding a source
    is one module with one subclass, one line in the registry and its test fixtures.
    """

    name: ClassVar[str]  # the `source` column and output folder: civitai, huggingface
    cli_name: ClassVar[str]  # the CLI's: civitai, hf
    aliases: ClassVar[tuple[str, ...]] = ()
    title: ClassVar[str]  # for people: Hugging Face
    base_env: ClassVar[str]  # the variable that moves the API (a mirror, a test server)
    default_base: ClassVar[str]
    # The variable naming the public web host cards and pages link to (model pages, files,
    # README images); unset, it is derived from the API's base URL (web_url), so a mirror keeps
    # its links. Empty: the source's payloads carry absolute public URLs already.
    public_env: ClassVar[str] = ""
    policy: ClassVar[HostPolicy]
    sync_help: ClassVar[str]  # the first line of `scraper sync NAME --help`
    sync_example: ClassVar[str]
    export_help: ClassVar[str]
    export_example: ClassVar[str]
    saved_help: ClassVar[str]  # what `scraper card` reads of this source: "a ... model info"
    # File names `scraper card DIR` picks up besides *.json (what other tools save).
    saved_suffixes: ClassVar[tuple[str, ...]] = (".json",)
    sync_options: ClassVar[tuple[Option, ...]] = ()
    export_argument: ClassVar[Option] = Option("model_id", argument=True)
    export_options: ClassVar[tuple[Option, ...]] = ()
    # Where the payload nests children: (versions, files, images) keys. Each object is then
    # stored once, in its own row, and put back together by the reader.
    nesting: ClassVar[tuple[str, str, str] | None] = None
    # Keys of counters that move all the time, kept out of the content hash so that a model
    # whose only change is its download count is "refreshed", not "updated".
    volatile: ClassVar[tuple[str, ...]] = ()
    # The models column the values of item_keys() are: id, or name when a listing item
    # carries the model's name but not the key it is stored under.
    stored_by: ClassVar[str] = "id"
    workers: ClassVar[int] = 1  # items of a page read concurrently (each costs requests)
    incremental: ClassVar[bool] = False  # pages() with filters(incremental=True) is newest first
    refresh_batch: ClassVar[int] = 0  # > 0: fetch_many() refreshes counters this many at once
    exact_zh: ClassVar[bool] = False  # zh cards follow the 2023 reference format byte for byte
    html_description: ClassVar[bool] = False  # --details markdown converts the description
    # `scraper scan`: a source that can name the model behind a file's SHA256 (its version
    # answer is written beside the file under info_suffix, as other tools read it).
    hash_lookup: ClassVar[bool] = False
    info_suffix: ClassVar[str] = ""
    # > 0: versions_by_hashes() looks up to this many hashes in one request.
    hash_batch: ClassVar[int] = 0

    # --- the host -------------------------------------------------------------------------

    def base_url(self) -> str:
        """The configured host; SettingError when it holds a user name or password (it would
        reach cards and pages as their links' base)."""
        from ..net.settings import no_userinfo

        value = os.environ.get(self.base_env, self.default_base).strip().rstrip("/")
        return no_userinfo(self.base_env, value, self.policy.token_env)

    def web_url(self, api_base: str) -> str:
        """The public web host of an API base URL (by default the same URL: a hub whose
        pages and API share a host, or a mirror of it)."""
        return api_base

    def public_url(self, configured: str | None = None) -> str:
        """Where cards and pages link: `configured` (the run config's public_url), else the
        public_env variable, else web_url() of the configured API; SettingError when bad."""
        from ..net.settings import base_url

        if configured:
            return base_url(f"{self.cli_name} public_url", configured.strip()).rstrip("/")
        if self.public_env and os.environ.get(self.public_env, "").strip():
            value = os.environ[self.public_env].strip()
            return base_url(self.public_env, value).rstrip("/")
        return self.web_url(base_url(self.base_env, self.base_url())).rstrip("/")

    def client(
        self,
        rps: float | None = None,
        public_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> ApiClient:
        """A client for the configured host, knowing the public web host its payloads link
        to; a test or an embedder may give the transport, and the clock and sleep its limiter
        and retries wait by. SettingError (one line) for a bad base URL, public URL, token or
        setting."""
        from ..net.client import ApiClient
        from ..net.settings import base_url

        url = base_url(self.base_env, self.base_url(), self.policy.token_env)
        api = ApiClient(url, self.policy, rps=rps, transport=transport, clock=clock, sleep=sleep)
        api.public_url = self.public_url(public_url)
        return api

    # --- sync -----------------------------------------------------------------------------

    def filters(self, options: dict[str, Any]) -> Filters:
        """The listing query from the values of `sync_options` (and `incremental`)."""
        raise NotImplementedError

    def pages(self, api: ApiClient, filters: Filters, cursor: str | None) -> Iterator[Page]:
        """The listing's pages from `cursor` (None: the first page) to the end."""
        raise NotImplementedError

    def reader(self, api: ApiClient) -> Reader:
        """read(item, stored) -> Model for a listing item, fetching what else it needs; with
        `item_keys`, `stored` is the payload already stored, so an unchanged item can cost no
        request."""
        return lambda item, stored: self.parse(item)

    def item_key(self, item: Any) -> str | None:
        """The key a listing item is known by, to name it when it fails (None: unknown)."""
        if isinstance(item, dict) and item.get("id") is not None:
            return str(item["id"])
        return None

    def item_keys(self, items: list[Any]) -> list[str | None] | None:
        """The stored model key of each item, when read() wants the stored payloads."""
        return None

    def fetch_many(self, api: ApiClient, ids: list[str]) -> list[Any]:
        """Up to refresh_batch stored models by id in one request, for a counters refresh."""
        raise NotImplementedError

    # --- one model ------------------------------------------------------------------------

    def locate(self, api: ApiClient, key: str | None, options: dict[str, Any]) -> str:
        """The model key an export asks for (a source may find it from a version or a hash)."""
        if key is None:
            raise ValueError(f"give a {self.export_argument.name.upper()}")
        return key

    def key_of_url(self, url: str) -> str | None:
        """The model key a model page URL names (what a user copies from a browser), or None
        when it names no model of this source."""
        return None

    def fetch(self, api: ApiClient, key: str) -> Any:
        """One model's raw payload, as parse() and the store take it."""
        raise NotImplementedError

    def parse(self, raw: Any) -> Model:
        """A stored or saved payload into a record; RecordError when it is not one."""
        raise NotImplementedError

    def saved_items(self, payload: Any) -> list[Any] | None:
        """The model payloads of a saved API response, or None when it is not this source's."""
        return None

    # --- local files (hash_lookup sources) -----------------------------------------------

    def version_by_hash(self, api: ApiClient, sha256: str) -> Any:
        """The version answer for a file's SHA256; NotFound when the host does not know it."""
        raise NotImplementedError

    def versions_by_hashes(self, api: ApiClient, shas: list[str]) -> dict[str, Any]:
        """The version answer of each of up to hash_batch SHA256s the host knows (one
        request); a hash missing from the result is unknown. ApiError or RecordError when
        the request failed: each hash may then be asked alone."""
        raise NotImplementedError

    def version_keys(self, body: Any) -> tuple[str, str]:
        """(model key, version key) of a version_by_hash answer; RecordError if it has none."""
        raise NotImplementedError

    # --- cards ----------------------------------------------------------------------------

    def thumbnail(self, url: str, width: int = 450) -> str:
        """A small variant of a sample image (about `width` px), where the host makes one."""
        return url

    def generation(self, image: Image) -> dict[str, str]:
        """What made a sample image, where the API sends it: any of prompt, negative_prompt,
        sampler, steps, cfg, seed, model, size (values as text)."""
        return {}
