"""Turn `workshop verify MODULE --mutants --json` into JUnit XML for a CI artifact.

One test case per mutant (a survivor is a failure, a declared equivalent is skipped with its
reason) and one per step that could not be judged. Standard library only, so a course
repository can run it with the Python of its venv:

    python mutants_junit.py mutants.json junit.xml
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def junit(report: dict) -> ET.Element:
    module = report["module"]
    suites = ET.Element("testsuites", name=f"verify {module} --mutants")
    for step in report["steps"]:
        name = f"{module} {step['step']:02d} {step['slug']}"
        suite = ET.SubElement(suites, "testsuite", name=name)
        cases = 0
        failures = 0
        if step.get("error"):
            case = ET.SubElement(suite, "testcase", classname=name, name="mutants judged")
            ET.SubElement(case, "failure", message=str(step["error"]))
            cases += 1
            failures += 1
        for mutant in step.get("mutants", []):
            case = ET.SubElement(
                suite,
                "testcase",
                classname=name,
                name=f"{mutant['id']} ({mutant['description']})",
                time=str(mutant.get("seconds", 0)),
            )
            cases += 1
            if mutant["outcome"] == "survived":
                failures += 1
                ET.SubElement(case, "failure", message="survived: no check rejects it")
            elif mutant["outcome"] != "killed":
                ET.SubElement(
                    case, "skipped", message=str(mutant.get("detail") or mutant["outcome"])
                )
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
    return suites


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: mutants_junit.py MUTANTS.json JUNIT.xml", file=sys.stderr)
        return 2
    report = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    ET.ElementTree(junit(report)).write(argv[2], encoding="utf-8", xml_declaration=True)
    return 0 if report.get("ok") else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
