#!/usr/bin/env python3
"""Validates usercrash JSON against schema/report.schema.json.

Usage: validate_reports.py [--def NAME] SCHEMA PATH...
Without --def, each document must be a report; with it, the schema's
$defs/NAME (list: usercrashctl list --json, list_groups: list --group --json).
A PATH that is a directory stands for its usercrash_NN.json reports; there a
file that is not JSON at all, or an object without "version" (what a test's
fake client sends in place of a report: usercrash always writes "version"),
is left to the test that made it (some tests break reports on purpose). A
PATH that is a file must be valid.
Exit status 0 when every document is valid, 1 otherwise (each error printed).
"""
import json
import os
import re
import sys

import jsonschema

REPORT_NAME = re.compile(r"^usercrash_[0-9]+\.json$")


def main(argv):
    args = argv[1:]
    definition = None
    if len(args) >= 2 and args[0] == "--def":
        definition, args = args[1], args[2:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8") as f:
        schema = json.load(f)
    if definition is not None:
        if definition not in schema.get("$defs", {}):
            print(f"no $defs/{definition} in {args[0]}", file=sys.stderr)
            return 2
        schema = dict(schema, **{"$ref": f"#/$defs/{definition}"})
    validator = jsonschema.Draft202012Validator(schema)
    failures = 0
    checked = 0
    for path in args[1:]:
        if os.path.isdir(path):
            names = sorted(n for n in os.listdir(path) if REPORT_NAME.match(n))
            files = [(os.path.join(path, n), True) for n in names]
        else:
            files = [(path, False)]
        for file, lenient in files:
            try:
                with open(file, encoding="utf-8") as f:
                    doc = json.load(f)
            except (OSError, ValueError) as e:
                if lenient:
                    continue
                print(f"{file}: not JSON: {e}")
                failures += 1
                continue
            if lenient and not (isinstance(doc, dict) and "version" in doc):
                continue
            checked += 1
            for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
                where = "/".join(str(p) for p in error.absolute_path) or "(top)"
                print(f"{file}: {where}: {error.message[:300]}")
                failures += 1
    print(f"{checked} document(s) checked, {failures} error(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
