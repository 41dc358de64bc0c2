"""The grader's settings for `mlplab check`, read from the file given with ``--weights``.

    {"points": {"Q2.2": 1, "sigmoid": 2},                      check name or part -> points
     "visibility": {"default": "visible", "Q2.5": "hidden"},   Gradescope's visibility
     "forbidden": ["torch", ...],     replaces the modules a homework may not take definitions
                                      from ([] allows every module)
     "forbidden_add": ["mynet"]}      adds to them

A plain object of names to points (``{"Q2.2": 2}``) is read as "points". Every name must be a
check's or a part's, points finite and within [0, 1000], visibility one of Gradescope's four;
anything else is a ValueError naming what is wrong and what is allowed.
"""

import json
import math
from dataclasses import dataclass, field

from .._files import display_path, read_regular_file

DEFAULT_FORBIDDEN = ("mlplab", "torch", "tensorflow", "keras", "jax", "flax",
                     "sklearn.neural_network")
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
MAX_POINTS = 1000
_MAX_FILE_BYTES = 2**20
_KEYS = ("points", "visibility", "forbidden", "forbidden_add")


@dataclass(frozen=True)
class Config:
    points: dict = field(default_factory=dict)
    visibility: dict = field(default_factory=dict)
    forbidden: tuple = DEFAULT_FORBIDDEN
    settings: dict = field(default_factory=dict)   # the file's JSON, as given

    def points_of(self, check):
        return float(self.points.get(check.name, self.points.get(check.part, check.points)))

    def visibility_of(self, check):
        return self.visibility.get(check.name, self.visibility.get(
            check.part, self.visibility.get("default", "visible")))


def read_config(path, checks):
    """The Config in the file at `path`, checked against `checks`' names and parts; a
    ValueError that starts with the file's name says what is wrong."""
    raw, shown = read_regular_file(path, _MAX_FILE_BYTES, "settings file"), display_path(path)
    try:
        settings = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{shown}: not UTF-8 ({exc.reason})") from None
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{shown}: not valid JSON ({exc})") from None
    try:
        return parse_config(settings, checks)
    except ValueError as exc:
        raise ValueError(f"{shown}: {exc}") from None


def _no_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def parse_config(settings, checks):
    if not isinstance(settings, dict):
        raise ValueError("must be a JSON object")
    if settings and not set(settings) & set(_KEYS):
        settings = {"points": settings}   # the plain form: names to points
    unknown = sorted(set(settings) - set(_KEYS))
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}; the keys are {', '.join(_KEYS)}")
    known = [c.name for c in checks] + sorted({c.part for c in checks})
    points = _named(settings.get("points", {}), "points", known)
    for name, value in points.items():
        if (not isinstance(value, (int, float)) or isinstance(value, bool)
                or not math.isfinite(value) or not 0 <= value <= MAX_POINTS):
            raise ValueError(f"points for {name!r} must be a number from 0 to {MAX_POINTS}, "
                             f"got {value!r}")
    visibility = _named(settings.get("visibility", {}), "visibility", known + ["default"])
    for name, value in visibility.items():
        if value not in VISIBILITIES:
            raise ValueError(f"visibility for {name!r} must be one of "
                             f"{', '.join(VISIBILITIES)}, got {value!r}")
    forbidden = settings.get("forbidden", list(DEFAULT_FORBIDDEN))
    added = settings.get("forbidden_add", [])
    for key, modules in (("forbidden", forbidden), ("forbidden_add", added)):
        if not isinstance(modules, list) or not all(
                isinstance(m, str) and m and all(part.isidentifier() for part in m.split("."))
                for m in modules):
            raise ValueError(f"{key} must be a list of module names, got {modules!r}")
    return Config({k: float(v) for k, v in points.items()}, visibility,
                  tuple(dict.fromkeys([*forbidden, *added])), settings)


def _named(mapping, key, known):
    if not isinstance(mapping, dict):
        raise ValueError(f"{key} must be a JSON object of names")
    for name in mapping:
        if name not in known:
            raise ValueError(f"{key}: unknown check or part {name!r}; the known ones are "
                             f"{', '.join(repr(k) for k in known)}")
    return mapping
