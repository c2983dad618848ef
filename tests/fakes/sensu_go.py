#!/usr/bin/env python3
"""A fake Sensu Go backend API (the part sclman reads):
GET /api/core/v2/namespaces/NAMESPACE/events.

Shapes, from the Sensu Go 6.6 documentation and sensu-go's source:
- The events list: a JSON array of event objects {"check": {..., "metadata": {"name",
  "namespace"}}, "entity": {..., "metadata": {"name", "namespace"}}, "metrics": {"handlers",
  "points": [{"name", "value", "timestamp", "tags"}]}, "metadata": {"namespace"}, "timestamp"}
  (docs: sensu-go/6.6/api/core/events, "Get all events"; sensu-go api/core/v2/metrics.go).
  Stored in --data as a list of events of every namespace; each answer holds that namespace's.
- Pagination (docs: sensu-go/6.6/api, "Pagination"): `limit` caps the page; while more objects
  follow, the `Sensu-Continue` header carries an opaque token for `continue`; the last page has
  no such header. The token here is base64 of the next event's key (namespace/entity/check), as
  opaque as the real one.
- Authentication (docs: sensu-go/6.6/api, "Authenticate with an API key"): `Authorization: Key
  API_KEY` (or `Bearer TOKEN`). Without a valid one: 401 with the text body "Request
  unauthorized" (backend/apid/middlewares/authentication.go, Go's http.Error: text/plain,
  trailing newline).
- Other errors: JSON {"Code": N, "Message": "..."} (backend/apid/middlewares/error.go marshals
  actions.Error, which has no JSON tags; codes from actions/error.go: 0 internal, 1 invalid
  argument, 2 not found). A DATA.status file forces a status (500 -> "internal error occurred").
- Unknown route: 404 with Go's "404 page not found" text.
"""
import base64
import json
import re
import sys

import sensu_common as common

EVENTS = re.compile(r"^/api/core/v2/namespaces/([^/]+)/events$")
MESSAGES = {500: (0, "internal error occurred"), 400: (1, "invalid argument(s) received"),
            404: (2, "not found")}


def key_of(event):
    return "/".join([event.get("metadata", {}).get("namespace", ""),
                     event.get("entity", {}).get("metadata", {}).get("name", ""),
                     event.get("check", {}).get("metadata", {}).get("name", "")])


class GoHandler(common.Handler):
    def error(self, status, code=None, message=None):
        c, m = MESSAGES.get(status, (0, "internal error occurred"))
        body = json.dumps({"Code": c if code is None else code, "Message": message or m})
        self.reply(status, body.encode(), [("Content-Type", "application/json")])

    def do_GET(self):
        args = self.server.args
        path, params = self.split()
        auth = self.headers.get("Authorization", "")
        if auth not in ("Key " + args.api_key, "Bearer " + args.api_key):
            return self.reply(401, b"Request unauthorized\n", [
                ("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")])
        forced = common.forced_status(args.data)
        if forced:
            return self.error(forced)
        m = EVENTS.match(path)
        if not m:
            return self.reply(404, b"404 page not found\n", [("Content-Type", "text/plain; charset=utf-8")])
        namespace = m.group(1)
        events = sorted((e for e in common.load_items(args.data)
                         if e.get("metadata", {}).get("namespace") == namespace), key=key_of)
        start = 0
        token = params.get("continue", "")
        if token:
            try:
                after = base64.urlsafe_b64decode(token.encode()).decode()
            except ValueError:
                return self.error(400, message="invalid continue token")
            start = next((k for k, e in enumerate(events) if key_of(e) >= after), len(events))
        limit = int(params["limit"]) if params.get("limit", "").isdigit() else 0
        page = events[start:start + limit] if limit > 0 else events[start:]
        headers = [("Content-Type", "application/json")]
        if limit > 0 and start + limit < len(events):
            headers.append(("Sensu-Continue",
                            base64.urlsafe_b64encode(key_of(events[start + limit]).encode()).decode()))
        self.reply(200, json.dumps(page).encode(), headers)


def extra(p):
    p.add_argument("--api-key", required=True)


if __name__ == "__main__":
    sys.exit(common.serve(common.arguments("fake Sensu Go API", extra), GoHandler))
