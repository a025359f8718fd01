"""The catalog as a static bilingual site: `scraper site build` and `scraper site serve`."""
