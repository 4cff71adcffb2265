"""Helpers of the browser tests: axe-core audits (npm axe-core from widget/node_modules) and
the widget's readiness."""

from __future__ import annotations

import json

from dianxiaoer.core.settings import PROJECT_ROOT
from tests.conftest import RESULTS

AXE = PROJECT_ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}
# The widget is on the page and its socket.io session is confirmed (null-safe: after a
# reload the predicate runs before the widget script has built its root).
SESSION_READY = "() => document.getElementById('dxe-root')?.dataset.session"


def audit(page, name: str) -> list[dict]:
    """Run axe on the page as it is; record every finding; return the blocking ones.

    The pages' Content-Security-Policy forbids injected scripts: contexts that audit are
    opened with `bypass_csp`.
    """
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    findings = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": len(v["nodes"]),
            "targets": [n["target"] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
    ]
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "axe.json"
    recorded = json.loads(out.read_text("utf-8")) if out.exists() else {}
    recorded[name] = findings
    out.write_text(json.dumps(recorded, ensure_ascii=False, indent=1), "utf-8")
    summary = ", ".join(f"{f['id']} ({f['impact']}, {f['nodes']})" for f in findings) or "none"
    print(f"axe {name}: {summary}")
    return [f for f in findings if f["impact"] in BLOCKING]
