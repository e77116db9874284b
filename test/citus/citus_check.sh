#!/bin/bash
# Scaling out on Citus: sets up a coordinator and two workers on loopback
# from an installed Citus, loads SIFT rows into two tables distributed by
# owner and by id (32 shards each) under the README's tenant policy, runs
# the checks behind the README's "Scaling out" section and prints a
# pass/fail table.  Not part of make test: Citus is not in Debian's archive.
#
#   test/citus/citus_check.sh [DATA_DIR] [QUERIES]
#
# DATA_DIR defaults to ../shared/data/sift100k (bvecs base, fvecs queries);
# QUERIES (default 100) per check.  Needs root or the postgres user, Citus
# installed for the pg_config on PATH, and vecrabitq installed (make install).
# Exit status 1 if a check failed; 0 with a "skip" line if Citus is missing.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
data=${1:-$root/../shared/data/sift100k}
nq=${2:-100}
PG_BINDIR=$(pg_config --bindir)
libdir=$(pg_config --pkglibdir)
if [ ! -f "$libdir/citus.so" ]; then
	echo "skip: Citus is not installed for $(pg_config --version) (build it from its source, see README 'Scaling out')"
	exit 0
fi
make -s build/tools/vecs2pg >/dev/null || exit 1

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
work=$(mktemp -d /tmp/citus_check.XXXXXX)
chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown postgres: "$work"
ports=(55431 55432 55433)	# coordinator, worker 1, worker 2
names=(coordinator worker1 worker2)
cleanup() {
	for n in "${names[@]}"; do
		as_pg "$PG_BINDIR/pg_ctl" -D "$work/$n" -m immediate stop >/dev/null 2>&1
	done
	rm -rf "$work"
}
trap cleanup EXIT

# --- three nodes: superuser over loopback without a password (a test
# cluster: production uses certificates or .pgpass), every other role with
# its SCRAM password, which for tenants only the coordinator holds
for i in 0 1 2; do
	n=${names[$i]}
	as_pg "$PG_BINDIR/initdb" -D "$work/$n" -U postgres -E UTF8 --locale=C --no-sync >/dev/null 2>&1 || exit 1
	cat >>"$work/$n/postgresql.conf" <<-CONF
		listen_addresses = '127.0.0.1'
		port = ${ports[$i]}
		unix_socket_directories = '$work'
		shared_preload_libraries = 'citus'
		wal_level = logical
		max_worker_processes = 16
		max_connections = 200
		shared_buffers = 256MB
		fsync = off
	CONF
	cat >"$work/$n/pg_hba.conf" <<-HBA
		local all postgres trust
		host  all postgres 127.0.0.1/32 trust
		local all all scram-sha-256
		host  all all 127.0.0.1/32 scram-sha-256
	HBA
	as_pg "$PG_BINDIR/pg_ctl" -D "$work/$n" -l "$work/$n.log" -w start >/dev/null || { tail "$work/$n.log"; exit 1; }
done
# psql on node I (0 = coordinator) as the superuser
node() { local i=$1; shift; as_pg psql -X -q -At -v ON_ERROR_STOP=1 -h "$work" -p "${ports[$i]}" -U postgres -d postgres "$@"; }
c() { node 0 "$@"; }
for i in 0 1 2; do node "$i" -c "CREATE EXTENSION citus" || exit 1; done
c -c "SELECT citus_set_coordinator_host('127.0.0.1', ${ports[0]})" \
  -c "SELECT citus_add_node('127.0.0.1', ${ports[1]})" \
  -c "SELECT citus_add_node('127.0.0.1', ${ports[2]})" >/dev/null || exit 1

declare -a result
check() {	# NAME OK(0/1) DETAIL
	local mark=FAIL
	[ "$2" = 0 ] && mark=pass
	result+=("| $1 | $mark | $3 |")
}

# --- the extension, roles and tables, as the README says -----------------------
c -c "CREATE EXTENSION vecrabitq" || exit 1
ext=$(c -c "SELECT string_agg(result, ',') FROM run_command_on_workers(\$\$SELECT extversion FROM pg_extension WHERE extname = 'vecrabitq'\$\$)")
[ "$ext" = "$(c -c "SELECT extversion FROM pg_extension WHERE extname = 'vecrabitq'"),$(c -c "SELECT extversion FROM pg_extension WHERE extname = 'vecrabitq'")" ]
check "CREATE EXTENSION vecrabitq reaches the workers" $? "workers: $ext"

tenants=()
for t in 1 2 3 4 5 6 7 8 9; do tenants+=("0000000$t-0000-0000-0000-000000000000"); done
app_password=$(head -c 18 /dev/urandom | base64)
c -c "CREATE ROLE app LOGIN PASSWORD '$app_password'" >/dev/null || exit 1
for t in "${tenants[@]}"; do
	# LOGIN, because Citus opens the worker connections as the current role;
	# a random password nobody is told, stored only in pg_dist_authinfo
	# (readable by superusers) for the coordinator's connections
	pw=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
	c -c "CREATE ROLE \"$t\" LOGIN PASSWORD '$pw'" -c "GRANT \"$t\" TO app" \
	  -c "INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo) VALUES (0, '$t', 'password=$pw')" >/dev/null || exit 1
done

build/tools/vecs2pg "$(ls "$data"/base.*vecs)" | c -c "CREATE TABLE base (id int, v vector(128))" -c "\\copy base FROM STDIN" || exit 1
build/tools/vecs2pg --limit "$nq" "$data/query.fvecs" |
	c -c "CREATE TABLE queries (id int PRIMARY KEY, v vector(128))" -c "\\copy queries FROM STDIN" || exit 1
rows=$(c -c "SELECT count(*) FROM base")
tlist=$(printf "'%s'," "${tenants[@]}" | sed 's/,$//')
for dist in owner id; do
	tbl=items_by_$dist
	c -c "CREATE TABLE $tbl (id int NOT NULL, owner uuid NOT NULL, v vector(128) NOT NULL)" \
	  -c "ALTER TABLE $tbl ENABLE ROW LEVEL SECURITY" \
	  -c "CREATE POLICY tenant ON $tbl USING (owner = current_user::uuid)" \
	  -c "SELECT create_distributed_table('$tbl', '$dist', shard_count := 32)" \
	  -c "GRANT SELECT ON $tbl TO PUBLIC" \
	  -c "INSERT INTO $tbl SELECT id, (ARRAY[$tlist]::uuid[])[1 + id % 9], v FROM base" >/dev/null || exit 1
done
# the queries' exact answers, from a local (undistributed) copy
c -c "CREATE TABLE local_items AS SELECT id, (ARRAY[$tlist]::uuid[])[1 + id % 9] AS owner, v FROM base" \
  -c "GRANT SELECT ON queries TO PUBLIC" >/dev/null || exit 1
c -c "CREATE TABLE truth AS SELECT q.id AS qid, NULL::uuid AS owner,
		ARRAY(SELECT id FROM local_items l ORDER BY l.v <-> q.v LIMIT 10) AS ids FROM queries q
	UNION ALL SELECT q.id, o, ARRAY(SELECT id FROM local_items l WHERE l.owner = o ORDER BY l.v <-> q.v LIMIT 10)
	FROM queries q, unnest(ARRAY[$tlist]::uuid[]) o" -c "GRANT SELECT ON truth TO PUBLIC" >/dev/null || exit 1
# recall@10 against WHO's exact top-10 (NULL: the whole table's), and the rows
# returned whose owner is not WHO, over every query: each query is sent with
# its vector as a constant (Citus pushes ORDER BY ... LIMIT down to the shards
# for a constant, not for a correlated subquery)
c -c "CREATE FUNCTION answers(tbl regclass, who uuid, OUT recall numeric, OUT foreign_rows int)
	LANGUAGE plpgsql AS \$\$
DECLARE r record; got uuid[]; ids int[]; hits int := 0; total int := 0;
BEGIN
	foreign_rows := 0;
	FOR r IN SELECT q.v, t.ids FROM queries q JOIN truth t ON t.qid = q.id WHERE t.owner IS NOT DISTINCT FROM who LOOP
		EXECUTE format('SELECT array_agg(id), array_agg(owner) FROM (SELECT id, owner FROM %s ORDER BY v <-> %L::vector LIMIT 10) s',
			tbl, r.v) INTO ids, got;
		hits := hits + (SELECT count(*) FROM unnest(ids) i WHERE i = ANY (r.ids));
		total := total + cardinality(r.ids);
		foreign_rows := foreign_rows + (SELECT count(*) FROM unnest(got) o WHERE who IS NOT NULL AND o <> who);
	END LOOP;
	recall := round(hits::numeric / total, 4);
END \$\$" >/dev/null || exit 1

# --- the index, built on the shards; what the coordinator says -----------------
notices=$(c -c "CREATE INDEX items_by_owner_v ON items_by_owner USING rabitq (owner, v)" 2>&1)
check "CREATE INDEX prints nothing misleading on the coordinator" \
	"$(echo "$notices" | grep -qiE 'empty table|derived from 0|little data' && echo 1 || echo 0)" \
	"$(echo "$notices" | tr '\n' ' ' | cut -c1-120)"
c -c "CREATE INDEX items_by_id_v ON items_by_id USING rabitq (owner, v)" >/dev/null 2>&1 || exit 1
lists=$(c -c "SELECT count(*) || ' shards with rows, lists ' || min(l) || '-' || max(l) FROM (
	SELECT (string_to_array(result, ','))[1]::int AS l, (string_to_array(result, ','))[2]::int AS n
	FROM run_command_on_shards('items_by_id', \$\$SELECT s.lists || ',' || s.entries
		FROM pg_index, rabitq_index_stats(indexrelid) s WHERE indrelid = '%s'::regclass\$\$)) s WHERE n > 0")
echo "$lists" | grep -q "^32 shards with rows, lists [1-9][0-9]*-"
check "each shard's lists are visible (rabitq_index_stats via run_command_on_shards)" $? "$lists (by id)"

# as a role: c_as ROLE SQL... (the app connects with its password, then SET ROLE)
c_as() {
	local role=$1; shift
	as_pg env PGPASSWORD="$app_password" psql -X -q -At -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "${ports[0]}" -U app -d postgres -c "SET ROLE \"$role\"" "$@"
}

# --- who can log in ------------------------------------------------------------
for i in 0 1 2; do
	as_pg env PGPASSWORD=guess psql -X -q -At -h 127.0.0.1 -p "${ports[$i]}" -U "${tenants[0]}" -d postgres -c "SELECT 1" >/dev/null 2>&1
	[ $? != 0 ] || { check "nobody logs in as a tenant without its password" 1 "node $i let a guess in"; break; }
	[ $i = 2 ] && check "nobody logs in as a tenant without its password" 0 "refused by the coordinator and both workers"
done
# the README's single-node pattern (NOLOGIN) with the same password setup
c -c "CREATE ROLE \"ffffffff-0000-0000-0000-000000000000\" NOLOGIN PASSWORD 'x$app_password'" \
  -c "GRANT \"ffffffff-0000-0000-0000-000000000000\" TO app" \
  -c "INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo) VALUES (0, 'ffffffff-0000-0000-0000-000000000000', 'password=x$app_password')" >/dev/null
nologin=$(c_as ffffffff-0000-0000-0000-000000000000 -c "SELECT count(*) FROM items_by_id" 2>&1)
echo "$nologin" | grep -q "is not permitted to log in"
check "a NOLOGIN tenant role fails (Citus connects to workers as the current role)" $? "$(echo "$nologin" | grep -o 'FATAL: .*' | head -1)"

# --- plans -----------------------------------------------------------------------
t1=${tenants[0]}
q0=$(c -c "SELECT v FROM queries WHERE id = 0")
plan=$(c_as "$t1" -c "SET citus.explain_all_tasks = off" -c "EXPLAIN (COSTS OFF) SELECT id FROM items_by_owner
	ORDER BY v <-> '$q0' LIMIT 10" 2>&1)
echo "$plan" | grep -q "Index Cond: (owner = (CURRENT_USER)::uuid)"
check "on the shards the policy is an Index Cond" $? "$(echo "$plan" | grep -m1 -o 'Index Cond: .*')"
echo "$plan" | grep -q "Custom Scan (Citus Adaptive)" && echo "$plan" | grep -q "Limit" &&
	echo "$plan" | grep -q "Index Scan using items_by_owner_v" && echo "$plan" | grep -q "Order By: (v <->"
check "ORDER BY <-> LIMIT runs on each shard" $? "$(echo "$plan" | grep -m1 -o 'Task Count: [0-9]*')"
policy_tasks=$(echo "$plan" | sed -n 's/.*Task Count: \([0-9]*\).*/\1/p' | head -1)
routed=$(c_as "$t1" -c "PREPARE q(uuid) AS SELECT id FROM items_by_owner WHERE owner = \$1
	ORDER BY v <-> '$q0' LIMIT 10" \
	-c "EXPLAIN (COSTS OFF) EXECUTE q('$t1')" 2>&1 | sed -n 's/.*Task Count: \([0-9]*\).*/\1/p' | head -1)
[ "$routed" = 1 ]
check "WHERE owner = \$1 routes a tenant's query to one shard" $? "policy only: $policy_tasks tasks; with the parameter: $routed"

# --- answers ---------------------------------------------------------------------
for dist in owner id; do
	r=$(c -c "SELECT recall FROM answers('items_by_$dist', NULL)")
	awk -v r="$r" 'BEGIN { exit !(r >= 0.99) }'
	check "global recall@10 (superuser), distributed by $dist" $? "$r over $nq queries"
done
for dist in owner id; do
	worst=1; foreign=0
	for t in "${tenants[@]}"; do
		IFS='|' read -r r f <<<"$(c_as "$t" -c "SELECT * FROM answers('items_by_$dist', '$t')")"
		foreign=$((foreign + f))
		worst=$(awk -v a="$worst" -v b="$r" 'BEGIN { print (b < a) ? b : a }')
	done
	awk -v r="$worst" 'BEGIN { exit !(r >= 0.99) }'
	check "each tenant's recall@10 (policy only), distributed by $dist" $? "worst of 9 tenants: $worst"
	[ "$foreign" = 0 ]
	check "tenants see only their rows, distributed by $dist" $? "$foreign foreign rows in $((9 * nq)) queries"
done

# --- settings: which reach the shards ------------------------------------------
base_recall=$(c -c "SELECT recall FROM answers('items_by_id', NULL)")
session=$(c -c "SET rabitq.probes = 1" -c "SELECT recall FROM answers('items_by_id', NULL)")
local_set=$(c -c "BEGIN" -c "SET LOCAL citus.propagate_set_commands = 'local'" -c "SET LOCAL rabitq.probes = 1" \
	-c "SELECT recall FROM answers('items_by_id', NULL)" -c "COMMIT")
c -c "ALTER ROLE postgres SET rabitq.probes = 1" >/dev/null
by_role=$(c -c "SELECT recall FROM answers('items_by_id', NULL)")
c -c "ALTER ROLE postgres RESET rabitq.probes" >/dev/null
c -c "ALTER INDEX items_by_id_v SET (probes = 1)" >/dev/null
option=$(c -c "SELECT recall FROM answers('items_by_id', NULL)")
propagated=$(c -c "SELECT count(*) FROM run_command_on_shards('items_by_id',
	\$\$SELECT reloptions FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid WHERE i.indrelid = '%s'::regclass\$\$)
	WHERE result = '{probes=1}'")
c -c "ALTER INDEX items_by_id_v RESET (probes)" >/dev/null
[ "$session" = "$base_recall" ]
check "a session SET rabitq.probes does not reach the shards" $? "recall $base_recall default, $session after SET"
awk -v a="$local_set" -v b="$base_recall" 'BEGIN { exit !(a < b) }'
check "SET LOCAL with citus.propagate_set_commands = 'local' does" $? "recall $local_set"
awk -v a="$by_role" -v b="$base_recall" 'BEGIN { exit !(a < b) }'
check "ALTER ROLE ... SET rabitq.probes does" $? "recall $by_role"
awk -v a="$option" -v b="$base_recall" -v p="$propagated" 'BEGIN { exit !(a < b && p == 32) }'
check "ALTER INDEX ... SET (probes) reaches all shard indexes" $? "$propagated of 32 shards; recall $option"

# --- a shard move under inserts, then the moved shard's index is checked -------
shard=$(c -c "SELECT shardid FROM run_command_on_shards('items_by_owner', 'SELECT count(*) FROM %s') r
	JOIN pg_dist_shard_placement USING (shardid) WHERE nodeport = ${ports[1]} ORDER BY result::int DESC, shardid LIMIT 1")
( for i in $(seq 1 40); do
	c -c "INSERT INTO items_by_owner SELECT 1000000 + $i * 1000 + id, (ARRAY[$tlist]::uuid[])[1 + id % 9], v
		FROM base WHERE id < 200" >/dev/null 2>&1
  done ) &
inserter=$!
move=$(c -c "SELECT citus_move_shard_placement($shard, '127.0.0.1', ${ports[1]}, '127.0.0.1', ${ports[2]},
	shard_transfer_mode := 'force_logical')" 2>&1)
move_rc=$?
wait $inserter
moved_check=$(node 2 -c "SELECT rabitq_index_check(indexrelid) FROM pg_index
	WHERE indrelid = 'items_by_owner_$shard'::regclass" 2>&1)
[ $move_rc = 0 ] && [ "${moved_check:-0}" -gt 0 ] 2>/dev/null
check "citus_move_shard_placement (force_logical) under inserts; the moved index checks" $? \
	"shard $shard: $(echo "$move" | tr '\n' ' ' | cut -c1-60) check: $moved_check entries"
total=$(c -c "SELECT count(*) FROM items_by_owner")
indexed=$(c -c "SET enable_seqscan = off" -c "SELECT count(*) FROM (SELECT id FROM items_by_owner ORDER BY v <-> NULL) s" 2>&1)
[ "$total" = "$indexed" ] && [ "$total" = $((rows + 40 * 200)) ]
check "every row is still in the index after the move" $? "$total rows, $indexed through the index"

# unbalance the workers (three more shards to worker 2), then let the rebalancer even them out
for s in $(c -c "SELECT shardid FROM pg_dist_shard_placement JOIN pg_dist_shard USING (shardid)
	WHERE logicalrelid = 'items_by_owner'::regclass AND nodeport = ${ports[1]} ORDER BY shardid LIMIT 3"); do
	c -c "SELECT citus_move_shard_placement($s, '127.0.0.1', ${ports[1]}, '127.0.0.1', ${ports[2]},
		shard_transfer_mode := 'force_logical')" >/dev/null
done
before=$(c -c "SELECT string_agg(n::text, '/' ORDER BY nodeport) FROM (SELECT nodeport, count(*) n FROM pg_dist_shard_placement
	JOIN pg_dist_shard USING (shardid) WHERE logicalrelid = 'items_by_owner'::regclass GROUP BY nodeport) s")
rebalance=$(c -c "SELECT rebalance_table_shards(shard_transfer_mode := 'force_logical')" 2>&1)
reb_rc=$?
checked=$(c -c "SELECT sum(result::bigint) FROM run_command_on_shards('items_by_owner',
	\$\$SELECT rabitq_index_check(indexrelid) FROM pg_index WHERE indrelid = '%s'::regclass\$\$)" 2>&1)
placements=$(c -c "SELECT string_agg(n::text, '/' ORDER BY nodeport) FROM (SELECT nodeport, count(*) n FROM pg_dist_shard_placement
	JOIN pg_dist_shard USING (shardid) WHERE logicalrelid = 'items_by_owner'::regclass GROUP BY nodeport) s")
[ $reb_rc = 0 ] && [ "$checked" -ge "$total" ] 2>/dev/null && [ "$placements" != "$before" ]
check "rebalance_table_shards (force_logical) moves shards; every shard's index checks" $? \
	"shards per worker $before, then $placements; $checked entries checked"

# --- CREATE INDEX CONCURRENTLY ---------------------------------------------------
cic=$(c -c "CREATE INDEX CONCURRENTLY items_by_id_v2 ON items_by_id USING rabitq (v) WITH (probes = 1)" 2>&1)
cic_rc=$?
valid=$(c -c "SELECT count(*) FROM run_command_on_shards('items_by_id', \$\$SELECT indisvalid FROM pg_index
	WHERE indrelid = '%s'::regclass AND indnatts = 1\$\$) WHERE result = 't'")
[ $cic_rc = 0 ] && [ "$valid" = 32 ]
check "CREATE INDEX CONCURRENTLY builds a valid index on every shard" $? "$valid of 32 valid"
two=$(c -c "SELECT recall FROM answers('items_by_id', NULL)")
awk -v a="$two" -v b="$base_recall" 'BEGIN { exit !(a < b) }'
check "a second rabitq index on the column (probes = 1) can take over the shards' plans" $? "recall $base_recall, then $two"
c -c "DROP INDEX items_by_id_v2" >/dev/null

printf '\n| check | result | measured |\n|---|---|---|\n'
printf '%s\n' "${result[@]}"
failed=$(printf '%s\n' "${result[@]}" | grep -c '| FAIL |')
echo
echo "$(( ${#result[@]} - failed )) passed, $failed failed"
[ "$failed" = 0 ]
