# rabitq_index_check and rabitq_index_stats: they pass on healthy indexes of
# every metric and layout through inserts, deletes and VACUUM; who may call
# them; a flipped bit in a 1-bit code, an ex-code or a posting's ex-code,
# and the previous on-disk format version are reported cleanly; a backend's
# memory stays flat across many scans.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More tests => 36;
use VecrabitqTest;

my $gen = "$ENV{VECRABITQ_BUILD}/tools/gen_vectors";
my $node = PostgreSQL::Test::Cluster->new('check');
$node->init;
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION vecrabitq;
	CREATE TABLE seed (id int, v vector(24));
	COPY seed FROM PROGRAM '$gen 24 4000 3';
	CREATE TABLE items (id int PRIMARY KEY, owner int NOT NULL, v vector(24));
	INSERT INTO items SELECT id, id % 5, v FROM seed;
	CREATE INDEX items_l2 ON items USING rabitq (v) WITH (lists = 8);
	CREATE INDEX items_ip ON items USING rabitq (v vector_ip_ops) WITH (lists = 8);
	CREATE INDEX items_cos ON items USING rabitq (owner, v vector_cosine_ops) WITH (lists = 8);
});
my @indexes = qw(items_l2 items_ip items_cos);
my $check_all = join(', ', map { "rabitq_index_check('$_')" } @indexes);

is($node->safe_psql('postgres', "SELECT $check_all"), '4000|4000|4000', 'a fresh build checks out');
is($node->safe_psql('postgres', q{SELECT lists, entries, list_min > 0, list_max < 4000, dead_entries,
	round(drift::numeric, 2), build_rows, reindex_advised FROM rabitq_index_stats('items_l2')}),
	'8|4000|t|t|0|1.00|4000|f', 'stats after the build');

$node->safe_psql('postgres', q{
	DELETE FROM items WHERE id % 4 = 0;
	INSERT INTO items SELECT id + 10000, id % 5, v FROM seed WHERE id % 4 = 1;
	UPDATE items SET v = v + v WHERE id % 10 = 3;
});
is($node->safe_psql('postgres', 'SELECT dead_entries FROM rabitq_index_stats(\'items_l2\')'), '1600',
	'deleted and updated rows count as dead entries until VACUUM');
is($node->safe_psql('postgres', "SELECT $check_all"), '5600|5600|5600',
	'inserts, deletes and updates check out (dead entries stay until VACUUM)');
$node->safe_psql('postgres', 'VACUUM items');
is($node->safe_psql('postgres', "SELECT $check_all"), '4000|4000|4000', 'after VACUUM');
is($node->safe_psql('postgres', q{SELECT dead_entries, free_lanes >= 1600 FROM rabitq_index_stats('items_l2')}),
	'0|t', 'VACUUM turned the dead entries into free lanes');

# rows far from the trained lists: drift, and the advice to REINDEX
$node->safe_psql('postgres', q{INSERT INTO items SELECT id + 20000, 0, v + v + v + v FROM seed});
my ($drift, $advised) = split /\|/,
	$node->safe_psql('postgres', q{SELECT drift, reindex_advised FROM rabitq_index_stats('items_l2')});
cmp_ok($drift, '>', 1.2, "rows unlike the build's drift the index ($drift)");
is($advised, 't', 'and REINDEX is advised');
$node->safe_psql('postgres', 'REINDEX INDEX items_l2');
is($node->safe_psql('postgres', q{SELECT round(drift::numeric, 2), reindex_advised FROM rabitq_index_stats('items_l2')}),
	'1.00|f', 'REINDEX resets the drift');

# --- who may call them ---------------------------------------------------------
$node->safe_psql('postgres', q{
	CREATE ROLE stranger;
	CREATE ROLE owner_role;
	CREATE ROLE auditor BYPASSRLS;
	CREATE TABLE docs (id int, owner int, v vector(24));
	INSERT INTO docs SELECT id, id % 3, v FROM seed WHERE id < 500;
	CREATE INDEX docs_v ON docs USING rabitq (owner, v) WITH (lists = 2);
	ALTER TABLE docs OWNER TO owner_role;
	GRANT EXECUTE ON FUNCTION rabitq_index_stats(regclass), rabitq_index_check(regclass) TO owner_role, auditor, stranger;
});
my ($ret, $out, $err) = $node->psql('postgres', q{SET ROLE stranger; SELECT * FROM rabitq_index_stats('docs_v')});
like($err, qr/must be owner of table docs/, 'a role that does not own the table is refused');
is($node->safe_psql('postgres', q{SET ROLE owner_role; SELECT entries FROM rabitq_index_stats('docs_v')}), '500',
	'the owner may read the stats');
$node->safe_psql('postgres', q{ALTER TABLE docs ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
	CREATE POLICY p ON docs USING (owner = 1)});
($ret, $out, $err) = $node->psql('postgres', q{SET ROLE owner_role; SELECT rabitq_index_check('docs_v')});
like($err, qr/rabitq_index_check is not available for table "docs", which has row-level security/,
	'refused while row security applies to the caller');
is($node->safe_psql('postgres', q{SELECT rabitq_index_check('docs_v')}), '500', 'a superuser bypasses it');
$node->safe_psql('postgres', 'ALTER TABLE docs OWNER TO auditor');
is($node->safe_psql('postgres', q{SET ROLE auditor; SELECT entries FROM rabitq_index_stats('docs_v')}), '500',
	'an owner with BYPASSRLS may read the stats under FORCE ROW LEVEL SECURITY');
$node->safe_psql('postgres', 'CREATE ROLE plain');
($ret, $out, $err) = $node->psql('postgres', q{SET ROLE plain; SELECT rabitq_index_check('items_l2')});
like($err, qr/permission denied for function rabitq_index_check/, 'not executable by PUBLIC');
($ret, $out, $err) = $node->psql('postgres', q{SELECT rabitq_index_check('items_pkey')});
like($err, qr/"items_pkey" is not a rabitq index/, 'a btree index is refused');
($ret, $out, $err) = $node->psql('postgres', q{SELECT rabitq_index_check('items')});
like($err, qr/"items" is not an index/, 'a table is refused');

# --- memory: 10,000 scans in one session --------------------------------------
my $used = q{SELECT sum(used_bytes) FROM pg_backend_memory_contexts};
my $loop = q{DO $$ DECLARE x int; BEGIN
	FOR i IN 1..5000 LOOP
		SELECT count(*) INTO x FROM (SELECT id FROM items ORDER BY v <-> (SELECT v FROM seed WHERE id = i % 4000) LIMIT 10) s;
	END LOOP; END $$;};
my ($before, $after) = split /\n/, $node->safe_psql('postgres', qq{SET enable_seqscan = off; SET jit = off; $loop $used; $loop $used;});
cmp_ok(abs($after - $before), '<', 256 * 1024,
	"a backend's memory is flat across scans 5,000 to 10,000 ($before -> $after bytes)");

# --- pg_dump / pg_restore: options, three metrics, a key column ---------------
$node->safe_psql('postgres', q{
	ALTER INDEX items_l2 SET (probes = 3);
	CREATE INDEX items_tenant ON items USING rabitq (v vector_l2_ops, owner) WITH (lists = 4, probes = 2);
});
my $defs = q{SELECT string_agg(pg_get_indexdef(indexrelid), E'\n' ORDER BY indexrelid::regclass::text)
	FROM pg_index WHERE indrelid = 'items'::regclass};
my $q17 = '(SELECT v FROM seed WHERE id = 17)';
my $knn = join(' UNION ALL ', map {
	"SELECT (SELECT string_agg(id::text, ',') FROM (SELECT id FROM items $_ LIMIT 5) s)" } (
	"ORDER BY v <-> $q17", "ORDER BY v <#> $q17", "ORDER BY v <=> $q17", "WHERE owner = 2 ORDER BY v <-> $q17"));
my $answers = "SET enable_seqscan = off; $knn";
my $dump = $node->basedir . '/all.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('postgres') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), $dump ], 'pg_restore');
is($node->safe_psql('restored', $defs), $node->safe_psql('postgres', $defs),
	'the restored indexes have the same definitions and options');
like($node->safe_psql('restored', $defs), qr/USING rabitq \(v, owner\) WITH \(lists='4', probes='2'\)/,
	'(including the key column and the options)');
is($node->safe_psql('restored', $answers), $node->safe_psql('postgres', $answers),
	'and answer the same queries with the same rows');
my $rows = $node->safe_psql('restored', 'SELECT count(*) FROM items');
is($node->safe_psql('restored', "SELECT $check_all"), join('|', ($rows) x 3),
	"the restored indexes check out, each holding the table's $rows rows");
like($node->safe_psql('restored', "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $knn"), qr/items_ip.*items_cos/s,
	'(the answers come from the rabitq indexes)');

# --- a flipped code bit is reported -------------------------------------------
my $path = $node->data_dir . '/' . $node->safe_psql('postgres', q{SELECT pg_relation_filepath('items_ip')});
$node->stop;
open(my $fh, '+<:raw', $path) or die "open $path: $!";
my ($page, $blk) = ('', 0);
while (read($fh, $page, 8192) == 8192)
{
	my ($kind, $id) = unpack('v v', substr($page, 8188, 4));
	last if $kind == 4 && $id == 0xFF91;	# the first list page
	$blk++;
}
my $lp = unpack('V', substr($page, 24, 4));
my $item = $lp & 0x7FFF;
# the first code word of all eight lanes (some lane is in use)
for my $lane (0 .. 7)
{
	my $at = $item + 8 + 8 * $lane;
	seek($fh, $blk * 8192 + $at, 0);
	print $fh chr(ord(substr($page, $at, 1)) ^ 0x01);
}
close($fh);
$node->start;
($ret, $out, $err) = $node->psql('postgres', q{SELECT rabitq_index_check('items_ip')});
like($err, qr/rabitq index "items_ip" is corrupt.*\n.*DETAIL:  The code of heap row \(\d+,\d+\) in list \d+ does not match its vector/,
	'a flipped code bit is found and named');
$node->safe_psql('postgres', 'REINDEX INDEX items_ip');
is($node->safe_psql('postgres', q{SELECT rabitq_index_check('items_ip') > 0}), 't', 'REINDEX repairs it');

# --- flipped bits in the ex-codes of an entry and of a posting -----------------
# Flips the first byte of every 44-byte ex-code lane (D = 24: 64 padded
# dimensions, 4 bits each, and 3 floats) of the first item of the first page
# of `kind` (6: ex-codes, eight lanes an item; 5: postings, after a 40-byte
# header and a 12-byte hash and TID) in index `index`.
sub flip_ex_codes
{
	my ($index, $kind) = @_;
	my $file = $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('$index')");
	$node->stop;
	open(my $f, '+<:raw', $file) or die "open $file: $!";
	my ($pg, $b) = ('', 0);
	while (read($f, $pg, 8192) == 8192)
	{
		my ($k, $id) = unpack('v v', substr($pg, 8188, 4));
		# (a posting page with postings: its count follows the filter and the tail)
		last if $k == $kind && $id == 0xFF91 && ($kind == 6 || unpack('v', substr($pg, 24 + 36, 2)) > 0);
		$b++;
	}
	my @at = $kind == 6 ? map { (unpack('V', substr($pg, 24, 4)) & 0x7FFF) + 44 * $_ } 0 .. 7 : (24 + 40 + 12);
	for my $at (@at)
	{
		seek($f, $b * 8192 + $at, 0);
		print $f chr(ord(substr($pg, $at, 1)) ^ 0x10);
	}
	close($f);
	$node->start;
}
flip_ex_codes('items_ip', 6);
($ret, $out, $err) = $node->psql('postgres', q{SELECT rabitq_index_check('items_ip')});
like($err, qr/rabitq index "items_ip" is corrupt.*\n.*DETAIL:  The code of heap row \(\d+,\d+\) in list \d+ does not match its vector/,
	'a flipped ex-code bit is found and named');
flip_ex_codes('items_cos', 5);
($ret, $out, $err) = $node->psql('postgres', q{SELECT rabitq_index_check('items_cos')});
like($err, qr/rabitq index "items_cos" is corrupt.*\n.*DETAIL:  The posting of heap row \(\d+,\d+\) holds a code that does not match its vector/,
	'so is a flipped bit in a posting\'s ex-code');
$node->safe_psql('postgres', 'REINDEX INDEX items_ip; REINDEX INDEX items_cos');
is($node->safe_psql('postgres', q{SELECT rabitq_index_check('items_ip') > 0 AND rabitq_index_check('items_cos') > 0}),
	't', 'REINDEX repairs them');

# --- an index in the previous format version (3: four float factors a lane) ------
$path = $node->data_dir . '/' . $node->safe_psql('postgres', q{SELECT pg_relation_filepath('items_l2')});
$node->stop;
open($fh, '+<:raw', $path) or die "open $path: $!";
seek($fh, 24 + 4, 0);		# the metapage contents: magic, then the version
print $fh pack('V', 3);
close($fh);
$node->start;
my $q = q{SET enable_seqscan = off; SELECT id FROM items ORDER BY v <-> (SELECT v FROM seed WHERE id = 1) LIMIT 1};
($ret, $out, $err) = $node->psql('postgres', $q);
like($err, qr/rabitq index "items_l2" has on-disk format version 3, but this vecrabitq reads version 4\n.*HINT:  REINDEX/,
	'a scan refuses the previous format version with a REINDEX hint');
($ret, $out, $err) = $node->psql('postgres', q{INSERT INTO items SELECT 99999, 1, v FROM seed WHERE id = 1});
like($err, qr/has on-disk format version 3.*\n.*HINT:  REINDEX/, 'so does an insert');
is($node->safe_psql('postgres', 'SELECT count(*) FROM items WHERE id = 99999'), '0', 'and the row is not stored');
$node->safe_psql('postgres', 'REINDEX INDEX items_l2');
is($node->safe_psql('postgres', "$q; SELECT rabitq_index_check('items_l2') > 0"), "1\nt", 'REINDEX brings it back');

# --- the check holds a ShareLock on the table: writes wait, reads go on ---------
# An expression index whose function sleeps only where test.slow is set keeps
# one check running for 30 s; the test waits for its lock, then cancels it.
create_slow_vector($node, 0.1);
$node->safe_psql('postgres', q{
	CREATE TABLE locked (id int, v vector(24));
	INSERT INTO locked SELECT id, v FROM seed WHERE id <= 300;
	CREATE INDEX locked_v ON locked USING rabitq ((slow_v(v)::vector(24))) WITH (lists = 2);
});
my ($lock_out, $lock_err) = ('', '');
my $holder = IPC::Run::start(
	[ 'psql', '-X', '-h', $node->host, '-p', $node->port, '-d', 'postgres', '-c',
	  "SET test.slow = on; SELECT rabitq_index_check('locked_v')" ],
	'>', \$lock_out, '2>', \$lock_err);
$node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	WHERE l.relation = 'locked'::regclass AND l.mode = 'ShareLock' AND l.granted
	  AND a.state = 'active' AND a.query LIKE '%rabitq_index_check%'})
	or die 'the check never held its lock';
($ret, $out, $err) = $node->psql('postgres', q{SET lock_timeout = '100ms'; INSERT INTO locked SELECT 9999, v FROM seed WHERE id = 1},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/55P03: canceling statement due to lock timeout/, 'an insert waits for a running rabitq_index_check (ShareLock)');
is($node->safe_psql('postgres', q{SET lock_timeout = '100ms'; SELECT count(*) FROM locked}),
	$node->safe_psql('postgres', q{SELECT count(*) FROM seed WHERE id <= 300}), 'a read does not (and sees no new row)');
$node->safe_psql('postgres', q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity
	WHERE query LIKE '%rabitq_index_check(''locked_v'')%' AND pid <> pg_backend_pid()});
$holder->finish;

$node->stop;
