"""NSFW as a setting: which models and images a site shows, blurs or leaves out.

A record's nsfw_level is a bit mask (PG 1, PG-13 2, R 4, X 8, XXX 16, blocked 32); a model's
is the union of its images' levels. R and above count as NSFW, as in the usual "safe for work"
browsing level (PG and PG-13).
"""

from __future__ import annotations

from ..records import Image, Model

MODES = ("blur", "hide", "show")
SAFE_LEVELS = 1 | 2


def model_is_nsfw(model: Model) -> bool:
    """Flagged NSFW by its creator (or the Hub's not-for-all-audiences tag), or nothing in it
    is rated safe for work."""
    if model.nsfw:
        return True
    level = model.nsfw_level
    return bool(level) and level >= 4 and not level & SAFE_LEVELS


def image_is_nsfw(image: Image, model_nsfw: bool) -> bool:
    """An image rated R or above; an unrated image takes its model's rating."""
    level = image.nsfw_level
    if level is None or level == 0:
        return model_nsfw
    return level >= 4


def visible_images(images: list[Image], model_nsfw: bool, mode: str) -> list[tuple[Image, bool]]:
    """(image, blurred) for the images a page may show: hide leaves NSFW ones out, blur marks
    them, show shows everything."""
    shown = []
    for image in images:
        nsfw = image_is_nsfw(image, model_nsfw)
        if nsfw and mode == "hide":
            continue
        shown.append((image, nsfw and mode == "blur"))
    return shown


def rating(model: Model, is_nsfw: bool) -> int:
    """The highest rating in a model, for the index filter: 0 PG / PG-13 (or unrated), 1 R,
    2 X and above. A model flagged NSFW by its creator is at least R."""
    level = model.nsfw_level or 0
    if level >= 8:
        return 2
    return 1 if level >= 4 or is_nsfw else 0
