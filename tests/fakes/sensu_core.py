#!/usr/bin/env python3
"""A fake Sensu Core 1.x API (the part sclman reads): GET /results.

Shapes, from the Sensu Core 1.9 documentation and the sensu gem's source:
- GET /results: a JSON array of {"client": NAME, "check": {...}} (docs: sensu-core/1.9/api/
  results, "/results (GET)" example and specification). Items are stored as the API returns
  them, in --data.
- Pagination (docs: sensu-core/1.9/api/overview, "Response Content Pagination"; gem:
  lib/sensu/api/http_handler.rb `pagination`): with `limit` (and optional `offset`) the items
  are sliced and the header `X-Pagination: {"limit":L,"offset":O,"total":T}` is set; without
  `limit` everything comes back and there is no header.
- Filtering (docs overview, "Response Content Filtering"; gem: lib/sensu/api/utilities/
  filter_response_content.rb): `filter.a.b=v` keeps array items whose attribute a.b equals v
  as a string; it applies to the page, after pagination.
- Basic auth (docs: sensu-core/1.9/api/configuration `user`/`password`; gem: http_handler.rb
  `authorized?`/`unauthorized!`): 401, no body, `WWW-Authenticate: Basic realm="Restricted
  Area"`.
- Unknown routes: 404 without body (`not_found!`). Errors: 500 without body (the
  documented "Error: 500 (Internal Server Error)"), here forced with a DATA.status file.
- Headers every answer carries (docs examples): Content-type, the Access-Control-* set,
  Connection: close.
"""
import base64
import json
import sys

import sensu_common as common

CORS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS"),
    ("Access-Control-Allow-Credentials", "true"),
    ("Access-Control-Allow-Headers", "Origin, X-Requested-With, Content-Type, Accept, Authorization"),
    ("Connection", "close"),
]


def attributes_match(obj, path, value):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return False
        obj = obj[key]
    return obj == value or str(obj) == value


class CoreHandler(common.Handler):
    def do_GET(self):
        args = self.server.args
        path, params = self.split()
        if args.user:
            ok = False
            auth = self.headers.get("Authorization", "")
            scheme, _, b64 = auth.partition(" ")
            if scheme == "Basic":
                try:
                    user, _, password = base64.b64decode(b64).decode().partition(":")
                    ok = user == args.user and password == args.password
                except ValueError:
                    ok = False
            if not ok:
                return self.reply(401, b"", [("WWW-Authenticate", 'Basic realm="Restricted Area"')] + CORS)
        forced = common.forced_status(args.data)
        if forced:
            return self.reply(forced, b"", CORS)
        if path != "/results":
            return self.reply(404, b"", CORS)
        items = common.load_items(args.data)
        headers = [("Content-type", "application/json")] + CORS
        limit = params.get("limit")
        if limit is not None and limit.isdigit():
            offset = int(params["offset"]) if params.get("offset", "").isdigit() else 0
            headers.append(("X-Pagination", json.dumps(
                {"limit": int(limit), "offset": offset, "total": len(items)}, separators=(",", ":"))))
            items = items[offset:offset + int(limit)]
        for key, value in params.items():
            if key.startswith("filter."):
                items = [i for i in items if attributes_match(i, key.split(".")[1:], value)]
        self.reply(200, json.dumps(items).encode(), headers)


def extra(p):
    p.add_argument("--user", default="")
    p.add_argument("--password", default="")


if __name__ == "__main__":
    sys.exit(common.serve(common.arguments("fake Sensu Core API", extra), CoreHandler))
