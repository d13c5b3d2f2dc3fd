"""`keras-seq validate`: check specs against the schema; exit 1 if any is invalid."""

import json
import sys

HELP = "check specs; exit 1 if any is invalid"


def add_arguments(parser):
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="spec files (YAML)")
    parser.add_argument("--json", action="store_true", help="print results as JSON")


def run(args):
    from keras_seq.spec import SpecError, load_spec

    results = []
    for source in args.specs:
        try:
            load_spec(source)
            results.append({"spec": source, "valid": True, "problems": []})
        except SpecError as error:
            problems = [p.to_dict() for p in error.problems]
            results.append({"spec": source, "valid": False, "problems": problems})
            if not args.json:
                print(error, file=sys.stderr)
                continue
        if not args.json:
            print(f"{source}: valid")
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    return 0 if all(r["valid"] for r in results) else 1
