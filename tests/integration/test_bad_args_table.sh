#!/usr/bin/env bash
# Table-driven bad input: every subcommand gets bad arguments and every documented config key a
# bad value. Each answer is one line naming the problem, the documented exit code (64 usage,
# 78 config), and the state file as it was. A subcommand missing from the argument table, or a
# key of etc/sclman.conf missing from the config table, fails the test, so new ones get rows.
. "$(dirname "$0")/lib.sh"
write_config

sc create-cluster shop --web 1 > /dev/null
before=$(state_dump)
TRACE=$T/trace.csv
printf 't_seconds,requests_per_second\n0,10\n60,20\n' > "$TRACE"

# An explicitly empty --state must not fall back to a state file (the config's here, the
# default in production): the rows with @EMPTY check that nothing is made there.
FALLBACK=$T/fallback/sclman.db
printf '[STATE]\npath = %s\n' "$FALLBACK" >> "$SCLMAN_CONFIG"

# Arguments: EXIT <tab> TEXT the one line must contain <tab> ARGUMENTS (split on spaces; every
# command also gets --state unless the row has one). @TRACE is the small valid trace above,
# @EMPTY an empty argument.
ARGS_TABLE='64	name is required	delete-cluster
64	no cluster named '"'"'nosuch'"'"'	delete-cluster nosuch
64	not expected: --bogus	delete-cluster shop --bogus
64	invalid cluster name	create-cluster Shop --web 1
64	--web 0 must be at least 1	create-cluster other --web 0
64	--web is required	create-cluster other
64	Could not convert: --web = many	create-cluster other --web many
64	min 3 is greater than max 2	create-cluster other --web 2 --min 3 --max 2
64	cluster '"'"'shop'"'"' already exists	create-cluster shop --web 1
64	--listen: bad address '"'"'lb.example.com:80'"'"'	create-cluster other --web 1 --listen lb.example.com:80
64	--listen: bad address '"'"'127.0.0.1:0'"'"'	create-cluster other --web 1 --listen 127.0.0.1:0
64	--listen: bad address '"'"'127.0.0.1:80;}'"'"'	create-cluster other --web 1 --listen 127.0.0.1:80;}
64	--listen 0.0.0.0 is every address of this host: add --allow-wildcard	create-cluster other --web 1 --listen 0.0.0.0:8080
64	--allow-wildcard needs --listen	create-cluster other --web 1 --allow-wildcard
64	--listen ADDR:PORT says where clients reach it	create-cluster other --web 1 --provider openstack --balancer nginx
64	--balancer server needs --provider openstack	create-cluster other --web 1 --bootstrapper chef --balancer server
64	--floating-network is for --balancer server or octavia	create-cluster other --web 1 --floating-network public
64	--server-group is for --provider openstack	create-cluster other --web 1 --server-group anti-affinity
64	--server-group '"'"'affinity'"'"': none, anti-affinity or soft-anti-affinity	create-cluster other --web 1 --server-group affinity
64	--availability-zones is for --provider openstack	create-cluster other --web 1 --availability-zones az-1
64	no cluster named '"'"'nosuch'"'"'	status nosuch
64	not expected: --bogus	status --bogus
64	no cluster named '"'"'nosuch'"'"'	list nosuch
64	no cluster named '"'"'nosuch'"'"'	poll-load --cluster nosuch
64	not expected: --bogus	poll-load --bogus
64	no cluster named '"'"'nosuch'"'"'	decide --cluster nosuch
64	not expected: --bogus	decide --bogus
64	no cluster named '"'"'nosuch'"'"'	scale-out --cluster nosuch
64	Could not convert: --to = x	scale-out --cluster shop --to x
64	--to 99 is outside [min 1, max 10]	scale-out --cluster shop --to 99
64	no cluster named '"'"'nosuch'"'"'	scale-in --cluster nosuch
64	--to 0 is outside [min 1, max 10]	scale-in --cluster shop --to 0
64	no cluster named '"'"'nosuch'"'"'	gc --cluster nosuch
64	not expected: --bogus	gc --bogus
64	--output is required	report
64	not expected: --bogus	report --output /tmp --bogus
64	no completion for shell '"'"'fish'"'"': bash or zsh	completion fish
64	unknown key '"'"'man_bogus'"'"' in section [MANAGER]	config get MANAGER man_bogus
64	key '"'"'password'"'"' in section [PROMETHEUS] is a secret: it is not shown	config get PROMETHEUS password
64	action: set not in {get}	config set MANAGER man_min
64	key is required	config get MANAGER
64	--listen: bad address	serve --listen localhost:8470
64	not expected: --bogus	serve --bogus
64	action is required	token
64	token create needs a NAME	token create
64	token create needs --role viewer, operator or admin	token create ops
64	--role: root not in	token create ops --role root
64	token name: invalid cluster name	token create Ops --role viewer
64	no token named '"'"'nosuch'"'"'	token revoke nosuch
64	token list takes no NAME	token list ops
64	--role and --force are for token create	token revoke ops --role admin
64	--role and --force are for token create	token list --force
64	a viewer'"'"'s token cannot force	token create peek --role viewer --force
64	--force needs --to	scale-out --cluster shop --force
64	--force needs --to	scale-in --cluster shop --force
64	receiver create needs a NAME	receiver create
64	receiver name: invalid cluster name	receiver create Bad --cluster shop --kind json --action hold --amount 5
64	one of --cluster NAME and --cluster-label LABEL	receiver create r --kind json --action hold --amount 5
64	--kind alertmanager or json	receiver create r --cluster shop --action hold --amount 5
64	--kind: yaml not in	receiver create r --cluster shop --kind yaml --action hold --amount 5
64	--cluster-label is for --kind alertmanager	receiver create r --cluster-label c --kind json --action hold --amount 5
64	needs --action	receiver create r --cluster shop --kind json --amount 5
64	needs --amount	receiver create r --cluster shop --kind json --action hold
64	--amount 0 is not from 1 to 86400	receiver create r --cluster shop --kind json --action hold --amount 0
64	--rate: Value 0 not in range 1 to 600	receiver create r --cluster shop --kind json --action hold --amount 5 --rate 0
64	no cluster named '"'"'nosuch'"'"'	receiver create r --cluster nosuch --kind json --action hold --amount 5
64	no receiver named '"'"'nosuch'"'"'	receiver delete nosuch
64	receiver list takes no NAME	receiver list r
64	--from is required	migrate-state --to host=127.0.0.1
64	--to is required	migrate-state --from sqlite:/nonexistent.db
64	--from must be sqlite:PATH (a state file)	migrate-state --from /x.db --to host=127.0.0.1
64	--from: no state file at '"'"'/nonexistent.db'"'"'	migrate-state --from sqlite:/nonexistent.db --to host=127.0.0.1
64	cluster is required	remove
64	instance is required	remove shop
64	no active cluster named '"'"'nosuch'"'"'	remove nosuch nosuch-web-1
64	invalid instance name	remove shop shop-web-1;x
64	cluster '"'"'shop'"'"' has no instance '"'"'shop-web-9'"'"'	remove shop shop-web-9
64	is the load balancer	remove shop shop-lb-1
64	give one of --trace FILE and --cluster NAME	simulate --capacity 1 --boot-delay 0
64	--capacity is needed with --trace	simulate --trace @TRACE --boot-delay 0
64	--days: Value 0 not in range	simulate --cluster shop --days 0 --boot-delay 0
64	--sweep: threshold not in	simulate --trace @TRACE --capacity 1 --boot-delay 0 --sweep threshold
64	cluster is required	recommend
64	no cluster named '"'"'nosuch'"'"'	recommend nosuch
64	--budget: Value 101 not in range	recommend shop --budget 101
64	--days: Value 367 not in range	recommend shop --days 367
64	cannot read trace	simulate --trace /nonexistent/trace.csv --capacity 1 --boot-delay 0
64	missing header	simulate --trace /etc/hostname --capacity 1 --boot-delay 0
64	--capacity: 0 is not greater than 0	simulate --trace @TRACE --capacity 0 --boot-delay 0
64	--capacity: '"'"'x'"'"' is not a number	simulate --trace @TRACE --capacity x --boot-delay 0
64	--boot-delay: -1 is not greater than or equal to 0	simulate --trace @TRACE --capacity 1 --boot-delay -1
64	--tick: 0 is not greater than 0	simulate --trace @TRACE --capacity 1 --boot-delay 0 --tick 0
64	unknown policy '"'"'nosuch'"'"'	simulate --trace @TRACE --capacity 1 --boot-delay 0 --policy nosuch
64	cluster is required	why
64	no cluster named '"'"'nosuch'"'"'	why nosuch
64	--last 0 must be at least 1	why shop --last 0
64	cluster is required	protect
64	instance is required	protect shop
64	no cluster named '"'"'nosuch'"'"'	protect nosuch nosuch-web-1
64	invalid instance name	protect shop shop-web-1;x
64	cluster '"'"'shop'"'"' has no instance '"'"'shop-web-9'"'"'	protect shop shop-web-9
64	is the load balancer	protect shop shop-lb-1
64	cluster is required	unprotect
64	no cluster named '"'"'nosuch'"'"'	unprotect nosuch nosuch-web-1
64	cluster is required	replace
64	no cluster named '"'"'nosuch'"'"'	replace nosuch
64	invalid cluster name	replace Shop
64	--batch: Value 0 not in range 1 to 100	replace shop --batch 0
64	--batch: Value 101 not in range 1 to 100	replace shop --batch 101
64	--pause: Value -1 not in range 0 to 86400	replace shop --pause -1
64	--min-in-service: Value -1 not in range 0 to 10000	replace shop --min-in-service -1
64	--min-in-service 2 is above the desired size of '"'"'shop'"'"' (1)	replace shop --min-in-service 2
64	--image excludes --cancel	replace shop --cancel --image x
64	no rollout of cluster '"'"'shop'"'"' is running	replace shop --cancel
64	--image '"'"''"'"': a name or id	replace shop --image @EMPTY
64	cluster is required	set-policy
64	no cluster named '"'"'nosuch'"'"'	set-policy nosuch --policy hpa
64	unknown policy '"'"'nosuch'"'"'	set-policy shop --policy nosuch
64	expected KEY=VALUE	set-policy shop --set novalue
64	error	frobnicate
64	--state: an empty path is not allowed	status --state @EMPTY
64	--state: an empty path is not allowed	create-cluster other --web 1 --state @EMPTY
64	--config: an empty path is not allowed	status --config @EMPTY
64	--config: an empty path is not allowed	gc --config @EMPTY
64	--metrics-file: an empty path is not allowed	gc --metrics-file @EMPTY'

rows=0
commands_seen=" "
while IFS=$'\t' read -r code text args; do
  [ -n "$code" ] || continue
  read -ra argv <<< "${args//@TRACE/$TRACE}"
  for i in "${!argv[@]}"; do
    [ "${argv[$i]}" != @EMPTY ] || argv[$i]=
  done
  case " $args " in
    *" --state "*) expect_exit "$code" "${argv[@]}" ;;
    *) expect_exit "$code" "${argv[@]}" --state "$DB" ;;
  esac
  expect_one_line "$text"
  [ ! -e "$FALLBACK" ] || fail "sclman ${argv[*]} used the config's state file"
  grep -q "^sclman" "$T/err" || fail "sclman ${argv[*]}: the error line does not start with 'sclman'"
  [ "$(state_dump)" = "$before" ] || fail "state changed after: sclman ${argv[*]}"
  commands_seen+="${argv[0]} "
  rows=$((rows + 1))
done <<< "$ARGS_TABLE"

# Every subcommand `sclman --help` lists has at least one row.
"$SCLMAN" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF { sub(/,$/, "", $1); print $1 }' \
  > "$T/commands"
[ "$(wc -l < "$T/commands")" -ge 10 ] || fail "could not read the subcommands from --help"
while read -r command; do
  case "$commands_seen" in
    *" $command "*) ;;
    *) fail "subcommand '$command' has no row in the bad-arguments table" ;;
  esac
done < "$T/commands"
pass "bad arguments: $rows rows over $(wc -l < "$T/commands") subcommands, exit 64, one line, state unchanged"

# Config values: SECTION <tab> KEY <tab> BAD VALUE ('' for empty). Each is written alone in a
# file; the answer is 78 and one line "FILE:2: key 'KEY': invalid value".
CONFIG_TABLE='MANAGER	man_provider	aws
MANAGER	man_flavor	''
MANAGER	man_image	''
MANAGER	man_sensitivity	0
MANAGER	man_high_load	-1
MANAGER	man_low_load	lots
MANAGER	man_cooldown	-5
MANAGER	man_min	0
MANAGER	man_max	1001
MANAGER	man_drain_seconds	3601
MANAGER	man_boot_timeout	0
MANAGER	man_failure_budget	many
MANAGER	man_decision_ttl	1.5
MANAGER	man_run_deadline	0x10
MANAGER	man_ticks_per_minute	7
MANAGER	man_retention_days	0
MANAGER	man_max_instances	100001
STATE	path	relative/sclman.db
STATE	url	''
STATE	password_file	db-password
LOCAL	nginx	nginx
LOCAL	health_timeout_ms	0
LOCAL	worker_connections	0
LOCAL	instances_dir	instances
HEALTH	path	/a b
HEALTH	interval	61
HEALTH	timeout	0
HEALTH	healthy_threshold	11
HEALTH	unhealthy_threshold	0
HEALTH	grace	1.5
LB	driver	haproxy
METRICS	source	graphite
METRICS	max_age	0
METRICS	parallel	100000
PROMETHEUS	url	127.0.0.1:9090
PROMETHEUS	query	''
PROMETHEUS	time_query	''
PROMETHEUS	label	''
PROMETHEUS	match	ip
PROMETHEUS	user	''
PROMETHEUS	password	''
PROMETHEUS	bearer_token	''
PROMETHEUS	timeout_ms	0
SENSU	url	ftp://sensu
SENSU	user	''
SENSU	password	''
SENSU	check	''
SENSU	match	address
SENSU	format	json
SENSU	metric	''
SENSU	event_load	inf
SENSU	page_size	0
SENSU	timeout_ms	-1
SENSU_GO	url	sensu:8080
SENSU_GO	namespace	''
SENSU_GO	api_key	''
OPENSTACK	cloud	''
OPENSTACK	os_auth_url	keystone.example.com:5000/v3
OPENSTACK	os_auth_type	token
OPENSTACK	os_username	''
OPENSTACK	os_password	''
OPENSTACK	os_user_domain_name	''
OPENSTACK	os_project_name	''
OPENSTACK	os_project_domain_name	''
OPENSTACK	os_application_credential_id	''
OPENSTACK	os_application_credential_secret	''
OPENSTACK	os_region_name	''
OPENSTACK	os_interface	external
OPENSTACK	network	''
OPENSTACK	floating_network	''
OPENSTACK	server_group	affinity
OPENSTACK	availability_zones	az-1,,az-2
OPENSTACK	key_name	''
OPENSTACK	security_groups	''
OPENSTACK	web_port	65536
OPENSTACK	stand_in	maybe
OPENSTACK	orphan_grace	-1
OPENSTACK	request_timeout_ms	0
OPENSTACK	token_cache	token.json
OCTAVIA	vip_subnet_id	sub net; 1
OCTAVIA	vip_network_id	../net
OCTAVIA	listener_port	0
OCTAVIA	health_path	healthz
OCTAVIA	expected_codes	ok
OCTAVIA	health_delay	0
OCTAVIA	health_timeout	3601
OCTAVIA	health_max_retries	11
OCTAVIA	active_timeout	0
SSH	ssh	ssh
SSH	ssh_keygen	bin/ssh-keygen
SSH	user	-oProxyCommand=sh
SSH	port	65536
SSH	timeout	0
CHEF	server_url	chef.example.com
CHEF	client_name	''
CHEF	client_key	sclman.pem
CHEF	validation_client_name	''
CHEF	validation_key	validator.pem
CHEF	sign_version	1.1
CHEF	lb_run_list	lb
CHEF	web_run_list	role[web],
CHEF	drain_seconds	-1
CHEF	register_timeout	5
CHEF	request_timeout_ms	0
TLS	ca_bundle	ca.pem
TLS	insecure	true
LOG	level	verbose
SERVE	listen	localhost:8470
SERVE	tls_cert	cert.pem
SERVE	tls_key	key.pem
SERVE	threads	0
SERVE	max_body_kib	0
SERVE	request_timeout	0'

keys=0
covered=" "
while IFS=$'\t' read -r section key value; do
  [ "$value" != "''" ] || value=
  printf '[%s]\n%s = %s\n' "$section" "$key" "$value" > "$T/bad.conf"
  chmod 600 "$T/bad.conf"
  expect_exit 78 status --config "$T/bad.conf" --state "$DB"
  expect_one_line "$T/bad.conf:2: key '$key': invalid value"
  covered+="$section.$key "
  keys=$((keys + 1))
done <<< "$CONFIG_TABLE"
printf '[MANAGER]\nman_min = 1\n[LOCAL]\nnginx = /usr/sbin/nginx\n[MANAGER]\nman_min = 2\n' > "$T/bad.conf"
chmod 600 "$T/bad.conf"
expect_exit 78 status --config "$T/bad.conf" --state "$DB"
expect_one_line "$T/bad.conf:6: key 'man_min' in section [MANAGER] is already set on line 2"
[ "$(state_dump)" = "$before" ] || fail "state changed after the config rows"

# Every key etc/sclman.conf documents (set or commented out) has a row.
awk '/^\[[A-Z_]+\]/ { s = substr($1, 2, length($1) - 2); next }
     /^#? ?[a-z_]+ = / { sub(/^# ?/, ""); print s "." $1 }' \
  "$SCLMAN_SOURCE_DIR/etc/sclman.conf" > "$T/keys"
[ "$(wc -l < "$T/keys")" -ge 50 ] || fail "could not read the keys of etc/sclman.conf"
while read -r key; do
  case "$covered" in
    *" $key "*) ;;
    *) fail "config key $key has no row in the bad-values table" ;;
  esac
done < "$T/keys"
pass "bad config values: $keys keys, exit 78, one line naming file, line and key"
