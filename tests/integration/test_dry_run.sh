#!/usr/bin/env bash
# --dry-run changes nothing (state file, processes, directories) and says what it would do;
# --json reports are valid JSON with the documented keys.
. "$(dirname "$0")/lib.sh"
write_config

sc create-cluster shop --web 2 --max 4 > /dev/null
snapshot() {
  state_dump
  ls "$T/instances"
  cat "$T"/instances/*/conf/upstream.conf
}
before=$(snapshot)

sc create-cluster other --web 1 --dry-run > "$T/out"
grep -q "would create cluster 'other'" "$T/out" || fail "create-cluster --dry-run says nothing"
sc scale-out --cluster shop --to 4 --dry-run > "$T/out"
grep -q "would add 2 web instances to 'shop'" "$T/out" || fail "scale-out --dry-run: $(cat "$T/out")"
sc scale-in --cluster shop --to 1 --dry-run > "$T/out" 2>&1 || true
sc poll-load --dry-run > /dev/null
sc decide --dry-run --json > "$T/out"
jq -e '.[0].cluster == "shop" and (.[0].reason | length > 0)' "$T/out" > /dev/null || fail "decide --dry-run --json"
sc gc --dry-run > /dev/null
sc delete-cluster shop --dry-run > "$T/out"
grep -q "would delete cluster 'shop' and its 3 instances" "$T/out" || fail "delete-cluster --dry-run"
[ "$(snapshot)" = "$before" ] || fail "a --dry-run changed something"
pass "--dry-run changed nothing"

sc status --json > "$T/status.json"
jq -e '.[0] | has("name") and has("lb_address") and has("size") and has("min") and has("max")
       and has("policy") and has("last_decision") and (.lb_address | test("^127.0.0.1:[0-9]+$"))' \
  "$T/status.json" > /dev/null || fail "status --json lacks cluster keys"
jq -e '[.[0].instances[] | has("name") and has("role") and has("address") and has("state")
        and has("age_seconds")] | all' "$T/status.json" > /dev/null || fail "status --json lacks instance keys"
[ "$(jq '.[0].size' "$T/status.json")" = 2 ] || fail "size"
[ "$(jq '.[0].min' "$T/status.json")" = 2 ] || fail "min defaults to --web"
[ "$(jq '.[0].max' "$T/status.json")" = 4 ] || fail "max"
[ "$(jq -r '.[0].policy.kind' "$T/status.json")" = threshold ] || fail "policy"
# Each instance by its provider id (a local instance's directory), the cluster's balancer
# objects by theirs (the LB instance's; no listener or pool of its own: null).
for name in $(jq -r '.[0].instances[].name' "$T/status.json"); do
  id=$(jq -r --arg n "$name" '.[0].instances[] | select(.name==$n) | .provider_id' "$T/status.json")
  [ "$id" = "$name" ] && [ -d "$T/instances/$id" ] || fail "$name has provider id '$id', not its directory"
done
[ "$(jq -c '.[0].balancer_ids' "$T/status.json")" = '{"listener":null,"load_balancer":"shop-lb-1","pool":null}' ] \
  || fail "balancer ids: $(jq -c '.[0].balancer_ids' "$T/status.json")"
sc list > "$T/list.txt"
grep -q "^shop " "$T/list.txt" || fail "list alias"
sc poll-load --json | jq -e 'length == 2' > /dev/null || fail "poll-load --json"
sc gc --json | jq -e 'has("samples_pruned")' > /dev/null || fail "gc --json"
pass "--json reports carry the documented keys"
