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
# Every command that acts prints, with --json --dry-run, the document it prints when it acts,
# with "dry_run": true (man sclman(1), JSON OUTPUT). Each is kept to compare below.
dry_json() {
  local name=$1
  shift
  sc "$@" --dry-run --json > "$T/dry-$name.json" || fail "$* --dry-run --json failed"
  jq -e --arg c "$1" '.command == $c and .dry_run == true' "$T/dry-$name.json" > /dev/null \
    || fail "$* --dry-run --json: $(cat "$T/dry-$name.json")"
}
dry_json create create-cluster other --web 1
dry_json out scale-out --cluster shop --to 3
dry_json in scale-in --cluster shop --to 2
dry_json gc gc
dry_json policy set-policy shop --max 5
dry_json protect protect shop shop-web-1
dry_json report report --output "$T/www"
dry_json replace replace shop
dry_json delete delete-cluster shop
[ ! -e "$T/www" ] || fail "report --dry-run made its output directory"
jq -e '.name == "other" and .status == "creating" and .size == 0 and .desired == 1' "$T/dry-create.json" \
  > /dev/null || fail "create-cluster --dry-run --json: $(cat "$T/dry-create.json")"
jq -e '.clusters == [{"cluster": "shop", "desired_before": 2, "desired_after": 3,
        "instances": [{"name": null, "role": "web", "from": null, "to": "requested"}]}]' \
  "$T/dry-out.json" > /dev/null || fail "scale-out --dry-run --json: $(cat "$T/dry-out.json")"
jq -e '[.instances[] | .to == "gone"] | length == 3 and all' "$T/dry-delete.json" > /dev/null \
  || fail "delete-cluster --dry-run --json: $(cat "$T/dry-delete.json")"
jq -e '.rollout.id == null and .rollout.total == 2 and .rollout.to.image == "debian-12"' \
  "$T/dry-replace.json" > /dev/null || fail "replace --dry-run --json: $(cat "$T/dry-replace.json")"
jq -e '.protected == true and .changed == true' "$T/dry-protect.json" > /dev/null \
  || fail "protect --dry-run --json"
[ "$(snapshot)" = "$before" ] || fail "a --dry-run changed something"
pass "--dry-run changed nothing"

# The same commands acting: the same keys, "dry_run": false, what was done.
same_keys() {
  local name=$1
  shift
  sc "$@" --json > "$T/real-$name.json" 2> /dev/null || fail "$* --json failed"
  jq -e '.dry_run == false' "$T/real-$name.json" > /dev/null || fail "$* --json: dry_run"
  [ "$(jq -c '[paths(type != "object" and type != "array") | map(select(type == "string"))]
               | unique' "$T/real-$name.json")" \
    = "$(jq -c '[paths(type != "object" and type != "array") | map(select(type == "string"))]
               | unique' "$T/dry-$name.json")" ] \
    || fail "$* --json and --dry-run --json differ in keys: $(cat "$T/real-$name.json")"
}
same_keys out scale-out --cluster shop --to 3
jq -e '.clusters[0].desired_after == 3
       and (.clusters[0].instances | map(select(.from == null and .role == "web")) | length == 1)' \
  "$T/real-out.json" > /dev/null || fail "scale-out --json: $(cat "$T/real-out.json")"
# Now with one to drain (which one is the victim policy's choice when it runs).
dry_json in scale-in --cluster shop --to 2
jq -e '.clusters[0].instances == [{"name": null, "role": "web", "from": "in_service",
                                   "to": "draining"}]' "$T/dry-in.json" > /dev/null \
  || fail "scale-in --dry-run --json: $(cat "$T/dry-in.json")"
same_keys in scale-in --cluster shop --to 2
jq -e '.clusters[0].desired_after == 2 and .clusters[0].desired_before == 3
       and (.clusters[0].instances | map(select(.from == "in_service" and .to == "gone"))
            | length == 1)' "$T/real-in.json" > /dev/null \
  || fail "scale-in --json: $(cat "$T/real-in.json")"
same_keys protect protect shop shop-web-1
# Back to what it was (the status checks below expect max 4): the same keys either way.
same_keys policy set-policy shop --max 4
same_keys gc gc
same_keys report report --output "$T/www"
[ -s "$T/www/status.json" ] || fail "report --json wrote nothing"
pass "acting commands' --json: the --dry-run schema, with what was done"

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
sc delete-cluster shop --json > "$T/real-delete.json"
jq -e '.status == "deleted" and ([.instances[] | .to == "gone"] | length == 3 and all)' \
  "$T/real-delete.json" > /dev/null || fail "delete-cluster --json: $(cat "$T/real-delete.json")"
pass "--json reports carry the documented keys"
