#!/usr/bin/python3
"""Check a response of sclman serve against its OpenAPI document (GET /v1/openapi.json).

openapi_check.py DOC METHOD PATH STATUS BODY_FILE
  DOC: the document (a file); PATH: the request's path (no query); STATUS: the HTTP status.
Exit 0 when the document has the route and the status, and the body is valid JSON that matches
the response's schema (JSON Schema 2020-12, as OpenAPI 3.1 uses it, with the document's $refs);
exit 1 naming what does not match.
"""
import json
import re
import sys

import jsonschema


def template_matches(template, path):
    pattern = "^" + re.sub(r"\{[^/}]+\}", "[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")) + "$"
    return re.match(pattern, path) is not None


def main():
    doc_file, method, path, status, body_file = sys.argv[1:6]
    with open(doc_file) as f:
        doc = json.load(f)
    templates = [t for t in doc["paths"] if template_matches(t, path)]
    if not templates:
        sys.exit(f"{path}: no path of the document matches it")
    op = doc["paths"][templates[0]].get(method.lower())
    if op is None:
        sys.exit(f"{method} {templates[0]}: the document has no such operation")
    response = op["responses"].get(status)
    if response is None:
        sys.exit(f"{method} {templates[0]}: status {status} is not documented")
    with open(body_file) as f:
        text = f.read()
    try:
        body = json.loads(text)
    except ValueError as e:
        sys.exit(f"{method} {path} {status}: the body is not JSON ({e}): {text[:200]!r}")
    schema = response["content"]["application/json"]["schema"]
    wrapped = dict(schema)
    wrapped["components"] = doc["components"]
    validator = jsonschema.Draft202012Validator(wrapped)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        sys.exit(f"{method} {path} {status}: {'/'.join(map(str, e.path))}: {e.message[:300]}")


if __name__ == "__main__":
    main()
