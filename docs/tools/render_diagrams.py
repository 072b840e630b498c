"""Render every shipped BPMN in processes/ to docs/diagrams/<file>.svg with bpmn-js.

The docs show the real diagram a designer will open, drawn by the same bpmn-js the app serves.
Run after changing a shipped process:

    .venv/bin/python docs/tools/render_diagrams.py

Needs Debian's chromium (`make browser`) and the npm packages (`make assets`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
VIEWER = ROOT / "node_modules" / "bpmn-js" / "dist" / "bpmn-viewer.production.min.js"
OUT = ROOT / "docs" / "diagrams"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<style>html,body,#canvas{margin:0;width:1800px;height:1000px;background:#fff}</style>
</head><body><div id="canvas"></div></body></html>"""

RENDER = """async (xml) => {
  const viewer = new BpmnJS({ container: '#canvas' });
  const { warnings } = await viewer.importXML(xml);
  const { svg } = await viewer.saveSVG();
  return { svg, warnings: warnings.map(w => w.message) };
}"""


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    files = sorted((ROOT / "processes").rglob("*.bpmn"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_content(PAGE)
        page.add_script_tag(path=str(VIEWER))
        for path in files:
            result = page.evaluate(RENDER, path.read_text(encoding="utf-8"))
            target = OUT / f"{path.stem}.svg"
            target.write_text(result["svg"], encoding="utf-8")
            note = f" ({len(result['warnings'])} warnings)" if result["warnings"] else ""
            print(f"{path.relative_to(ROOT)} -> {target.relative_to(ROOT)}{note}")
            for warning in result["warnings"]:
                print("   ", json.dumps(warning, ensure_ascii=False))
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
