"""The CJK font matplotlib draws Chinese labels with.

Shared by the training report and the analytics charts.
Debian's `fonts-wqy-microhei` (installed by `make browser-deps`) comes first; without any
CJK font the callers fall back to English labels rather than drawing empty boxes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

#: CJK font families tried in order (Debian's WenQuanYi first: `make browser-deps` installs it).
CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
)
#: File-name hints for CJK fonts installed after matplotlib built its font cache.
CJK_FILE_HINTS = ("wqy", "notosanscjk", "notoserifcjk", "sourcehansans", "simhei", "msyh")


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of an installed CJK font matplotlib can use, else None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    # matplotlib caches the font list: a font installed later is only found by its file
    for path in font_manager.findSystemFonts():
        if any(hint in Path(path).name.lower().replace("-", "") for hint in CJK_FILE_HINTS):
            try:
                font_manager.fontManager.addfont(path)
                return font_manager.FontProperties(fname=path).get_name()
            except (OSError, RuntimeError, ValueError):
                continue
    return None


def cjk_rc(family: str | None) -> dict:
    """Matplotlib settings that draw labels in `family` (a cjk_font(); empty for None)."""
    if not family:
        return {}
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [family, "DejaVu Sans"],
        # CJK fonts often lack U+2212: plain hyphens for negative tick labels
        "axes.unicode_minus": False,
    }
