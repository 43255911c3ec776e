#!/usr/bin/python3
"""Validates a chromereaper session report against docs/report.schema.json.

usage: validate_report.py [--builtin] SCHEMA REPORT

With Debian's python3-jsonschema when it is installed (and --builtin is not
given); otherwise with the small validator below, which knows the keywords
the schema uses.  Then the
references the schema cannot express: every round and reap index points at
an existing entry, and a process reaped by a signal names its reap.
Prints "valid: N processes, N rounds, N directories, N reaps" and exits 0,
or prints each problem and exits 1.
"""
import json
import re
import sys

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def small_validate(schema, value, root, path, errors):
    """The subset of draft 7 the report schema uses."""
    if "$ref" in schema:
        node = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return small_validate(node, value, root, path, errors)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[t](value) for t in types):
            errors.append(f"{path}: {value!r} is not of type {types}")
            return
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if "oneOf" in schema:
        matches = 0
        for sub in schema["oneOf"]:
            sub_errors = []
            small_validate(sub, value, root, path, sub_errors)
            matches += not sub_errors
        if matches != 1:
            errors.append(f"{path}: {value!r} matches {matches} of oneOf, not 1")
    if TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} < minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} > maximum {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append(f"{path}: {value} <= exclusiveMinimum {schema['exclusiveMinimum']}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}: missing {key!r}")
        props = schema.get("properties", {})
        for key, sub in value.items():
            if key in props:
                small_validate(props[key], sub, root, f"{path}.{key}", errors)
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected property {key!r}")
    if isinstance(value, list):
        if schema.get("uniqueItems") and len(set(map(json.dumps, value))) != len(value):
            errors.append(f"{path}: items are not unique")
        if "items" in schema:
            for i, item in enumerate(value):
                small_validate(schema["items"], item, root, f"{path}[{i}]", errors)


def schema_errors(schema, report, builtin):
    try:
        if builtin:
            raise ImportError("--builtin")
        import jsonschema
    except ImportError:
        errors = []
        small_validate(schema, report, schema, "$", errors)
        return errors, "built-in validator"
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}"
            for e in validator.iter_errors(report)], "jsonschema"


def reference_errors(report):
    errors = []
    nrounds, nreaps = len(report["rounds"]), len(report["reaps"])
    def check(what, i, key, n):
        v = report[what][i][key]
        if v is not None and v >= n:
            errors.append(f"{what}[{i}].{key} = {v}: only {n} exist")
    for what in ("processes", "directories"):
        for i in range(len(report[what])):
            check(what, i, "round", nrounds)
            check(what, i, "reap", nreaps)
    for i in range(nrounds):
        check("rounds", i, "reap", nreaps)
        if report["rounds"][i]["index"] != i:
            errors.append(f"rounds[{i}].index is {report['rounds'][i]['index']}")
    for i in range(nreaps):
        check("reaps", i, "round", nrounds)
        if report["reaps"][i]["index"] != i:
            errors.append(f"reaps[{i}].index is {report['reaps'][i]['index']}")
    for i, p in enumerate(report["processes"]):
        if p["outcome"].startswith("reaped-") and p["reap"] is None:
            errors.append(f"processes[{i}] ({p['pid']}) was {p['outcome']} by no reap")
        if p["outcome"] in ("exited", "reaped-sigterm", "reaped-sigkill") and p["end_time"] is None:
            errors.append(f"processes[{i}] ({p['pid']}) ended without an end_time")
    return errors


def main():
    args = sys.argv[1:]
    builtin = "--builtin" in args
    if builtin:
        args.remove("--builtin")
    schema = json.load(open(args[0]))
    report = json.load(open(args[1]))
    errors, how = schema_errors(schema, report, builtin)
    if not errors:
        errors = reference_errors(report)
    for e in errors:
        print(e)
    if errors:
        return 1
    print(f"valid ({how}): {len(report['processes'])} processes, {len(report['rounds'])} rounds, "
          f"{len(report['directories'])} directories, {len(report['reaps'])} reaps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
